"""``dossier import fec|einvoice|csv``: thin wrappers over :mod:`dossier.imports`."""

from __future__ import annotations

from pathlib import Path

import click

into_option = click.option("--into", "into", required=True, type=click.Path(file_okay=False),
                           help="The portfolio folder (created if missing; its portfolio.yaml gives the creditor).")
dry_run_option = click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")


def _portfolio(into: str):
    from dossier.portfolio import Portfolio, load_portfolio

    p = Path(into)
    return load_portfolio(p) if p.is_dir() else Portfolio(p.resolve(), {})


def _run(result, portfolio, dry_run: bool) -> None:
    from dossier.imports.merge import apply_plan, plan_import

    plan = plan_import(portfolio, result)
    for w in plan.warnings:
        click.echo(str(w), err=True)
    shown = [c for c in plan.changes if c.action != "keep"]
    for c in shown:
        click.echo(str(c))
    new = sum(1 for cp in plan.cases if cp.new)
    updated = sum(1 for cp in plan.cases if cp.changed and not cp.new)
    summary = f"{new} new case(s), {updated} updated, {len(shown)} change(s)"
    if dry_run:
        click.echo(f"dry run: {summary}; nothing written")
        return
    apply_plan(plan)
    click.echo(f"{summary} in {portfolio.root}")
    if not (portfolio.root / "portfolio.yaml").is_file():
        click.echo(f"warning: {portfolio.root / 'portfolio.yaml'} is missing: write the creditor there "
                   "(see docs/portfolio.md), then run `dossier check` on the portfolio", err=True)


@click.group("import")
def import_() -> None:
    """Turn the books into a portfolio of cases: FEC, e-invoices (Factur-X, CII, UBL) or
    CSV exports. One case per debtor; a rerun updates amounts and payments, closes paid
    invoices, adds new ones, and never touches case.yaml, notices or the journal.
    Bad input: exit 2 with file and line, nothing written."""


@import_.command("fec")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@into_option
@dry_run_option
@click.option("--payment-days", type=click.IntRange(0, 365), default=None,
              help="Days from the piece date to the (estimated) due date; default: the portfolio's "
                   "terms.default_payment_days, else 30.")
def fec(file: str, into: str, dry_run: bool, payment_days: int | None) -> None:
    """Open customer items (accounts 411, 416) of the FEC FILE (art. A47 A-1 LPF): unlettered
    lines or unbalanced lettering groups, by auxiliary account. Due dates are estimated
    (piece date + terms) and flagged by `dossier check` until confirmed in case.yaml."""
    from dossier.imports.fec import read_fec

    portfolio = _portfolio(into)
    days = payment_days if payment_days is not None else portfolio.default_payment_days
    creditor = portfolio.settings.get("creditor") if isinstance(portfolio.settings.get("creditor"), dict) else {}
    _run(read_fec(file, days, creditor.get("siren")), portfolio, dry_run)


@import_.command("einvoice")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@into_option
@dry_run_option
def einvoice(files: tuple[str, ...], into: str, dry_run: bool) -> None:
    """Factur-X / ZUGFeRD PDFs and CII or UBL XML invoices and credit notes. The PDF becomes
    the invoice's evidence file (copied into the case's pieces/)."""
    from dossier.imports.einvoice import read_einvoices

    portfolio = _portfolio(into)
    creditor = portfolio.settings.get("creditor") if isinstance(portfolio.settings.get("creditor"), dict) else {}
    _run(read_einvoices(files, portfolio.default_payment_days, creditor), portfolio, dry_run)


@import_.command("csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@into_option
@dry_run_option
@click.option("--profile", type=click.Choice(["generic", "pennylane", "quickbooks", "sage", "odoo"]), default="generic",
              show_default=True, help="The tool that made the export: its column names and number and date formats.")
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=field",
              help="Read COLUMN as FIELD (number, customer, issued, due, amount, remaining, siren, email, account, "
                   "paid_date); repeatable.")
@click.option("--partial", is_flag=True, help="The export does not list every open invoice (e.g. filtered by date): "
                                            "do not close the invoices it leaves out.")
def csv_(file: str, into: str, dry_run: bool, profile: str, mapping: tuple[str, ...], partial: bool) -> None:
    """An invoice list or a detailed aged balance (one line per open invoice). A summary
    export (totals per customer without invoices) is refused: export the detailed one."""
    from dossier.imports.csvexport import parse_mapping, read_csv

    portfolio = _portfolio(into)
    try:
        overrides = parse_mapping(mapping)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--map") from None
    _run(read_csv(file, profile, overrides, portfolio.default_payment_days, complete=not partial), portfolio, dry_run)
