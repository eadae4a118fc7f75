"""French formatting for documents: money, dates, rates, amounts in words.

Babel gives the locale data (month names, grouping); num2words gives French cardinals.
num2words' own currency mode is not used: it is wrong for French legal style (an int
1000000 gives "dix mille euros", it writes "zéro euros"...). Spaces inside figures are
no-break spaces (U+00A0) so that a figure is never split across lines and every font has
the glyph.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dossier.errors import DossierError

NBSP = "\u00a0"
CENT = Decimal("0.01")
MAX_WORDS = Decimal("999999999.99")


class AmountOutOfRangeError(DossierError, ValueError):
    """An amount a letter cannot write in words: bad input (exit 2), not a crash."""


def to_decimal(value: Decimal | int | str) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    return d


def cents(value: Decimal | int | str) -> Decimal:
    """Round half-up to the cent."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal | int | str, currency: str = "EUR") -> str:
    """``Decimal("1234.5")`` -> ``"1 234,50 €"`` (no-break spaces).

    >>> money(Decimal("1234.5")) == "1\u00a0234,50\u00a0€"
    True
    """
    from babel.numbers import format_currency

    s = format_currency(cents(value), currency, locale="fr_FR")
    return s.replace("\u202f", NBSP).replace(" ", NBSP)


def number(value: Decimal | int | str) -> str:
    """An amount without currency sign: ``"1 234,50"``."""
    from babel.numbers import format_decimal

    s = format_decimal(cents(value), format="#,##0.00", locale="fr_FR")
    return s.replace("\u202f", NBSP).replace(" ", NBSP)


def rate(value: Decimal | int | str) -> str:
    """A yearly percentage: ``Decimal("12.15")`` -> ``"12,15 %"``; keeps a third decimal
    when there is one (``3.125`` -> ``"3,125 %"``)."""
    from dossier.law.statement import format_rate

    return format_rate(to_decimal(value)).replace(".", ",") + NBSP + "%"


def date_long(d: date) -> str:
    """``date(2026, 12, 1)`` -> ``"1er décembre 2026"``, French legal style."""
    from babel.dates import format_date

    s = format_date(d, "d MMMM y", locale="fr_FR")
    if d.day == 1:
        s = "1er" + s[1:]
    return s


def date_short(d: date) -> str:
    """``date(2026, 11, 23)`` -> ``"23/11/2026"``."""
    return d.strftime("%d/%m/%Y")


def _cardinal(n: int) -> str:
    from num2words import num2words

    return num2words(n, lang="fr")


def amount_in_words(value: Decimal | int | str) -> str:
    """An amount in euros in French words, legal style.

    >>> amount_in_words(Decimal("1234.56"))
    'mille deux cent trente-quatre euros et cinquante-six centimes'
    >>> amount_in_words(1000000)
    "un million d'euros"
    >>> amount_in_words("0.01")
    'un centime'
    """
    amount = cents(value)
    if amount < CENT or amount > MAX_WORDS:
        raise AmountOutOfRangeError(f"amount in words is defined from 0,01 to 999 999 999,99 EUR, not {amount}: "
                                    "the claim is too large for one letter or dossier")
    euros = int(amount)
    centimes = int((amount - euros) * 100)
    parts = []
    if euros:
        words = _cardinal(euros)
        # "un million d'euros", "deux millions d'euros", but "un million deux cents euros"
        unit = "euro" if euros == 1 else "euros"
        sep = " d'" if euros % 1_000_000 == 0 else " "
        parts.append(f"{words}{sep}{unit}")
    if centimes:
        parts.append(f"{_cardinal(centimes)} {'centime' if centimes == 1 else 'centimes'}")
    return " et ".join(parts)
