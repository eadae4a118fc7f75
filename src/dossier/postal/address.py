"""The recipient's postal block, to the French standard AFNOR NF Z10-011 (pure, no I/O).

What La Poste asks of an address (its guide "La norme AFNOR NF Z10-011" for business mail):

- at most 6 lines, 7 abroad where the last one is the country, in capitals, in French;
- at most 38 characters a line, spaces included; empty lines removed;
- line 1 the organisation, or the civility and name of a person; line 2 a person or a
  service ("À l'attention de …"); then the building, the number and street, the BP or
  lieu-dit; the last French line is "POSTCODE LOCALITY" in capitals, without punctuation
  ("CEDEX NN" kept after the locality);
- no punctuation from the delivery lines on; abbreviate (AVENUE → AV, SAINT → ST…) only
  where a line would be too long.

A line that still does not fit is never cut: :func:`address_problems` reports it (for
``dossier check``) and :func:`format_address` raises :class:`AddressError`, both naming
the field to change.

>>> from dossier.model import Address, Party
>>> format_address(Party("Boulangerie Dupont", Address(("5 place Grenette",), "38000", "Grenoble"), legal_form="SAS"))
('Boulangerie Dupont (SAS)', '5 place Grenette', '38000 GRENOBLE')
>>> format_address(Party("Bakkerij Peeters", Address(("Rue Haute 12",), "1000", "Bruxelles", "BE")))
('Bakkerij Peeters', 'Rue Haute 12', '1000 BRUXELLES', 'BELGIQUE')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Mapping

from dossier import fmt
from dossier.errors import DossierError, Problem
from dossier.model import Party

#: NF Z10-011: characters a line, spaces included
MAX_CHARS = 38
#: lines of a French address; abroad one more, the country
MAX_LINES = 6
MAX_LINES_ABROAD = 7

FRANCE = ("FR", "FRANCE", "FRA")

#: the country line in French capitals, for the codes a case file is likely to hold;
#: other ISO codes are named by babel's French territory names.
COUNTRY_NAMES = {
    "BE": "BELGIQUE", "CH": "SUISSE", "DE": "ALLEMAGNE", "LU": "LUXEMBOURG", "MC": "MONACO",
    "IT": "ITALIE", "ES": "ESPAGNE", "PT": "PORTUGAL", "NL": "PAYS-BAS", "GB": "ROYAUME-UNI",
    "IE": "IRLANDE", "AT": "AUTRICHE", "AD": "ANDORRE", "US": "ETATS-UNIS", "CA": "CANADA",
}

#: La Poste's abbreviations (NF Z10-011 annex), used only when a line exceeds 38 characters
ABBREVIATIONS = (
    ("ALLEE", "ALL"), ("AVENUE", "AV"), ("BOULEVARD", "BD"), ("CHEMIN", "CHE"), ("CHAUSSEE", "CHS"),
    ("FAUBOURG", "FG"), ("IMPASSE", "IMP"), ("PLACE", "PL"), ("QUARTIER", "QUA"), ("ROUTE", "RTE"),
    ("SQUARE", "SQ"), ("RESIDENCE", "RES"), ("IMMEUBLE", "IMM"), ("BATIMENT", "BAT"), ("ESCALIER", "ESC"),
    ("APPARTEMENT", "APP"), ("LIEU DIT", "LD"), ("LIEU-DIT", "LD"), ("ZONE INDUSTRIELLE", "ZI"),
    ("ZONE ARTISANALE", "ZA"), ("ZONE D'ACTIVITES", "ZA"), ("CENTRE COMMERCIAL", "CCAL"),
    ("SAINTE", "STE"), ("SAINT", "ST"), ("BIS", "B"), ("TER", "T"), ("GRANDE", "GDE"), ("GRAND", "GD"),
    ("PETITE", "PTE"), ("PETIT", "PT"), ("DOCTEUR", "DR"), ("GENERAL", "GAL"), ("MARECHAL", "MAL"),
    ("PRESIDENT", "PDT"), ("PROFESSEUR", "PR"),
)

# punctuation La Poste drops from the delivery lines (apostrophes and hyphens stay: they
# are part of names; the last line loses them too)
_PUNCT = re.compile(r"[,.;:!?\"«»()\[\]{}*_]+")
_SPACES = re.compile(r"\s+")


class AddressError(DossierError):
    """An address that cannot be printed to NF Z10-011 without cutting a line."""


@dataclass(frozen=True)
class _Line:
    text: str
    field: str  # the case-file field it comes from


def _clean(text: str) -> str:
    """NFC, control characters out, every run of spaces one space."""
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(" " if unicodedata.category(c).startswith(("C", "Z")) else c for c in text)
    return _SPACES.sub(" ", text).strip()


def _unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("Œ", "OE").replace("Æ", "AE")


def _abbreviate(text: str) -> str:
    """``text`` with La Poste's abbreviations, whole words only, case-insensitively."""
    out = text
    # same length as ``out``, one character for one, so match positions carry over
    plain = "".join((_unaccent(c).upper() or c)[0] for c in out)
    for word, short in ABBREVIATIONS:
        for m in reversed(list(re.finditer(rf"(?<![\w'-]){re.escape(word)}(?![\w'-])", plain))):
            out = out[: m.start()] + short + out[m.end():]
            plain = plain[: m.start()] + short + plain[m.end():]
    return out


def _fit(text: str) -> str:
    """``text`` if it fits, else its abbreviated form (which may still be too long; a line
    far too long for abbreviations to help is left as is, to be reported)."""
    return text if len(text) <= MAX_CHARS or len(text) > 4 * MAX_CHARS else _abbreviate(text)


def is_abroad(country: str | None) -> bool:
    return bool(country) and _clean(country).upper() not in FRANCE


def country_line(country: str) -> str:
    """The country line: the French name in capitals (``BE`` → ``BELGIQUE``)."""
    c = _clean(country).upper()
    if c in COUNTRY_NAMES:
        return COUNTRY_NAMES[c]
    if len(c) == 2 and c.isalpha():
        try:
            from babel import Locale

            name = Locale("fr").territories.get(c)
        except Exception:  # noqa: BLE001 - babel data missing: the code itself
            name = None
        if name:
            return _unaccent(name).upper()
    return _unaccent(c)


def locality_line(postal_code: str, city: str, abroad: bool = False) -> str:
    """"POSTCODE LOCALITY" in capitals without punctuation; in France also without
    accents, hyphens or apostrophes (La Poste's "libellé d'acheminement":
    Saint-Émilion → ``33330 SAINT EMILION``); ``CEDEX NN`` kept.

    >>> locality_line("69441", "Lyon Cedex 03")
    '69441 LYON CEDEX 03'
    >>> locality_line("8001", "Zürich", abroad=True)
    '8001 ZÜRICH'
    """
    city = _PUNCT.sub(" ", _clean(city)).upper()
    if not abroad:
        city = _unaccent(city).replace("-", " ").replace("'", " ").replace("’", " ")
    return _SPACES.sub(" ", f"{_clean(postal_code)} {city}").strip()


def _wrap_name(name: str) -> list[str]:
    """A name longer than a line continues on line 2 (NF Z10-011 allows the name on lines
    1 and 2), split between words; a name that two lines cannot hold stays whole (and is
    reported)."""
    if len(name) <= MAX_CHARS:
        return [name]
    words = name.split(" ")
    first = ""
    for n, word in enumerate(words):
        candidate = f"{first} {word}" if first else word
        if len(candidate) > MAX_CHARS:
            rest = " ".join(words[n:])
            return [first, rest] if first and len(rest) <= MAX_CHARS else [name]
        first = candidate
    return [name]


def _name_lines(party: Party, prefix: str) -> list[_Line]:
    civility = getattr(party, "civility", None)
    name = _clean(party.name)
    if party.is_company:
        full = f"{name} ({_clean(party.legal_form)})" if party.legal_form else name
        first = full if len(full) <= MAX_CHARS else name
    else:
        civ = fmt.civility_short(civility) or (_clean(civility) if civility else "")
        first = f"{civ} {name}" if civ else name
    out = [_Line(part, f"{prefix}.name") for part in _wrap_name(first)]
    rep = party.representative if party.is_company else None
    if rep and rep.name:
        civ = fmt.civility_short(getattr(rep, "civility", None))
        who = f"{civ} {_clean(rep.name)}" if civ else _clean(rep.name)
        # "À l’attention de Mme Anne Roche, Présidente", "… d’Antoine Mercier" (elided)
        with_title = f"À l’attention {fmt.of(who)}, {_clean(rep.title)}" if rep.title else ""
        plain = f"À l’attention {fmt.of(who)}"
        text = with_title if with_title and len(with_title) <= MAX_CHARS else plain if len(plain) <= MAX_CHARS else who
        out.append(_Line(text, f"{prefix}.representative.name"))
    return out


def _lines(party: Party, prefix: str) -> tuple[list[_Line], bool]:
    addr = party.address
    abroad = is_abroad(addr.country)
    lines = _name_lines(party, prefix)
    for n, raw in enumerate(addr.lines):
        text = _SPACES.sub(" ", _PUNCT.sub(" ", _clean(raw))).strip()
        if text:
            lines.append(_Line(_fit(text), f"{prefix}.address.lines[{n}]"))
    last = locality_line(addr.postal_code, addr.city, abroad)
    if not abroad:
        last = _fit(last)
    lines.append(_Line(last, f"{prefix}.address.city"))
    if abroad:
        lines.append(_Line(country_line(addr.country), f"{prefix}.address.country"))
    return lines, abroad


def _problems(party: Party, prefix: str) -> tuple[list[_Line], list[tuple[str, str]]]:
    lines, abroad = _lines(party, prefix)
    found: list[tuple[str, str]] = []
    if not _clean(party.name):
        found.append((f"{prefix}.name", "the recipient has no name"))
    if not _clean(party.address.city):
        found.append((f"{prefix}.address.city", "no city: the last line of an address is \"POSTCODE LOCALITY\""))
    if not _clean(party.address.postal_code) and not abroad:
        found.append((f"{prefix}.address.postal_code", "no postal code"))
    for line in lines:
        if len(line.text) > MAX_CHARS:
            found.append((line.field, f"'{line.text}' is {len(line.text)} characters; an address line holds at most "
                          f"{MAX_CHARS} (AFNOR NF Z10-011): shorten it or split it over two lines"))
    limit = MAX_LINES_ABROAD if abroad else MAX_LINES
    if len(lines) > limit:
        found.append((f"{prefix}.address.lines", f"the address takes {len(lines)} lines ({' / '.join(x.text for x in lines)}); "
                      f"at most {limit} fit an envelope window ({'7 abroad, the country last' if abroad else 'AFNOR NF Z10-011'}): "
                      "merge or remove street lines"))
    return lines, found


def format_address(party: Party, field_prefix: str = "debtor") -> tuple[str, ...]:
    """The postal block of ``party``, NF Z10-011 (see the module docstring). Raises
    :class:`AddressError` naming the field when the address does not fit."""
    lines, found = _problems(party, field_prefix)
    if found:
        where = f"{party.source.file}:{party.source.line}: " if party.source and party.source.line else ""
        raise AddressError("\n".join(f"{where}{fld}: {msg}" for fld, msg in found))
    return tuple(line.text for line in lines)


def address_problems(party: Party, field_prefix: str = "debtor", *,
                     lines: Mapping[str, int] | None = None) -> list[Problem]:
    """Every reason ``party``'s address cannot be printed to NF Z10-011, as
    :class:`~dossier.errors.Problem` records for ``dossier check``. ``lines`` maps a field
    path to its line in the case file (default: the party's own line)."""
    _, found = _problems(party, field_prefix)
    file = party.source.file if party.source else "case.yaml"
    default = party.source.line if party.source else None
    lines = lines or {}
    return [Problem(file, lines.get(fld) or lines.get(re.sub(r"\[\d+\]$", "", fld)) or default, fld, msg)
            for fld, msg in found]
