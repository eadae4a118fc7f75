"""Shared CLI pieces: parameter types and options (click only; no heavy imports)."""

from __future__ import annotations

from datetime import date

import click


class ISODate(click.ParamType):
    """A calendar date written YYYY-MM-DD (``today`` is accepted too)."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if text.lower() == "today":
            return date.today()
        from dossier.casefile import parse_iso_date

        try:  # exactly YYYY-MM-DD, within the dates the tool handles (no 9999-12-31)
            return parse_iso_date(text)
        except ValueError as e:
            self.fail(str(e), param, ctx)


DATE = ISODate()

at_option = click.option(
    "--at",
    "at",
    type=DATE,
    default=None,
    help="Computation date, YYYY-MM-DD (default: today). Same inputs and date, same output.",
)

rates_option = click.option(
    "--rates",
    "rates_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Extra rate file(s) (CSV: series,period,rate,source) overriding the shipped tables.",
)

case_argument = click.argument("case", type=click.Path(exists=False))


def resolve_at(at: date | None) -> date:
    return at or date.today()


def echo_columns(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A plain-text table: every column but the last padded to its widest cell."""
    widths = [max(len(r[k]) for r in [*rows, head]) for k in range(len(head) - 1)]
    for r in (head, *rows):
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, [*widths, 0], strict=True)).rstrip())
