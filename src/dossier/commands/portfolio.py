"""``dossier check PORTFOLIO`` and ``dossier report``: thin wrappers over
:mod:`dossier.portfolio` and :mod:`dossier.ageing`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from dossier.commands.common import at_option, rates_option, resolve_at


def check_portfolio_command(path: str, at: date, rates=None) -> None:
    from dossier.portfolio import check_portfolio

    result = check_portfolio(path, at, rates)
    for p in result.problems:
        click.echo(str(p), err=p.severity == "error")
    bad = [c for c in result.cases if c.case is None]
    ok = len(result.cases) - len(bad)
    warnings = len(result.problems) - result.errors
    summary = (f"{len(result.cases)} case(s): {ok} ok, {len(bad)} with errors"
               + (f", {warnings} warning(s)" if warnings else ""))
    if bad or result.errors:
        click.echo(f"{result.errors} error(s) in {path}: {summary}", err=True)
        click.get_current_context().exit(2)
    click.echo(f"ok: {summary}")


@click.command("report")
@click.argument("portfolio", type=click.Path(exists=True, file_okay=False))
@at_option
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write the report as one self-contained HTML page.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Write one CSV row per invoice still owed.")
@click.option("--no-invoices", is_flag=True, help="In the terminal, one line per case without its invoices.")
@rates_option
def report(portfolio: str, at, html_file: str | None, csv_file: str | None, no_invoices: bool,
           rates_files: tuple[str, ...]) -> None:
    """The balance âgée of PORTFOLIO as of --at: per debtor and invoice, amounts by days
    past due (not yet due, 1–30, 31–60, 61–90, 91–120, over 120), disputed amounts apart,
    penalties and indemnities as `dossier compute` gives them, each case's stage and next
    step, amounts recovered since the first notice, and the DSO when portfolio.yaml gives
    the sales of the last 91 days. Exit code 2 if a case cannot be read (listed, left out
    of the totals)."""
    from rich.console import Console

    from dossier.ageing import portfolio_ageing
    from dossier.journal import write_atomic
    from dossier.law.rates import load_rates
    from dossier.render.ageing import csv_text, html_page, terminal_table

    at = resolve_at(at)
    result = portfolio_ageing(portfolio, at, load_rates(rates_files))
    if html_file:
        from dossier.portfolio import load_portfolio

        user_dirs = [t for t in (load_portfolio(portfolio).templates,) if t is not None]
        write_atomic(Path(html_file), html_page(result, Path(portfolio).resolve().name, user_dirs).encode("utf-8"))
    if csv_file:
        write_atomic(Path(csv_file), csv_text(result).encode("utf-8"))
    Console(soft_wrap=False, width=None if not (html_file or csv_file) else 200).print(
        terminal_table(result, invoices=not no_invoices))
    for r in result.errors:
        click.echo(f"error: {r.error}", err=True)
    if result.errors:
        click.get_current_context().exit(2)


@click.command("enrich")
@click.argument("portfolio", type=click.Path(exists=True, file_okay=False))
@click.option("--refresh", is_flag=True, help="Ask the directory again instead of using the cached answers.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing (answers are still cached).")
def enrich(portfolio: str, refresh: bool, dry_run: bool) -> None:
    """Fill or check each debtor's legal name, form, registered office and status (active
    or closed) from the public company directory of the French administration (API
    Recherche d'entreprises), by SIREN. Optional: offline, nothing changes and the exit
    code is 0. Answers are cached in PORTFOLIO/cache/sirene/; DOSSIER_SIRENE_URL sets
    another base URL. Writes the case's imported.yaml only, never case.yaml."""
    from dossier.enrich import enrich_portfolio

    results = enrich_portfolio(portfolio, refresh=refresh, dry_run=dry_run)
    for r in results:
        click.echo(f"{r.case}: {r.outcome}" + (f" (SIREN {r.siren})" if r.siren else ""))
        for n in r.notes:
            click.echo(f"  {n}")
    if any(r.outcome == "offline" for r in results):
        click.echo("the directory could not be reached: nothing was changed for those cases (enrich is optional)", err=True)
