"""``dossier letter`` and ``dossier plan``: thin wrappers over dossier.letters and dossier.ladder."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from dossier.commands.common import DATE, at_option, case_argument, echo_columns, rates_option, resolve_at
from dossier.stages import LETTER_STAGES


@click.command("letter")
@click.argument("stage", type=click.Choice(LETTER_STAGES), metavar="STAGE")
@case_argument
@at_option
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder to write into (default: CASE/out).")
@click.option("--format", "formats", default=None,
              help="Comma-separated: pdf (the printed letter), docx (the same, editable), eml (the email). "
                   "Default: pdf,docx,eml (pdf,docx when the case has no email addresses).")
@click.option("--send", is_flag=True,
              help="Deliver the email over SMTP (settings from DOSSIER_SMTP_* or ~/.config/dossier/smtp.toml) and record it as sent. "
                   "For a mise en demeure this is the email copy: post the LRAR and record it with --mark-sent.")
@click.option("--mark-sent", is_flag=True,
              help="Record the printed letter as posted on the --at date (the LRAR of a mise en demeure: with --lrar).")
@click.option("--force", is_flag=True,
              help="Send a stage already recorded as sent; files recorded as sent are never overwritten, new ones get a new name.")
@click.option("--lrar", "lrar_number", default=None, metavar="NUMBER",
              help="Registered-letter number printed on the mise en demeure (from the La Poste slip).")
@click.option("--templates", "templates", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="Your templates folder (same layout as the shipped templates/), searched first.")
@click.option("--deadline-days", type=click.IntRange(1, 90), default=8, show_default=True,
              help="Days given to pay by the mise en demeure and the dernier avis (moved off weekends and holidays).")
@click.option("--instalments", type=click.IntRange(1, 60), default=3, show_default=True,
              help="Échéancier: number of monthly instalments.")
@click.option("--first-instalment", type=DATE, default=None,
              help="Échéancier: date of the first instalment (default: end of next month).")
@click.option("--plan-rate", default=None, metavar="PERCENT",
              help="Échéancier: yearly interest rate on the remaining balance, e.g. 4.5 (default: none).")
@click.option("--waive-penalties", is_flag=True,
              help="Échéancier: propose the principal only, penalties waived unless the plan fails.")
@click.option("--window", default=None, metavar="TOP,LEFT,WIDTH,HEIGHT",
              help="Envelope window frame in mm from the page's top-left corner (default: the case's envelope_window, else 55,110,85,33: DL window on the right).")
@click.option("--overlay", is_flag=True, help="Draw the window frame and fold marks, to check your envelopes.")
@click.option("--smtp-config", type=click.Path(dir_okay=False), default=None,
              help="SMTP settings file (TOML, [smtp] table); default ~/.config/dossier/smtp.toml.")
@rates_option
def letter(stage, case, at, out_dir, formats, send, mark_sent, force, lrar_number, templates, deadline_days,
           instalments, first_instalment, plan_rate, waive_penalties, window, overlay, smtp_config, rates_files) -> None:
    """Write the document of STAGE for CASE: PDF letter, DOCX and email (.eml).

    STAGE is one of rappel-preventif, relance-1, relance-2, echeancier, dernier-avis,
    mise-en-demeure. Everything written is recorded in CASE/journal.jsonl with its SHA-256;
    a stage recorded as sent is not sent again without --force.
    """
    from dossier import mail
    from dossier.law.rates import load_rates
    from dossier.letters import LetterOptions, Window, parse_formats, write_stage
    from dossier.snapshot import open_case

    at = resolve_at(at)
    fmts = parse_formats(formats) if formats else None
    rate = None
    if plan_rate is not None:
        try:
            rate = Decimal(plan_rate.replace(",", "."))
            if not rate.is_finite():  # nan, Infinity
                raise InvalidOperation
        except InvalidOperation:
            raise click.BadParameter(f"{plan_rate!r} is not a percentage", param_hint="--plan-rate") from None
    options = LetterOptions(
        deadline_days=deadline_days,
        window=Window.parse(window) if window else None,
        overlay=overlay,
        lrar_number=lrar_number,
        instalments=instalments,
        first_instalment=first_instalment,
        plan_rate=rate,
        waive_penalties=waive_penalties,
        templates=tuple(templates),
    )
    if send and mark_sent:
        raise click.UsageError("--send and --mark-sent exclude each other")
    state = open_case(case, at, load_rates(rates_files), deadline_days=deadline_days)
    c = state.case
    if fmts is None:
        if c.debtor.email and c.creditor.email:
            fmts = ("pdf", "docx", "eml")
        else:
            fmts = ("pdf", "docx")
            if not send:
                click.echo("note: no email address for the debtor or the creditor: writing pdf,docx only", err=True)
    if (send or mark_sent) and out_dir is not None:
        from dossier.paths import is_inside

        if not is_inside(c.root, Path(out_dir).resolve()):  # the journal reads sent files back from the case only
            raise click.BadParameter(f"{out_dir}: a document recorded as sent is evidence: write it inside the "
                                     f"case folder {c.root}", param_hint="-o")
    smtp = mail.smtp_config(smtp_config) if send else None  # fail before writing anything
    result = write_stage(state, stage, out_dir=Path(out_dir) if out_dir else None,
                         formats=fmts, options=options, force=force, send=send, mark_sent=mark_sent, smtp=smtp)
    for p in result.paths:
        click.echo(str(p))
    if result.entry is not None:
        e = result.entry
        what = f"sent by {e.channel} to {e.recipient}" if result.sent else "recorded as generated (not sent)"
        click.echo(f"{stage}: {what}; journal: {c.journal_file}", err=True)


@click.command("plan")
@click.argument("target", type=click.Path(exists=True), metavar="CASE|PORTFOLIO")
@at_option
@click.option("--json", "as_json", is_flag=True, help='Print a list of {"case", "stage", "due_on", "channel", "reason"}.')
def plan(target, at, as_json) -> None:
    """For each case, the next stage due, when, by which channel and why.

    TARGET is a case folder or a portfolio (a folder of case folders). Reads the case files
    and their journals; writes nothing. Exit code 2 if a case cannot be read (it is listed
    with its error).
    """
    from dossier.errors import DossierError
    from dossier.ladder import PlanItem
    from dossier.law.rates import load_rates
    from dossier.snapshot import open_case

    at = resolve_at(at)
    # the décompte's imputation decides what is owed; a case past the rate tables is still
    # planned, from the principal alone
    rates = load_rates()
    root = Path(target)
    if (root / "case.yaml").is_file() or root.is_file():
        folders = [root]
    else:
        folders = sorted(p for p in root.iterdir() if (p / "case.yaml").is_file())
        if not folders:
            raise click.BadParameter(f"{target}: neither a case folder (case.yaml) nor a folder of case folders",
                                     param_hint="CASE|PORTFOLIO")
    items: list[PlanItem] = []
    failed = 0
    for folder in folders:
        try:
            items.append(open_case(folder, at, rates).plan)
        except DossierError as e:
            failed += 1
            items.append(PlanItem(folder.name, None, None, None, f"error: {e}"))
    if as_json:
        click.echo(json.dumps([i.to_json() for i in items], ensure_ascii=False, indent=2))
    else:
        echo_columns(("case", "stage", "due on", "channel", "why"),
                     [(i.case, i.stage or "—", i.due_on.isoformat() if i.due_on else "—", i.channel or "—", i.reason)
                      for i in items])
    if failed:
        click.get_current_context().exit(2)
