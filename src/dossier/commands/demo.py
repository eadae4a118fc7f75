"""``dossier demo``: every document for the bundled sample cases, at a fixed date."""

from __future__ import annotations

from pathlib import Path

import click

from dossier.commands.common import DATE

DEMO_DATE = "2026-06-15"


@click.command("demo")
@click.option("-o", "--output", "output", type=click.Path(file_okay=False), default="out/demo", show_default=True,
              help="Folder to write into; each sample case is copied there first, then its documents are written to <case>/out/.")
@click.option("--at", "at", type=DATE, default=DEMO_DATE, show_default=True,
              help="Date of the run (inside the shipped rate tables).")
def demo(output: str, at) -> None:
    """Run the whole ladder on the bundled sample cases: check, décompte, every stage's
    letters and emails, and the court or bailiff dossier. Runs offline on any day."""
    from dossier.demo import run_demo
    from dossier.outputs import check_folder

    for line in run_demo(check_folder(Path(output)), at):
        click.echo(line)
