"""``dossier check PORTFOLIO`` and ``dossier report``: thin wrappers over
:mod:`dossier.portfolio` and :mod:`dossier.ageing`."""

from __future__ import annotations

from datetime import date

import click


def check_portfolio_command(path: str, at: date) -> None:
    from dossier.portfolio import check_portfolio

    result = check_portfolio(path, at)
    for p in result.problems:
        click.echo(str(p), err=p.severity == "error")
    bad = [c for c in result.cases if c.case is None]
    ok = len(result.cases) - len(bad)
    warnings = len(result.problems) - result.errors
    summary = (f"{len(result.cases)} case(s): {ok} ok, {len(bad)} with errors"
               + (f", {warnings} warning(s)" if warnings else ""))
    if bad:
        click.echo(f"{result.errors} error(s) in {path}: {summary}", err=True)
        click.get_current_context().exit(2)
    click.echo(f"ok: {summary}")
