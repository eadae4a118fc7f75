"""Load and validate a case folder (``case.yaml`` + ``pieces/``) into a :class:`~dossier.model.Case`.

Validation works like a careful clerk: it reads the whole file and reports **every**
problem at once, each as ``file:line: field.path: message``. The YAML is walked as a node
tree so that every value keeps its line, and scalars are read as written (a SIREN written
without quotes stays ``"732829320"``, never an integer).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from dossier.errors import CaseFileError, Problem
from dossier.model import (
    CHANNELS,
    EXHIBIT_KINDS,
    STAGES,
    Address,
    Bank,
    Case,
    CreditNote,
    Exhibit,
    Invoice,
    Notice,
    Party,
    Payment,
    Person,
    Source,
    Terms,
)
from dossier.paths import UnsafePathError, file_type, inside, is_folder, read_file

CASE_FILE = "case.yaml"
MAX_AMOUNT = Decimal("999999999.99")
# Bounds of untrusted input: every value, list and file has a size this tool handles, so
# that no case file can make a run slow or crash it.
MAX_TEXT = 1000  # characters in one value (a name, a title, an address line)
MAX_ITEMS = 10000  # entries in one list (invoices, payments, exhibits…)
MAX_NODES = 500_000  # YAML nodes walked (anchors and aliases included)
MAX_CASE_BYTES = 16 * 1024 * 1024
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)
ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
DECIMAL_RE = re.compile(r"[+-]?\d{1,15}(\.\d{1,10})?")
INT_RE = re.compile(r"[+-]?\d{1,9}")
#: control characters (line breaks, tabs, escape…), Unicode line separators and the
#: bidirectional overrides that make a name display as something else
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
EMAIL_RE = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[A-Za-z]{2,}$")  # one address, nothing a header would split

# --- schema ---------------------------------------------------------------------------
# A spec maps each key to (kind, required). Kinds: "str", "money", "rate", "date", "bool",
# "int", "file", "email", a nested spec dict, ("list", spec-or-kind), ("enum", values),
# ("map", kind) for free keys.
Spec = dict[str, tuple[Any, bool]]

ADDRESS: Spec = {
    "lines": (("list", "str"), True),
    "postal_code": ("str", True),
    "city": ("str", True),
    "country": ("str", False),
}
PERSON: Spec = {"name": ("str", True), "title": ("str", False)}
BANK: Spec = {"iban": ("str", True), "bic": ("str", False), "bank_name": ("str", False)}
PARTY_COMMON: Spec = {
    "name": ("str", True),
    "kind": (("enum", ("company", "consumer")), False),
    "legal_form": ("str", False),
    "capital": ("money", False),
    "siren": ("str", False),
    "siret": ("str", False),
    "rcs_city": ("str", False),
    "vat_number": ("str", False),
    "address": (ADDRESS, True),
    "email": ("email", False),
    "phone": ("str", False),
    "bank": (BANK, False),
    "payment_link": ("str", False),
    "nationality": ("str", False),
    "birth_date": ("date", False),
    "birth_place": ("str", False),
    "profession": ("str", False),
}
CREDITOR: Spec = {**PARTY_COMMON, "siren": ("str", True), "signatory": (PERSON, False)}
DEBTOR: Spec = {**PARTY_COMMON, "kind": (("enum", ("company", "consumer")), True), "representative": (PERSON, False)}
TERMS: Spec = {
    "payment_days": ("int", False),
    "penalty_rate": ("rate", False),
    "flat_indemnity": ("bool", False),
    "floor_applies_to_default": ("bool", False),
    "payment_imputation": (("enum", ("principal", "interest-first")), False),
    "interest_start": (("enum", ("received", "sent")), False),
    "creditor_is_private_person": ("bool", False),
}
INVOICE: Spec = {
    "number": ("str", True),
    "issued": ("date", True),
    "due": ("date", True),
    "amount_excl_tax": ("money", False),
    "amount_incl_tax": ("money", True),
    "file": ("file", False),
    "title": ("str", False),
}
PAYMENT: Spec = {
    "date": ("date", True),
    "amount": ("money", True),
    "invoice": ("str", False),
    "reference": ("str", False),
}
CREDIT_NOTE: Spec = {
    "number": ("str", True),
    "date": ("date", True),
    "amount": ("money", True),
    "invoice": ("str", False),
    "file": ("file", False),
}
EXHIBIT: Spec = {
    "kind": (("enum", EXHIBIT_KINDS), True),
    "title": ("str", True),
    "date": ("date", False),
    "file": ("file", True),
    "password": ("str", False),
}
NOTICE: Spec = {
    "stage": (("enum", STAGES), True),
    "date": ("date", True),
    "channel": (("enum", CHANNELS), True),
    "lrar_number": ("str", False),
    "received": ("date", False),
    "promised_date": ("date", False),
    "file": ("file", False),
    "receipt_file": ("file", False),
}
CASE: Spec = {
    "reference": ("str", False),
    "currency": (("enum", ("EUR",)), False),
    "court": ("str", False),
    "templates": ("str", False),
    "envelope_window": ("str", False),
    "ladder": (("map", "int"), False),
    "creditor": (CREDITOR, True),
    "debtor": (DEBTOR, True),
    "terms": (TERMS, False),
    "invoices": (("list", INVOICE), True),
    "payments": (("list", PAYMENT), False),
    "credit_notes": (("list", CREDIT_NOTE), False),
    "exhibits": (("list", EXHIBIT), False),
    "notices": (("list", NOTICE), False),
}


@dataclass(frozen=True)
class Value:
    """A parsed value with where it came from."""

    value: Any
    line: int
    path: str


class _TooLarge(Exception):
    """The case file has more nodes than :data:`MAX_NODES` (e.g. an alias bomb)."""


def _show(text: str, limit: int = 60) -> str:
    """A value as quoted in a message: control characters escaped, cut when long."""
    shown = CONTROL_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return shown if len(shown) <= limit else shown[:limit] + f"… ({len(text)} characters)"


def parse_iso_date(text: str) -> date:
    """A calendar date written exactly YYYY-MM-DD, between :data:`MIN_DATE` and
    :data:`MAX_DATE`; ValueError with the reason. (YAML 1.1 and Python also read
    ``2026-6-5``, ``20260605``, ``2026-W23-5`` or timestamps: a case file does not.)"""
    if not ISO_DATE_RE.fullmatch(text):
        raise ValueError(f"'{_show(text)}' is not a date (write it as YYYY-MM-DD)")
    try:
        d = date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"{text} is not a real date ({e})") from None
    if not MIN_DATE <= d <= MAX_DATE:
        raise ValueError(f"{text} is outside the dates this tool handles ({MIN_DATE} to {MAX_DATE})")
    return d


class _Reader:
    """Walks a composed YAML node tree against a spec, collecting problems."""

    def __init__(self, file_label: str, root: Path):
        self.file = file_label
        self.root = root
        self.problems: list[Problem] = []
        self.fields: set[str] = set()  # fields with a problem already (no quadratic scan)
        self.nodes = 0

    def problem(self, line: int | None, path: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.file, line, path, message, severity))
        self.fields.add(path)

    def read(self, node, spec: Any, path: str) -> Any:
        import yaml

        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge
        line = node.start_mark.line + 1
        if isinstance(spec, dict):
            if not isinstance(node, yaml.MappingNode):
                self.problem(line, path or "(top level)", f"expected a mapping of keys ({', '.join(spec)}), got {_describe(node)}")
                return None
            return self.mapping(node, spec, path)
        if isinstance(spec, tuple) and spec[0] == "list":
            if _is_null(node):
                return []
            if not isinstance(node, yaml.SequenceNode):
                self.problem(line, path, f"expected a list, got {_describe(node)}")
                return None
            if len(node.value) > MAX_ITEMS:
                self.problem(line, path, f"{len(node.value)} entries, more than the {MAX_ITEMS} this tool handles")
                return None
            return [self.read(item, spec[1], f"{path}[{n}]") for n, item in enumerate(node.value)]
        if isinstance(spec, tuple) and spec[0] == "map":
            if not isinstance(node, yaml.MappingNode):
                self.problem(line, path, f"expected a mapping, got {_describe(node)}")
                return None
            out = {}
            for k, v in node.value:
                out[str(k.value)] = self.read(v, spec[1], f"{path}.{k.value}")
            return out
        if not isinstance(node, yaml.ScalarNode):
            self.problem(line, path, f"expected a single value, got {_describe(node)}")
            return None
        if _is_null(node):
            return None
        return self.scalar(node.value, spec, line, path)

    def mapping(self, node, spec: Spec, path: str) -> dict[str, Value]:
        import yaml

        out: dict[str, Value] = {}
        seen: dict[str, int] = {}
        present: set[str] | None = None
        for knode, vnode in node.value:
            kline = knode.start_mark.line + 1
            if not isinstance(knode, yaml.ScalarNode):
                self.problem(kline, path or "(top level)", "a key must be a plain name, not a mapping or a list (check the braces and brackets)")
                continue
            key = str(knode.value)
            shown = _show(key, 40)  # a key is printed in messages: no control characters
            kpath = f"{path}.{shown}" if path else shown
            if key in seen:
                self.problem(kline, kpath, f"duplicate key (first at line {seen[key]})")
                continue
            seen[key] = kline
            if key not in spec:
                if present is None:  # once per mapping, not once per unknown key
                    present = {str(k.value) for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
                close = _closest(key[:100], spec, present)
                hint = f"; did you mean '{close}'?" if close else f"; valid keys: {', '.join(spec)}"
                self.problem(kline, kpath, f"unknown key '{_show(key)}'{hint}")
                continue
            kind, _ = spec[key]
            value = self.read(vnode, kind, kpath)
            out[key] = Value(value, vnode.start_mark.line + 1, kpath)
        line = node.start_mark.line + 1
        for key, (_, required) in spec.items():
            if required and (key not in out or out[key].value in (None, "")) and (f"{path}.{key}" if path else key) not in self.fields:
                self.problem(line, f"{path}.{key}" if path else key, "missing (required)")
        return out

    def scalar(self, raw: str, kind: Any, line: int, path: str) -> Any:
        text = str(raw).strip()
        try:
            return convert(text, kind)
        except ValueError as e:
            self.problem(line, path, str(e))
            return None


def _convert_enum(text: str, values: tuple[str, ...]) -> str:
    if text not in values:
        close = difflib.get_close_matches(text[:100], list(values), n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"'{_show(text)}' is not one of: {', '.join(values)}{hint}")
    return text


def _convert_decimal(text: str, kind: str) -> Decimal:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    try:
        if not DECIMAL_RE.fullmatch(cleaned):  # no 1e30, NaN, Infinity, 1_000
            raise InvalidOperation
        d = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{_show(text)}' is not an amount (write it like \"1234.56\", a dot for decimals)") from None
    if kind == "money" and d != d.quantize(Decimal("0.01")):
        raise ValueError(f"{text} has more than two decimals (amounts are in euros and cents)")
    return d


def _convert_bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "yes", "on", "oui"):
        return True
    if low in ("false", "no", "off", "non"):
        return False
    raise ValueError(f"'{_show(text)}' is not true or false")


def _convert_int(text: str) -> int:
    if not INT_RE.fullmatch(text):
        raise ValueError(f"'{_show(text)}' is not a whole number (at most 9 digits)")
    return int(text)


def convert(text: str, kind: Any) -> Any:
    """One scalar of the case file as ``kind`` says, or ValueError with the reason. Any
    value: one line of visible text (no control character, line break or bidirectional
    override: they would reach email headers and letters) of at most :data:`MAX_TEXT`
    characters."""
    if len(text) > MAX_TEXT:
        raise ValueError(f"{len(text)} characters, more than the {MAX_TEXT} this tool accepts in one value")
    bad = CONTROL_RE.search(text)
    if bad:
        what = "a line break" if bad.group() in "\r\n\u2028\u2029" else f"a control character (U+{ord(bad.group()):04X})"
        raise ValueError(f"'{_show(text)}' contains {what}: a value is one line of visible text")
    if isinstance(kind, tuple) and kind[0] == "enum":
        return _convert_enum(text, kind[1])
    if kind == "email" and not EMAIL_RE.match(text):
        raise ValueError(f"'{_show(text)}' is not an email address")
    if kind in ("str", "email", "file"):
        return text
    if kind in ("money", "rate"):
        return _convert_decimal(text, kind)
    if kind == "date":
        return parse_iso_date(text)
    if kind == "bool":
        return _convert_bool(text)
    if kind == "int":
        return _convert_int(text)
    raise AssertionError(kind)


def _closest(key: str, spec: Spec, present: set[str]) -> str | None:
    """The valid key a typo most likely meant: among close matches, prefer a required key
    that is missing, then a transposition (same letters), then the closest."""
    close = difflib.get_close_matches(key, list(spec), n=4, cutoff=0.6)
    if not close:
        return None

    def rank(c: str) -> tuple[bool, bool, int]:
        return (not (spec[c][1] and c not in present), sorted(c) != sorted(key), close.index(c))

    return min(close, key=rank)


def _is_null(node) -> bool:
    return node.tag == "tag:yaml.org,2002:null"


def _describe(node) -> str:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"'{node.value}'"


# --- building the model ----------------------------------------------------------------


def _v(d: dict[str, Value] | None, key: str, default: Any = None) -> Any:
    if not d or key not in d or d[key].value is None:
        return default
    return d[key].value


def _line(d: dict[str, Value] | None, key: str, fallback: int | None = None) -> int | None:
    return d[key].line if d and key in d else fallback


class _Builder:
    def __init__(self, reader: _Reader, data: dict[str, Value], at: date):
        self.r = reader
        self.data = data
        self.at = at
        self.root = reader.root

    def source(self, d: dict[str, Value] | None, path: str, line: int | None) -> Source:
        return Source(self.r.file, line, path)

    def file(self, d: dict[str, Value], key: str, path: str) -> Path | None:
        rel = _v(d, key)
        if rel is None:
            return None
        try:
            p = inside(self.root, rel, f"{path}.{key}")
        except UnsafePathError as e:
            self.r.problem(_line(d, key), f"{path}.{key}", str(e).split(": ", 1)[1])
            return None
        what = file_type(p)
        if what is not None:
            self.r.problem(_line(d, key), f"{path}.{key}", f"{rel}: {what} (paths are relative to the case folder {self.root})")
        return p

    def checked(self, d: dict[str, Value] | None, key: str, path: str, check: Callable[[str], str], label: str) -> str | None:
        raw = _v(d, key)
        if raw is None:
            return None
        try:
            return check(raw)
        except Exception as e:  # stdnum raises ValidationError subclasses
            self.r.problem(_line(d, key), f"{path}.{key}", f"'{raw}' is not a valid {label}: {_stdnum_reason(e)}")
            return raw

    def party(self, key: str) -> Party | None:
        d = _v(self.data, key)
        if not isinstance(d, dict):
            return None
        from stdnum import bic, iban
        from stdnum.eu import vat
        from stdnum.fr import siren, siret

        siren_v = self.checked(d, "siren", key, siren.validate, "SIREN (9 digits, Luhn checksum)")
        siret_v = self.checked(d, "siret", key, siret.validate, "SIRET (14 digits, Luhn checksum)")
        if siren_v and siret_v and siret_v[:9] != siren_v and not any(p.field == f"{key}.siret" for p in self.r.problems):
            self.r.problem(_line(d, "siret"), f"{key}.siret", f"SIRET {siret_v} does not start with the SIREN {siren_v}")
        vat_v = self.checked(d, "vat_number", key, vat.validate, "VAT number")
        if vat_v and siren_v and vat_v.startswith("FR") and vat_v[4:] != siren_v:
            self.r.problem(_line(d, "vat_number"), f"{key}.vat_number", f"VAT number {vat_v} does not match the SIREN {siren_v}", "warning")
        kind = _v(d, "kind", "company")
        if kind == "company" and key == "debtor" and not siren_v:
            self.r.problem(_line(d, "name"), f"{key}.siren", "no SIREN for a company debtor: the requête en injonction de payer needs it", "warning")
        addr = _v(d, "address")
        address = None
        if isinstance(addr, dict):
            cc = (_v(addr, "country") or "FR").upper()
            pc = _v(addr, "postal_code") or ""
            if cc in ("FR", "FRANCE") and pc and not re.fullmatch(r"\d{5}", pc):
                self.r.problem(_line(addr, "postal_code"), f"{key}.address.postal_code", f"'{_show(pc)}' is not a French postal code (5 digits)")
            lines = tuple(str(x) for x in (_v(addr, "lines") or []) if x is not None)
            if not lines and "lines" in addr:
                self.r.problem(_line(addr, "lines"), f"{key}.address.lines", "at least one street line is needed")
            elif len(lines) > 5:  # NF Z10-011: six lines with the name, what an envelope window shows
                self.r.problem(_line(addr, "lines"), f"{key}.address.lines", f"{len(lines)} lines: a postal address has at most 5 besides the name")
            address = Address(lines, pc, _v(addr, "city") or "", cc)
        bank = None
        b = _v(d, "bank")
        if isinstance(b, dict):
            iban_v = self.checked(b, "iban", f"{key}.bank", iban.validate, "IBAN")
            bic_v = self.checked(b, "bic", f"{key}.bank", bic.validate, "BIC")
            if iban_v:
                bank = Bank(iban_v, bic_v, _v(b, "bank_name"))

        link = _v(d, "payment_link")
        if link is not None and not re.match(r"https?://[^\s/]", link):
            self.r.problem(_line(d, "payment_link"), f"{key}.payment_link", f"'{_show(link)}' is not a web address (https://…)")

        def person(k: str) -> Person | None:
            p = _v(d, k)
            return Person(_v(p, "name"), _v(p, "title")) if isinstance(p, dict) and _v(p, "name") else None

        if address is None:
            return None
        return Party(
            name=_v(d, "name") or "", address=address, kind=kind, legal_form=_v(d, "legal_form"),
            capital=_v(d, "capital"), siren=siren_v, siret=siret_v, rcs_city=_v(d, "rcs_city"),
            vat_number=vat_v, email=_v(d, "email"), phone=_v(d, "phone"),
            signatory=person("signatory"), representative=person("representative"), bank=bank,
            payment_link=_v(d, "payment_link"), nationality=_v(d, "nationality"),
            birth_date=_v(d, "birth_date"), birth_place=_v(d, "birth_place"), profession=_v(d, "profession"),
            source=self.source(d, key, _line(self.data, key)),
        )

    def terms(self) -> Terms:
        d = _v(self.data, "terms") or {}
        rate = _v(d, "penalty_rate")
        if rate is not None and not (Decimal("0") < rate <= Decimal("100")):
            self.r.problem(_line(d, "penalty_rate"), "terms.penalty_rate", f"{rate} % is not a plausible yearly rate (0 < rate <= 100)")
            rate = None
        days = _v(d, "payment_days")
        if days is not None and not 0 <= days <= 365:
            self.r.problem(_line(d, "payment_days"), "terms.payment_days", f"{days} is not a number of days between 0 and 365")
        return Terms(
            payment_days=days, penalty_rate=rate, flat_indemnity=_v(d, "flat_indemnity", True),
            floor_applies_to_default=_v(d, "floor_applies_to_default", False),
            payment_imputation=_v(d, "payment_imputation", "principal"),
            interest_start=_v(d, "interest_start", "received"),
            creditor_is_private_person=_v(d, "creditor_is_private_person", False),
            source=self.source(d, "terms", _line(self.data, "terms")),
        )

    def items(self, key: str) -> list[tuple[dict[str, Value], str]]:
        lst = _v(self.data, key) or []
        return [(d, f"{key}[{n}]") for n, d in enumerate(lst) if isinstance(d, dict)]

    def positive(self, d: dict[str, Value], key: str, path: str) -> Decimal | None:
        amount = _v(d, key)
        if amount is None:
            return None
        if amount <= 0:
            self.r.problem(_line(d, key), f"{path}.{key}", f"{amount} must be more than zero")
            return None
        if amount > MAX_AMOUNT:
            self.r.problem(_line(d, key), f"{path}.{key}", f"{amount} is larger than this tool handles (999 999 999,99)")
            return None
        return amount

    def not_after_at(self, d: dict[str, Value], key: str, path: str, what: str) -> None:
        when = _v(d, key)
        if when is not None and when > self.at:
            self.r.problem(_line(d, key), f"{path}.{key}", f"{what} dated {when} is after the computation date {self.at} (--at)")

    def invoices(self) -> tuple[Invoice, ...]:
        out: list[Invoice] = []
        seen: dict[str, int | None] = {}
        for d, path in self.items("invoices"):
            number, issued, due = _v(d, "number"), _v(d, "issued"), _v(d, "due")
            ttc = self.positive(d, "amount_incl_tax", path)
            ht = self.positive(d, "amount_excl_tax", path)
            if number in seen:
                self.r.problem(_line(d, "number"), f"{path}.number", f"invoice number {number} appears twice (first at line {seen[number]})")
            seen[number] = _line(d, "number")
            if issued and due and due < issued:
                self.r.problem(_line(d, "due"), f"{path}.due", f"due date {due} is before the issue date {issued}")
            elif issued and due and (due - issued).days > 60:
                self.r.problem(_line(d, "due"), f"{path}.due", f"payment term of {(due - issued).days} days exceeds the 60-day maximum of C. com. L441-10", "warning")
            if ttc is not None and ht is not None and ht > ttc:
                self.r.problem(_line(d, "amount_excl_tax"), f"{path}.amount_excl_tax", f"amount excluding tax {ht} is more than the amount including tax {ttc}")
            if issued and issued > self.at:
                self.r.problem(_line(d, "issued"), f"{path}.issued", f"invoice issued {issued}, after the computation date {self.at}", "warning")
            f = self.file(d, "file", path)
            if number and issued and due and ttc is not None:
                out.append(Invoice(number, issued, due, ttc, ht, f, _v(d, "title"), self.source(d, path, _line(d, "number"))))
        total = sum((i.amount_incl_tax for i in out), Decimal(0))
        if total > MAX_AMOUNT:
            self.r.problem(_line(self.data, "invoices"), "invoices", f"{total} invoiced in all, more than this tool "
                           "handles in one case (999 999 999,99): split the claim")
        if not out and "invoices" in self.data and not any(p.field.startswith("invoices") for p in self.r.problems):
            self.r.problem(_line(self.data, "invoices"), "invoices", "at least one invoice is needed")
        return tuple(out)

    def _invoice_ref(self, d: dict[str, Value], path: str, numbers: list[str], known: set[str],
                     issued: dict[str, date], what: str) -> None:
        """The invoice a payment or credit note names must exist, and be issued by then
        (without one: the first invoice)."""
        ref = _v(d, "invoice")
        if ref is not None and ref not in known:
            # a hint only among few invoices: no quadratic search over thousands
            close = difflib.get_close_matches(ref, numbers, n=1, cutoff=0.6) if len(numbers) <= 100 else []
            listed = f"; invoices are: {', '.join(numbers)}" if len(numbers) <= 20 else ""
            hint = f"; did you mean '{close[0]}'?" if close else listed
            self.r.problem(_line(d, "invoice"), f"{path}.invoice", f"no invoice numbered '{_show(ref)}'{hint}")
            return
        when = _v(d, "date")
        first = issued.get(ref) if ref is not None else issued.get("")
        if when is not None and first is not None and when < first:
            of = f"invoice {ref}" if ref is not None else "the first invoice"
            self.r.problem(_line(d, "date"), f"{path}.date", f"{what} dated {when}, before {of} was issued ({first})")

    def issued_dates(self) -> dict[str, date]:
        """Invoice number -> issue date, and "" -> the first issue date (to refuse a
        payment before its invoice)."""
        out = {str(_v(d, "number")): _v(d, "issued") for d, _ in self.items("invoices") if _v(d, "number") and _v(d, "issued")}
        if out:
            out[""] = min(out.values())
        return out

    def payments(self, numbers: list[str]) -> tuple[Payment, ...]:
        out = []
        issued, known = self.issued_dates(), set(numbers)
        for d, path in self.items("payments"):
            amount = self.positive(d, "amount", path)
            self._invoice_ref(d, path, numbers, known, issued, "payment")
            self.not_after_at(d, "date", path, "payment")
            if _v(d, "date") and amount is not None:
                out.append(Payment(_v(d, "date"), amount, _v(d, "invoice") if _v(d, "invoice") in known else None, _v(d, "reference"), self.source(d, path, _line(d, "date"))))
        return tuple(out)

    def credit_notes(self, numbers: list[str]) -> tuple[CreditNote, ...]:
        out = []
        issued, known = self.issued_dates(), set(numbers)
        for d, path in self.items("credit_notes"):
            amount = self.positive(d, "amount", path)
            self._invoice_ref(d, path, numbers, known, issued, "credit note")
            self.not_after_at(d, "date", path, "credit note")
            f = self.file(d, "file", path)
            if _v(d, "number") and _v(d, "date") and amount is not None:
                out.append(CreditNote(_v(d, "number"), _v(d, "date"), amount, _v(d, "invoice") if _v(d, "invoice") in known else None, f, self.source(d, path, _line(d, "number"))))
        return tuple(out)

    def exhibits(self) -> tuple[Exhibit, ...]:
        out = []
        for d, path in self.items("exhibits"):
            f = self.file(d, "file", path)
            if _v(d, "kind") and _v(d, "title") and f is not None:
                out.append(Exhibit(_v(d, "kind"), _v(d, "title"), f, _v(d, "date"), _v(d, "password"), self.source(d, path, _line(d, "file"))))
        return tuple(out)

    def notices(self) -> tuple[Notice, ...]:
        out = []
        for d, path in self.items("notices"):
            self.not_after_at(d, "date", path, "notice")
            sent, received = _v(d, "date"), _v(d, "received")
            if sent and received and received < sent:
                self.r.problem(_line(d, "received"), f"{path}.received", f"received {received} before it was sent ({sent})")
            if received and received > self.at:
                self.r.problem(_line(d, "received"), f"{path}.received", f"received {received}, after the computation date {self.at}: the sending date is used until then", "warning")
            if _v(d, "channel") == "lrar" and not _v(d, "lrar_number"):
                self.r.problem(_line(d, "channel"), f"{path}.lrar_number", "registered letter without its number (lrar_number): the proof of sending", "warning")
            f = self.file(d, "file", path)
            receipt = self.file(d, "receipt_file", path)
            if receipt is not None and not received:
                self.r.problem(_line(d, "receipt_file"), f"{path}.received", "an avis de réception (receipt_file) "
                               "without its date (received): the date it was signed starts the deadlines", "warning")
            if _v(d, "stage") and sent and _v(d, "channel"):
                out.append(Notice(_v(d, "stage"), sent, _v(d, "channel"), f, _v(d, "lrar_number"), received,
                                  _v(d, "promised_date"), self.source(d, path, _line(d, "stage")), receipt))
        return tuple(out)

    def overpayment(self, invoices: tuple[Invoice, ...], payments: tuple[Payment, ...], credits: tuple[CreditNote, ...]) -> None:
        owed = sum((i.amount_incl_tax for i in invoices), Decimal(0))
        reduced = sum((p.amount for p in payments if p.date <= self.at), Decimal(0)) + sum((c.amount for c in credits if c.date <= self.at), Decimal(0))
        by_invoice: dict[str, Decimal] = {}  # one pass over payments and credits, not one per invoice
        for x in (*payments, *credits):
            if x.invoice is not None:
                by_invoice[x.invoice] = by_invoice.get(x.invoice, Decimal(0)) + x.amount
        for n, inv in enumerate(invoices):
            on_it = by_invoice.get(inv.number, Decimal(0))
            if on_it > inv.amount_incl_tax:
                line = inv.source.line if inv.source else None
                self.r.problem(line, f"invoices[{n}]", f"invoice {inv.number}: {on_it} paid or credited, more than its {inv.amount_incl_tax} (the excess is imputed to other invoices)", "warning")
        if reduced > owed:
            self.r.problem(_line(self.data, "payments"), "payments", f"{reduced} paid or credited in all, more than the {owed} invoiced", "warning")

    def build(self) -> Case | None:
        creditor = self.party("creditor")
        debtor = self.party("debtor")
        terms = self.terms()
        invoices = self.invoices()
        numbers = [str(_v(d, "number")) for d, _ in self.items("invoices") if _v(d, "number")]
        payments = self.payments(numbers)
        credits = self.credit_notes(numbers)
        exhibits = self.exhibits()
        notices = self.notices()
        self.overpayment(invoices, payments, credits)
        ladder = tuple((k, v) for k, v in (_v(self.data, "ladder") or {}).items() if v is not None)
        for stage, days in ladder:
            if stage not in STAGES:
                self.r.problem(_line(self.data, "ladder"), f"ladder.{_show(stage, 40)}", f"unknown stage '{_show(stage)}' (one of {', '.join(STAGES)})")
            elif not -365 <= days <= 3650:
                self.r.problem(_line(self.data, "ladder"), f"ladder.{stage}", f"{days} days: expected between -365 and 3650 days from the due date")
        templates = _v(self.data, "templates")
        tpath = None
        if templates:
            try:
                tpath = inside(self.root.parent, self.root / templates, "templates", what="the case folder or its portfolio folder")
            except UnsafePathError as e:
                self.r.problem(_line(self.data, "templates"), "templates", str(e).split(": ", 1)[1])
            else:
                if not is_folder(tpath):
                    self.r.problem(_line(self.data, "templates"), "templates", f"{templates}: templates folder not found")
        window = None
        if _v(self.data, "envelope_window") is not None:
            from dossier.model import parse_window_mm

            try:
                window = parse_window_mm(_v(self.data, "envelope_window"))
            except ValueError as e:
                self.r.problem(_line(self.data, "envelope_window"), "envelope_window", str(e))
        if _v(self.data, "reference") is None:  # the folder's name stands in: it must be a valid value too
            try:
                convert(self.root.name, "str")
            except ValueError as e:
                self.r.problem(None, "reference", f"the case folder's name is used as reference: {e}; set reference:")
        if creditor is None or debtor is None or any(p.severity == "error" for p in self.r.problems):
            return None
        return Case(
            reference=_v(self.data, "reference") or self.root.name, root=self.root,
            creditor=creditor, debtor=debtor, terms=terms, invoices=invoices, payments=payments,
            credit_notes=credits, exhibits=exhibits, notices=notices, court=_v(self.data, "court"),
            ladder=ladder, templates=tpath, currency=_v(self.data, "currency", "EUR"), envelope_window=window,
        )


def _stdnum_reason(e: Exception) -> str:
    name = type(e).__name__
    return {
        "InvalidChecksum": "the checksum does not match (a digit is wrong or swapped)",
        "InvalidLength": "wrong number of characters",
        "InvalidFormat": "wrong format",
        "InvalidComponent": "a part of it is not valid",
    }.get(name, str(e) or name)


def case_file_path(path: str | Path) -> tuple[Path, Path]:
    """(case folder, case.yaml) for a folder or a case.yaml path."""
    p = Path(path)
    if is_folder(p):
        return p.resolve(), p.resolve() / CASE_FILE
    return p.resolve().parent, p.resolve()


def check_case(path: str | Path, at: date | None = None) -> tuple[Case | None, list[Problem]]:
    """Validate a case folder; returns the case (None if any error) and every problem found."""
    import gc

    # The node tree and the model hold no reference cycles (reference counting frees
    # them): the cyclic collector's full scans, repeated as the tree grows, would only make
    # a large case quadratic (10,000 invoices: 3.5 s instead of 1.1 s).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check_case(path, at)
    finally:
        if enabled:
            gc.enable()


def _check_case(path: str | Path, at: date | None) -> tuple[Case | None, list[Problem]]:
    import yaml

    at = at or date.today()
    root, yml = case_file_path(path)
    label = str(Path(path) / CASE_FILE) if is_folder(path) else str(path)
    problem = file_type(yml)
    if problem is not None:
        if not os.path.exists(path):
            what = "case folder not found"
        else:
            what = f"no {CASE_FILE} in this folder" if problem == "file not found" else f"{yml.name}: {problem}"
        return None, [Problem(label, None, "", what)]
    try:
        text = read_file(root, yml, limit=MAX_CASE_BYTES).decode("utf-8")
    except UnsafePathError as e:
        return None, [Problem(label, None, "", str(e).split(": ", 1)[-1])]
    except UnicodeDecodeError as e:
        return None, [Problem(label, None, "", f"not UTF-8 text (byte {e.start}): save the file as UTF-8")]
    except OSError as e:
        return None, [Problem(label, None, "", f"cannot read: {e.strerror}")]
    reader = _Reader(label, root)
    try:
        # libyaml's composer when available: same nodes and line marks, ~10x faster
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except RecursionError:
        return None, [Problem(label, None, "", "the file nests too deeply to be a case file")]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else None
        msg = " ".join(x for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        return None, [Problem(label, line, "", f"YAML syntax error: {msg}")]
    if node is None:
        return None, [Problem(label, 1, "", "the case file is empty")]
    try:
        data = reader.read(node, CASE, "")
        if not isinstance(data, dict):
            return None, reader.problems
    except _TooLarge:
        return None, [Problem(label, None, "", f"more than {MAX_NODES} values (anchors and aliases included): "
                              "too large for a case file")]
    case = _Builder(reader, data, at).build()
    problems = sorted(reader.problems, key=lambda p: (p.line or 0, p.field))
    return case, problems


def load_case(path: str | Path, at: date | None = None) -> Case:
    """Load a valid case or raise :class:`~dossier.errors.CaseFileError` with every problem."""
    case, problems = check_case(path, at)
    if case is None:
        raise CaseFileError(problems)
    return case
