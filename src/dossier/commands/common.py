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
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a real date in the form YYYY-MM-DD", param, ctx)


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
