"""``dossier post``: after the print job — deposit, discard, avis de réception."""

from __future__ import annotations

from pathlib import Path

import click

from dossier.commands.common import DATE, case_argument


@click.group("post")
def post() -> None:
    """Registered and ordinary letters of a print job: printed is not posted.

    A letter of a print job is recorded "printed" in its case's journal.jsonl;
    `dossier post confirm` records the deposit at the post office, and only then is the
    notice "sent": the deposit date starts the deadlines and a consumer's legal interest.
    """


@post.command("confirm")
@click.argument("batch", type=click.Path(exists=False, file_okay=False))
@click.option("--date", "on", type=DATE, default=None,
              help="Date the letters were handed to La Poste, YYYY-MM-DD (default: today).")
@click.option("--numbers", "numbers_file", type=click.Path(dir_okay=False), default=None,
              help="CSV of registered numbers from the labels: sequence,number or case,number per row.")
def confirm(batch: str, on, numbers_file: str | None) -> None:
    """Record the deposit of the print job BATCH (its folder): one "sent" entry per letter
    in its case's journal, with its registered number. A confirmed batch is immutable:
    confirming it again is refused (exit 2)."""
    from datetime import date

    from dossier.postal.batch import confirm as do_confirm
    from dossier.postal.batch import load_batch, parse_numbers

    numbers = parse_numbers(numbers_file) if numbers_file else {}
    on = on or date.today()
    written = do_confirm(batch, on, numbers)
    letters = load_batch(batch).letters
    missing = [lt for lt in letters if lt.get("registered") and not lt.get("number")]
    click.echo(f"batch {Path(batch).name}: deposited on {on.isoformat()}: {len(written)} letter(s) recorded as sent")
    for lt in missing:
        click.echo(f"warning: letter {lt['sequence']} ({lt.get('case')}): registered letter without its number "
                   "(the proof of sending): record it with --numbers next time", err=True)


@post.command("discard")
@click.argument("batch", type=click.Path(exists=False, file_okay=False))
def discard(batch: str) -> None:
    """Discard the print job BATCH before its deposit: each letter's "printed" entry is
    cancelled by a new journal line (nothing is rewritten). A confirmed batch cannot be
    discarded (exit 2)."""
    from dossier.postal.batch import discard as do_discard

    written = do_discard(batch)
    click.echo(f"batch {Path(batch).name}: discarded ({len(written)} letter(s))")


@post.command("receipt")
@case_argument
@click.option("--received", "received", type=DATE, required=True,
              help="Date the avis de réception was signed, YYYY-MM-DD.")
@click.option("--file", "file", type=click.Path(dir_okay=False), default=None,
              help="The signed avis de réception (PDF, JPEG or PNG scan): copied into the case's pieces/.")
@click.option("--stage", default=None, help="The registered letter's stage (default: the last one sent).")
def receipt(case: str, received, file: str | None, stage: str | None) -> None:
    """Record the signed avis de réception of CASE's registered letter: its date (what
    starts the deadline of a mise en demeure) and, with --file, the scan as evidence
    (copied under pieces/ with its SHA-256)."""
    from dossier.postal.batch import record_receipt

    entry = record_receipt(case, received, file, stage=stage)
    what = f", {entry.files[0].path}" if entry.files else ""
    click.echo(f"{entry.stage}: avis de réception signed on {received.isoformat()} recorded{what}")
