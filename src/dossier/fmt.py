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
    return rate_digits(to_decimal(value)).replace(".", ",") + NBSP + "%"


def rate_digits(value: Decimal) -> str:
    """A percentage as a plain string with at least two decimals (the JSON form):
    ``12.5`` -> ``"12.50"``, ``3.125`` -> ``"3.125"``."""
    q = value.normalize()
    exponent = q.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < 2:
        q = value.quantize(Decimal("0.01"))
    return format(q, "f")


def date_long(d: date, nbsp: bool = False) -> str:
    """``date(2026, 12, 1)`` -> ``"1er décembre 2026"``, French legal style; ``nbsp``: with
    no-break spaces (documents: a date is never split across lines).

    >>> date_long(date(2026, 12, 1), nbsp=True) == "1er\u00a0décembre\u00a02026"
    True
    """
    from babel.dates import format_date

    s = format_date(d, "d MMMM y", locale="fr_FR")
    if d.day == 1:
        s = "1er" + s[1:]
    return s.replace(" ", NBSP) if nbsp else s


def date_long_nb(d: date) -> str:
    """:func:`date_long` with no-break spaces (the templates' ``date_long`` filter)."""
    return date_long(d, nbsp=True)


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


def siren(value: str | None) -> str:
    """``"732829320"`` -> ``"732 829 320"`` (no-break spaces); anything else unchanged.

    >>> siren("732829320") == "732\u00a0829\u00a0320"
    True
    """
    s = (value or "").replace(" ", "").replace(NBSP, "")
    return NBSP.join((s[0:3], s[3:6], s[6:9])) if len(s) == 9 and s.isdigit() else (value or "")


def slug(text: str, default: str = "document", *, lower: bool = False, limit: int | None = None) -> str:
    """A file-name-safe ASCII slug: ``"Réf. 2026/14"`` -> ``"Ref-2026-14"``; at most
    ``limit`` characters when given.

    >>> slug("Réf. 2026/14"), slug("Éte", lower=True), slug("///")
    ('Ref-2026-14', 'ete', 'document')
    """
    import re
    import unicodedata

    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-")
    if limit is not None:
        s = s[:limit].rstrip("-")
    return (s.lower() if lower else s) or default


def typo(text: str | None) -> str:
    """French typography for free text from a case file: a no-break space before ``: ; ! ?``
    and ``»``, after ``«``, and typographic apostrophes.

    >>> typo("Devis « signé » : l'original") == "Devis «\u00a0signé\u00a0»\u00a0: l\u2019original"
    True
    >>> typo("LRAR 1A 208 431 5527 3").count("\u00a0")
    4
    """
    import re

    s = (text or "").replace("'", "\u2019")
    s = re.sub(r"\s*([:;!?»])", lambda m: NBSP + m.group(1), s)
    s = re.sub(r"«\s*", "«" + NBSP, s)
    # "http://" and times like 10:30 keep their colon
    s = re.sub(r"(\w)\u00a0:(//|\d)", r"\1:\2", s)
    # a registered-letter number (La Poste: "1A 123 456 7890 1") is never split
    return re.sub(r"\b\d[A-Z](?: \d{3} \d{3} \d{4} \d)\b", lambda m: m.group(0).replace(" ", NBSP), s)


def civility_short(civility: str | None) -> str:
    """``"Madame"`` -> ``"Mme"``, ``"Monsieur"`` -> ``"M."``, else ``""``."""
    return {"Madame": "Mme", "Monsieur": "M."}.get(civility or "", "")


def of(name: str) -> str:
    """``"de "`` + name, elided before a vowel or a mute h: ``of("Antoine")`` -> ``"d’Antoine"``.

    >>> of("Antoine Dupont"), of("M. Paul Dupont"), of("Hélène")
    ('d’Antoine Dupont', 'de M. Paul Dupont', 'd’Hélène')
    """
    import unicodedata

    first = unicodedata.normalize("NFKD", name[:1]).encode("ascii", "ignore").decode().lower()
    return ("d\u2019" if first in "aeiouyh" and first else "de ") + name
