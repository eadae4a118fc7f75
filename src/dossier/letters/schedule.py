"""The échéancier's schedule: N instalments whose principal sums exactly to the balance.

Without interest the balance is split in equal instalments rounded down to the cent, the
last one taking the remainder (so the figures add up by hand). With a yearly rate, each
instalment carries the simple interest of the remaining principal over its period
(exact days / 365, as the L441-10 décompte), rounded half-up to the cent; the principal
part is still the equal split, so the total paid is the balance plus the interest shown.

>>> from datetime import date
>>> from decimal import Decimal as D
>>> s = compute_schedule(D("1000.00"), 3, date(2026, 7, 31))
>>> [(str(i.due), str(i.principal)) for i in s]
[('2026-07-31', '333.33'), ('2026-08-31', '333.33'), ('2026-09-30', '333.34')]
>>> sum(i.principal for i in s)
Decimal('1000.00')
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Instalment:
    number: int
    due: date
    principal: Decimal
    interest: Decimal
    amount: Decimal  # principal + interest
    remaining: Decimal  # principal still owed after this instalment


def add_months(d: date, months: int, day: int | None = None) -> date:
    """``d`` + ``months``, on ``day`` (default ``d.day``), clamped to the month's end."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day or d.day, last))


def compute_schedule(
    balance: Decimal,
    instalments: int,
    first_due: date,
    *,
    every_months: int = 1,
    yearly_rate: Decimal | None = None,
    start: date | None = None,
) -> tuple[Instalment, ...]:
    """The schedule for ``balance`` in ``instalments`` payments from ``first_due``.

    ``yearly_rate`` (percent) adds interest on the remaining principal from ``start``
    (default: the first due date minus one period) to each due date.
    """
    balance = Decimal(balance).quantize(CENT, rounding=ROUND_HALF_UP)
    if instalments < 1:
        raise ValueError("at least one instalment")
    if balance <= 0:
        raise ValueError("nothing to schedule: the balance is zero")
    if instalments > 1 and balance < CENT * instalments:
        instalments = int(balance / CENT)
    part = (balance / instalments).quantize(CENT, rounding=ROUND_DOWN)
    # a first instalment on a month's last day keeps every instalment on the last day
    day = 31 if first_due.day == calendar.monthrange(first_due.year, first_due.month)[1] else first_due.day
    dues = [add_months(first_due, k * every_months, day) for k in range(instalments)]
    prev = start or add_months(first_due, -every_months, first_due.day)
    remaining = balance
    out = []
    for k, due in enumerate(dues, start=1):
        principal = part if k < instalments else remaining
        interest = Decimal("0.00")
        if yearly_rate:
            days = (due - prev).days
            interest = (remaining * Decimal(yearly_rate) * days / Decimal(36500)).quantize(CENT, rounding=ROUND_HALF_UP)
        remaining -= principal
        out.append(Instalment(k, due, principal, interest, principal + interest, remaining))
        prev = due
    return tuple(out)
