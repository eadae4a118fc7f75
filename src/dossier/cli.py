"""The ``dossier`` command line: a thin layer over the library.

Command modules are imported only when their command runs, so ``dossier --help`` stays
fast (no WeasyPrint, pypdf or babel at start-up). Exit codes: 0 ok, 2 bad input (the
message names the file and field), 1 internal error.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

#: command name -> (module, attribute, one-line help shown by ``dossier --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("dossier.commands.demo", "demo", "Every document for the bundled sample cases, at a fixed date."),
    "check": ("dossier.commands.core", "check", "Validate a case folder; list every problem."),
    "compute": ("dossier.commands.core", "compute", "The décompte: principal, payments, penalties, indemnities."),
    "rates": ("dossier.commands.core", "rates", "Show or extend the ECB and legal-interest rate tables."),
    "letter": ("dossier.commands.letter", "letter", "Write (and optionally send) the document of one stage."),
    "plan": ("dossier.commands.letter", "plan", "What is due next, per case, and why."),
    "run": ("dossier.commands.run", "run", "The daily batch over a portfolio: emails sent once, letters in one print job."),
    "bundle": ("dossier.commands.bundle", "bundle", "The court or bailiff dossier: one indexed PDF."),
    "import": ("dossier.commands.imports", "import_", "Cases from the books: FEC, Factur-X/UBL/CII e-invoices, CSV exports."),
    "report": ("dossier.commands.portfolio", "report", "The balance âgée of a portfolio: terminal, HTML or CSV."),
    "enrich": ("dossier.commands.portfolio", "enrich", "Check debtors against the public company directory (optional, online)."),
    "post": ("dossier.commands.post", "post", "Print jobs after printing: deposit, discard, avis de réception."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            if os.environ.get("DOSSIER_DEBUG"):
                raise
            return _unavailable(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str) -> click.Command:
    @click.command(name, help=f"{name} (not available in this build)")
    def cmd() -> None:
        raise click.ClickException(f"the '{name}' command is not available in this build")

    return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dossier")
def cli() -> None:
    """dossier — get French businesses paid.

    From one case folder (case.yaml + evidence), produce the reminders, the mise en
    demeure with its late-penalty décompte, and the court or bailiff dossier.
    Set DOSSIER_DEBUG=1 to see tracebacks of internal errors.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point: maps library errors to exit codes, never shows a traceback for bad input."""
    from dossier.errors import DossierError

    try:
        rv = cli.main(args=argv, prog_name="dossier", standalone_mode=False)
        if isinstance(rv, int):  # ctx.exit(code) comes back as a return value
            return rv
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as e:
        e.show()
        return 2 if e.exit_code == 2 else e.exit_code
    except DossierError as e:
        click.echo(f"error: {e}", err=True)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - last resort: a message, not a traceback
        if os.environ.get("DOSSIER_DEBUG"):
            raise
        click.echo(f"internal error: {type(e).__name__}: {e} (set DOSSIER_DEBUG=1 for details)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
