"""``dossier check``, ``dossier compute`` and ``dossier rates``: thin wrappers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import click

from dossier.commands.common import at_option, case_argument, rates_option, resolve_at


@click.command("check")
@case_argument
@at_option
@rates_option
def check(case: str, at, rates_files: tuple[str, ...]) -> None:
    """Validate the case folder CASE (or its case.yaml), or every case of a portfolio
    folder, and list every problem.

    Checks the case file (keys, types, dates, amounts, SIREN/SIRET/VAT/IBAN/BIC
    checksums), the journal, and opens every evidence file as the dossier would (PDF
    readable, password right, image decodable, email parsed). Each problem is printed as
    FILE:LINE: FIELD: MESSAGE. Warnings do not fail the check. Exit code 0 when the case is
    usable, 2 when it has errors.
    """
    from dossier.law.rates import load_rates
    from dossier.portfolio import is_portfolio
    from dossier.snapshot import check_case_folder

    at = resolve_at(at)
    if is_portfolio(case):  # a folder of case folders: every case, every problem at once
        from dossier.commands.portfolio import check_portfolio_command

        return check_portfolio_command(case, at, load_rates(rates_files))
    state, problems = check_case_folder(case, at, load_rates(rates_files))
    for p in problems:
        click.echo(str(p), err=p.severity == "error")
    errors = [p for p in problems if p.severity == "error"]
    if errors or state is None:
        n = len(errors)
        click.echo(f"{n} error{'s' if n != 1 else ''} in {case}", err=True)
        click.get_current_context().exit(2)
    c = state.case
    warns = sum(1 for p in problems if p.severity == "warning")
    click.echo(f"ok: {c.reference}: {len(c.invoices)} invoice(s), "
               f"{len(state.exhibits)} exhibit(s), {len(c.notices)} notice(s)"
               + (f", {warns} warning(s)" if warns else ""))


@click.command("compute")
@case_argument
@at_option
@click.option("--json", "as_json", is_flag=True, help="Print the décompte as one JSON object (amounts as strings with two decimals; see docs/case-file.md).")
@rates_option
def compute(case: str, at, as_json: bool, rates_files: tuple[str, ...]) -> None:
    """The décompte of CASE as of --at: principal, payments, penalties or legal interest,
    flat indemnities, with every period line and its legal basis."""
    from dossier.law.rates import load_rates
    from dossier.snapshot import open_case

    # notices sent through the tool count too (a mise en demeure starts consumer interest)
    state = open_case(case, resolve_at(at), load_rates(rates_files))
    st = state.require_statement()
    c = state.case
    if as_json:
        click.echo(json.dumps(st.to_json(), ensure_ascii=False, indent=2))
        return
    from dossier.report import statement_table

    click.echo(statement_table(c, st))
    for w in (*st.warnings, *(p.message for p in state.prescription)):
        click.echo(f"warning: {w}", err=True)


@click.group("rates")
def rates() -> None:
    """Show or extend the rate tables (ECB main refinancing rate, taux d'intérêt légal).

    The shipped table ends with the last half-year our sources publish; a computation past
    it stops and names the missing rate. Add a half-year with `dossier rates add`.
    """


@rates.command("show")
@rates_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
def rates_show(rates_files: tuple[str, ...], as_json: bool) -> None:
    """Every rate row with its source and the file it was read from."""
    from dossier.law.rates import load_rates

    table = load_rates(rates_files)
    rows = table.rows()
    if as_json:
        click.echo(json.dumps([{"series": r.series, "period": r.period, "rate": format(r.rate, "f"),
                                "source": r.source, "origin": r.origin} for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r.series:14} {r.period:11} {format(r.rate, 'f'):>6} %  {r.source}  [{r.origin}]")
    click.echo(f"ECB rate known up to {table.ecb_known_until}")


def _rate(text: str | None, option: str) -> Decimal | None:
    from decimal import InvalidOperation

    if text is None:
        return None
    try:
        value = Decimal(text.replace(",", "."))
        if not value.is_finite():  # nan, Infinity
            raise InvalidOperation
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a rate in percent", param_hint=option) from None
    return value


@rates.command("add")
@click.argument("half_year")
@click.option("--ecb", help="ECB main refinancing rate (%) in force on the half-year's first day (1 January or 1 July).")
@click.option("--legal-other", help="Taux d'intérêt légal (%), 'autres cas'.")
@click.option("--legal-private", help="Taux d'intérêt légal (%), creditor a natural person not acting for professional needs.")
@click.option("--source", required=True, help="Where the rate comes from (ECB decision, arrêté and JO date).")
@click.option("--file", "file_", type=click.Path(dir_okay=False), help="Rate file to append to (default: the user rate file).")
def rates_add(half_year: str, ecb, legal_other, legal_private, source: str, file_) -> None:
    """Add the rates of HALF_YEAR (e.g. 2026-2) to your own rate file.

    Example: dossier rates add 2026-2 --legal-other 2.80 --legal-private 6.70 --source "Arrêté du ... (JO ...)"

    (The ECB rate in force on 1 July 2026 is 2.40 %, raised by the decision of 11 June 2026
    and in force from 17 June: --ecb 2.40 --source "ECB decision of 11 June 2026".)
    """
    from dossier.law.rates import add_half_year, load_rates, parse_half_year, user_rates_file

    if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in source):
        raise click.BadParameter("one line of visible text (no line break or control character)", param_hint="--source")
    year, half = parse_half_year(half_year)
    path = Path(file_) if file_ else user_rates_file()
    rows = add_half_year(path, year, half, source=source, ecb=_rate(ecb, "--ecb"),
                         legal_other=_rate(legal_other, "--legal-other"),
                         legal_private=_rate(legal_private, "--legal-private"))
    load_rates([path] if file_ else [])  # the new file must load
    for r in rows:
        click.echo(f"added {r.series} {r.period} {format(r.rate, 'f')} % to {path}")


@rates.command("import-ecb")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--file", "file_", type=click.Path(dir_okay=False), help="Rate file to append to (default: the user rate file).")
def rates_import_ecb(csv_file: str, file_) -> None:
    """Add ECB rate changes from a CSV export of the ECB data portal (series
    FM.B.U2.EUR.4F.KR.MRR_FR.LEV), downloaded by you; nothing is fetched."""
    from dossier.law.rates import (
        append_rows,
        load_rates,
        new_ecb_rows,
        parse_ecb_sdmx_csv,
        user_rates_file,
    )
    from dossier.paths import read_regular

    try:  # a regular file (never blocks on a FIFO), UTF-8 text
        text = read_regular(csv_file, "CSV_FILE").decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise click.BadParameter(f"{csv_file}: not UTF-8 text (byte {e.start}): not an ECB CSV export",
                                 param_hint="CSV_FILE") from None
    rows = parse_ecb_sdmx_csv(text, Path(csv_file).name)
    path = Path(file_) if file_ else user_rates_file()
    new = new_ecb_rows(rows, load_rates([path] if path.exists() else []))
    append_rows(path, new)
    table = load_rates([path])
    click.echo(f"{len(new)} ECB row(s) added to {path}; ECB rate known up to {table.ecb_known_until}")


@rates.command("update")
@click.option("--file", "file_", type=click.Path(dir_okay=False), help="Rate file to append to (default: the user rate file).")
def rates_update(file_) -> None:
    """Fetch the ECB main refinancing rate series (FM.B.U2.EUR.4F.KR.MRR_FR.LEV) from the
    ECB data portal and add the changes your tables lack; says what it added.

    Needs the network (set DOSSIER_ECB_URL to use another base URL). The taux d'intérêt
    légal of a new half-year is published by arrêté in the Journal officiel: add it with
    `dossier rates add HALF_YEAR --legal-other R --legal-private R --source "Arrêté du ..."`.
    """
    from dossier.law.rates import (
        append_rows,
        ecb_url,
        fetch_ecb_csv,
        load_rates,
        new_ecb_rows,
        parse_ecb_sdmx_csv,
        user_rates_file,
    )

    url = ecb_url()
    rows = parse_ecb_sdmx_csv(fetch_ecb_csv(url), url)
    path = Path(file_) if file_ else user_rates_file()
    new = new_ecb_rows(rows, load_rates([path] if path.exists() else []))
    if new:
        append_rows(path, new)
    for r in new:
        click.echo(f"added ecb-mro {r.period} {format(r.rate, 'f')} % to {path}")
    table = load_rates([path] if path.exists() else [])
    click.echo(f"{len(new)} ECB row(s) added; ECB rate known up to {table.ecb_known_until}")
