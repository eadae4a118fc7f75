"""Deadlines (délais): calendar days, moved off weekends and French public holidays.

A deadline that ends on a Saturday, Sunday or public holiday moves to the next working day
(CPC art. 642 reasoning, applied by practice to the mise en demeure's payment deadline).
Public holidays are those of metropolitan France from the ``holidays`` package; Alsace-Moselle
(Good Friday, 26 December) is selected with ``subdiv="Alsace-Moselle"``.

>>> from datetime import date
>>> deadline(date(2026, 11, 3), 8)     # 11 November 2026 (Wednesday) is a holiday
datetime.date(2026, 11, 12)
>>> deadline(date(2026, 6, 12), 8)     # Saturday 20 June -> Monday 22 June
datetime.date(2026, 6, 22)
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


@lru_cache(maxsize=64)
def _french_holidays(year: int, subdiv: str | None) -> frozenset[date]:
    import holidays

    if subdiv:
        cal = holidays.country_holidays("FR", subdiv=_subdiv_code(subdiv), years=year)
    else:
        cal = holidays.country_holidays("FR", years=year)
    return frozenset(cal.keys())


def _subdiv_code(subdiv: str) -> str:
    # the holidays package names Alsace-Moselle "6AE" (and older versions "Alsace-Moselle")
    import holidays

    known = getattr(holidays.France, "subdivisions", ())
    if subdiv in known:
        return subdiv
    for alias in ("6AE", "Alsace-Moselle"):
        if subdiv.lower().startswith("alsace") and alias in known:
            return alias
    return subdiv


def is_public_holiday(d: date, subdiv: str | None = None) -> bool:
    return d in _french_holidays(d.year, subdiv)


def is_working_day(d: date, subdiv: str | None = None) -> bool:
    return d.weekday() < 5 and not is_public_holiday(d, subdiv)


def next_working_day(d: date, subdiv: str | None = None) -> date:
    """``d`` itself if it is a working day, else the next one."""
    while not is_working_day(d, subdiv):
        d += timedelta(days=1)
    return d


def deadline(start: date, days: int, subdiv: str | None = None) -> date:
    """``start`` + ``days`` calendar days, moved to the next working day if needed."""
    return next_working_day(start + timedelta(days=days), subdiv)


#: C. consom. L218-2: a professional's claim against a consumer is time-barred after 2 years.
PRESCRIPTION_CONSUMER_YEARS = 2
#: C. com. L110-4 (between traders) and C. civ. 2224 (in general): 5 years.
PRESCRIPTION_YEARS = 5
#: warn this many days before the claim becomes time-barred
PRESCRIPTION_NOTICE_DAYS = 180


def prescription_date(due: date, consumer: bool) -> date:
    """The first day an invoice falling due on ``due`` is time-barred, counting from its due
    date (the day the claim could be demanded): 2 years against a consumer (C. consom.
    L218-2), 5 years otherwise (C. com. L110-4, C. civ. 2224). An acknowledgement of the
    debt (C. civ. 2240) or a court claim (C. civ. 2241) interrupts it: not tracked here.

    >>> prescription_date(date(2024, 2, 29), True)
    datetime.date(2026, 3, 1)
    """
    years = PRESCRIPTION_CONSUMER_YEARS if consumer else PRESCRIPTION_YEARS
    try:
        end = due.replace(year=due.year + years)
    except ValueError:  # 29 February
        end = date(due.year + years, 3, 1) - timedelta(days=1)
    return end + timedelta(days=1)


def prescription_warnings(invoices, at: date, consumer: bool) -> list[str]:
    """Warnings (English, for the terminal) for invoices with a balance whose claim is
    time-barred, or will be within :data:`PRESCRIPTION_NOTICE_DAYS`. ``invoices`` are
    (number, due date, principal still owed) triples."""
    basis = "C. consom. L218-2, 2 years against a consumer" if consumer else "C. com. L110-4 / C. civ. 2224, 5 years"
    out = []
    for number, due, owed in invoices:
        if owed <= 0:
            continue
        barred = prescription_date(due, consumer)
        if at >= barred:
            out.append(f"invoice {number} (due {due}) may be time-barred since {barred} ({basis}) "
                       f"unless the debt was acknowledged (C. civ. 2240) or claimed in court since")
        elif (barred - at).days <= PRESCRIPTION_NOTICE_DAYS:
            out.append(f"invoice {number} (due {due}) becomes time-barred on {barred} ({basis}): "
                       f"a court claim or a signed acknowledgement of the debt interrupts it")
    return out
