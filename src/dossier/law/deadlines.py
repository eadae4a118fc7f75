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
