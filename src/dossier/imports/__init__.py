"""Importers: receivables from the books (FEC, Factur-X/UBL/CII e-invoices, CSV exports)
into a portfolio of case folders.

Each reader returns an :class:`ImportResult` (values, no I/O beyond reading its input);
:mod:`dossier.imports.merge` turns it into a plan of changes to the portfolio, which the
CLI prints (``--dry-run``) or applies. Every imported value keeps its :class:`Origin`
(file and line, or XML path) so that ``dossier check`` can point at it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from dossier.errors import DossierError, Problem

#: at most this many problems are listed before an import stops reading a bad file
MAX_PROBLEMS = 50
#: the longest text value an importer keeps (names, labels, references)
MAX_TEXT = 200


class ImportFileError(DossierError):
    """An export that cannot be imported; carries every problem found (file, line, field)."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "cannot import")


class Origin(NamedTuple):
    """Where an imported value was read: file name and line, or an XML path."""

    file: str
    line: int | None = None
    xpath: str | None = None
    #: which importer: "fec", "einvoice" or "csv"
    via: str = ""

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file}
        if self.line is not None:
            out["line"] = self.line
        if self.xpath:
            out["xpath"] = self.xpath
        if self.via:
            out["via"] = self.via
        return out

    def __str__(self) -> str:
        return f"{self.file}{f':{self.line}' if self.line else ''}{f'#{self.xpath}' if self.xpath else ''}"


@dataclass(frozen=True)
class DebtorInfo:
    name: str
    account: str | None = None
    siren: str | None = None
    siret: str | None = None
    vat_number: str | None = None
    email: str | None = None
    address_lines: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    origin: Origin | None = None

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """How this debtor is recognised again: SIREN, else account, else normalised name."""
        out = []
        if self.siren:
            out.append(f"siren:{self.siren}")
        if self.account:
            out.append(f"account:{self.account}")
        out.append(f"name:{normalise_name(self.name)}")
        return tuple(out)

    @property
    def key(self) -> str:
        return self.keys[0]


class ImportedInvoice(NamedTuple):
    number: str
    issued: date
    due: date
    amount_incl_tax: Decimal
    origin: Origin
    due_estimated: bool = False
    amount_excl_tax: Decimal | None = None
    #: the books show it settled (a balanced lettering group): closes a known invoice
    settled: bool = False
    #: evidence file to copy into the case's pieces/ (an e-invoice PDF)
    file: Path | None = None
    currency: str = "EUR"
    terms_text: str | None = None
    penalty_note: str | None = None


class ImportedPayment(NamedTuple):
    id: str
    date: date
    amount: Decimal
    origin: Origin
    invoice: str | None = None
    reference: str | None = None
    settled: bool = False
    #: the export gives no payment date (an aged balance's "paid so far"): an estimate
    date_estimated: bool = False


class ImportedCreditNote(NamedTuple):
    number: str
    date: date
    amount: Decimal
    origin: Origin
    invoice: str | None = None
    settled: bool = False
    file: Path | None = None


@dataclass(frozen=True)
class DebtorItems:
    debtor: DebtorInfo
    invoices: tuple[ImportedInvoice, ...] = ()
    payments: tuple[ImportedPayment, ...] = ()
    credit_notes: tuple[ImportedCreditNote, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    #: "fec", "einvoice" or "csv"
    kind: str
    files: tuple[str, ...]
    debtors: tuple[DebtorItems, ...]
    #: the export lists every open item: a known open invoice it no longer lists is paid
    complete: bool = False
    warnings: tuple[Problem, ...] = field(default=())


def normalise_name(name: str) -> str:
    """``"SARL  Boulangerie-Dupont "`` → ``"boulangerie dupont"``: accents, case, punctuation
    and legal forms do not make two debtors."""
    text = unicodedata.normalize("NFKD", name[:MAX_TEXT]).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", text)
    forms = {"sarl", "sas", "sasu", "sa", "eurl", "sci", "snc", "ei", "eirl", "scop", "selarl"}
    kept = [w for w in words if w not in forms]
    return " ".join(kept or words)


def clean_text(value: str | None) -> str | None:
    """A label as kept: control characters dropped, spaces collapsed, length bounded."""
    if value is None:
        return None
    if len(value) <= MAX_TEXT and value.isprintable() and "  " not in value:  # the usual case, fast
        return value.strip() or None
    text = value[: MAX_TEXT * 2]
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())[:MAX_TEXT]
    return text or None


def group_by_debtor(items: list[tuple[DebtorInfo, Any]]) -> tuple[DebtorItems, ...]:
    """Invoices, payments and credit notes of the same debtor (by SIREN, else account,
    else normalised name) gathered, in first-seen order."""
    index: dict[str, int] = {}
    debtors: list[DebtorInfo] = []
    buckets: list[tuple[list, list, list]] = []
    for debtor, item in items:
        n = next((index[k] for k in debtor.keys if k in index), None)
        if n is None:
            n = len(debtors)
            debtors.append(debtor)
            buckets.append(([], [], []))
        for k in debtor.keys:
            index.setdefault(k, n)
        kind = 0 if isinstance(item, ImportedInvoice) else 1 if isinstance(item, ImportedPayment) else 2
        buckets[n][kind].append(item)
    return tuple(DebtorItems(d, tuple(b[0]), tuple(b[1]), tuple(b[2])) for d, b in zip(debtors, buckets, strict=True))
