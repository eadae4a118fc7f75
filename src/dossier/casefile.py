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
    Bailiff,
    Bank,
    Case,
    CreditNote,
    Exhibit,
    Invoice,
    Judgment,
    Mandate,
    Notice,
    OptionalClaims,
    Party,
    Payment,
    Person,
    Source,
    Terms,
    parse_window_mm,
)
from dossier.paths import UnsafePathError, file_type, inside, is_folder, read_file
from dossier.postal.address import address_problems
from dossier.stages import CATCH_UP_KEY

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
CIVILITIES = ("Madame", "Monsieur")
PERSON: Spec = {"name": ("str", True), "title": ("str", False), "civility": (("enum", CIVILITIES), False)}
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
    "civility": (("enum", CIVILITIES), False),
}
CREDITOR: Spec = {**PARTY_COMMON, "siren": ("str", True), "signatory": (PERSON, False)}
DEBTOR: Spec = {**PARTY_COMMON, "kind": (("enum", ("company", "consumer", "public")), True), "representative": (PERSON, False)}
TERMS: Spec = {
    "payment_days": ("int", False),
    "penalty_rate": ("rate", False),
    "flat_indemnity": ("bool", False),
    "floor_applies_to_default": ("bool", False),
    "payment_imputation": (("enum", ("principal", "interest-first")), False),
    "interest_start": (("enum", ("received", "sent")), False),
    "creditor_is_private_person": ("bool", False),
    "penalty_clause": ("str", False),
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
    "cancels": ("bool", False),
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
    "paper": (("list", ("enum", STAGES[:6])), False),
    "creditor": (CREDITOR, True),
    "debtor": (DEBTOR, True),
    "terms": (TERMS, False),
    "invoices": (("list", INVOICE), True),
    "payments": (("list", PAYMENT), False),
    "credit_notes": (("list", CREDIT_NOTE), False),
    "exhibits": (("list", EXHIBIT), False),
    "notices": (("list", NOTICE), False),
    "judgment": ({"date": ("date", True), "court": ("str", True), "enforceable": ("date", True)}, False),
    "claims": ({"article_700": ("money", False), "capitalisation": ("bool", False),
                "additional_indemnity": ("money", False), "additional_indemnity_proof": ("str", False)}, False),
    "bailiff": ({"name": ("str", True), "address": (ADDRESS, False), "email": ("email", False)}, False),
    "mandate": ({"max_months": ("int", False), "min_instalment": ("money", False),
                 "waive_penalties": ("bool", False), "accept_fees": ("bool", False)}, False),
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
            return Person(_v(p, "name"), _v(p, "title"), _v(p, "civility")) if isinstance(p, dict) and _v(p, "name") else None

        if address is None:
            return None
        return Party(
            name=_v(d, "name") or "", address=address, kind=kind, legal_form=_v(d, "legal_form"),
            capital=_v(d, "capital"), siren=siren_v, siret=siret_v, rcs_city=_v(d, "rcs_city"),
            vat_number=vat_v, email=_v(d, "email"), phone=_v(d, "phone"),
            signatory=person("signatory"), representative=person("representative"), bank=bank,
            payment_link=_v(d, "payment_link"), nationality=_v(d, "nationality"),
            birth_date=_v(d, "birth_date"), birth_place=_v(d, "birth_place"), profession=_v(d, "profession"),
            source=self.source(d, key, _line(self.data, key)), civility=_v(d, "civility"),
        )

    def terms(self) -> Terms:
        d = _v(self.data, "terms") or {}
        rate = _v(d, "penalty_rate")
        if rate is not None and not (Decimal("0") <= rate <= Decimal("100")):
            self.r.problem(_line(d, "penalty_rate"), "terms.penalty_rate", f"{rate} % is not a plausible yearly rate (0 <= rate <= 100)")
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
            penalty_clause=_v(d, "penalty_clause"),
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
                out.append(CreditNote(_v(d, "number"), _v(d, "date"), amount, _v(d, "invoice") if _v(d, "invoice") in known else None, f, self.source(d, path, _line(d, "number")), bool(_v(d, "cancels", False))))
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

    def legal_extras(self, invoices: tuple[Invoice, ...], credits: tuple[CreditNote, ...]) -> dict[str, Any]:
        """``judgment:``, ``claims:``, ``bailiff:``, ``mandate:`` and the checks of
        ``credit_notes[].cancels`` (a cancelling credit note is for the whole invoice)."""

        for n, cn in enumerate(credits):
            inv = next((i for i in invoices if i.number == cn.invoice), None) if cn.cancels else None
            line = cn.source.line if cn.source else None
            if cn.cancels and inv is None:
                self.r.problem(line, f"credit_notes[{n}].invoice", "a credit note that cancels an invoice names it (invoice:)")
            elif inv is not None and cn.amount != inv.amount_incl_tax:
                self.r.problem(line, f"credit_notes[{n}].cancels", f"cancels: true, but {cn.amount} is not the whole invoice "
                               f"{inv.number} ({inv.amount_incl_tax}): a partial credit note reduces it from its date")
        out: dict[str, Any] = {}
        j = _v(self.data, "judgment")
        if isinstance(j, dict) and _v(j, "date") and _v(j, "enforceable") and _v(j, "court"):
            if _v(j, "enforceable") < _v(j, "date"):
                self.r.problem(_line(j, "enforceable"), "judgment.enforceable", "enforceable before the decision's date")
            out["judgment"] = Judgment(_v(j, "date"), _v(j, "court"), _v(j, "enforceable"), self.source(j, "judgment", _line(self.data, "judgment")))
        c = _v(self.data, "claims")
        if isinstance(c, dict):
            out["claims"] = OptionalClaims(_v(c, "article_700"), bool(_v(c, "capitalisation", False)),
                                           _v(c, "additional_indemnity"), _v(c, "additional_indemnity_proof"))
            if _v(c, "additional_indemnity") and not _v(c, "additional_indemnity_proof"):
                self.r.problem(_line(c, "additional_indemnity"), "claims.additional_indemnity_proof",
                               "the indemnity above 40 € is due only on proof of the costs (C. com. L441-10 II): name the exhibit")
        b = _v(self.data, "bailiff")
        if isinstance(b, dict) and _v(b, "name"):
            a = _v(b, "address")
            addr = Address(tuple(str(x) for x in (_v(a, "lines") or [])), _v(a, "postal_code") or "", _v(a, "city") or "",
                           (_v(a, "country") or "FR").upper()) if isinstance(a, dict) else None
            out["bailiff"] = Bailiff(_v(b, "name"), addr, _v(b, "email"))
        m = _v(self.data, "mandate")
        if isinstance(m, dict):
            months = _v(m, "max_months")
            if months is not None and not 1 <= months <= 120:
                self.r.problem(_line(m, "max_months"), "mandate.max_months", f"{months}: between 1 and 120 months")
            out["mandate"] = Mandate(months, _v(m, "min_instalment"), bool(_v(m, "waive_penalties", False)),
                                     bool(_v(m, "accept_fees", True)))
        return out

    def build(self) -> Case | None:
        creditor = self.party("creditor")
        debtor = self.party("debtor")
        if debtor is not None:
            self.address_block(debtor)
        terms = self.terms()
        invoices = self.invoices()
        numbers = [str(_v(d, "number")) for d, _ in self.items("invoices") if _v(d, "number")]
        payments = self.payments(numbers)
        credits = self.credit_notes(numbers)
        exhibits = self.exhibits()
        notices = self.notices()
        self.overpayment(invoices, payments, credits)
        ladder = self.ladder()
        tpath, window = self.templates(), self.window()
        self.reference_name()
        extras = self.legal_extras(invoices, credits)
        if creditor is None or debtor is None or any(p.severity == "error" for p in self.r.problems):
            return None
        return Case(
            reference=_v(self.data, "reference") or self.root.name, root=self.root,
            creditor=creditor, debtor=debtor, terms=terms, invoices=invoices, payments=payments,
            credit_notes=credits, exhibits=exhibits, notices=notices, court=_v(self.data, "court"),
            ladder=ladder, templates=tpath, currency=_v(self.data, "currency", "EUR"), envelope_window=window,
            paper=tuple(dict.fromkeys(_v(self.data, "paper") or ())), **extras,
        )

    def address_block(self, debtor: Party) -> None:
        """The block printed in the envelope window (NF Z10-011) must fit."""
        d = _v(self.data, "debtor")
        where = {f"debtor.{k}": _line(d, k.split(".")[0]) for k in ("name", "representative.name")}
        where.update({f: _line(d, "address") for f in ("debtor.address.lines", "debtor.address.city",
                                                        "debtor.address.postal_code", "debtor.address.country")})
        self.r.problems.extend(address_problems(debtor, "debtor", lines=where))

    def ladder(self) -> tuple[tuple[str, int], ...]:
        ladder = tuple((k, v) for k, v in (_v(self.data, "ladder") or {}).items() if v is not None)
        for stage, days in ladder:
            if stage == CATCH_UP_KEY:
                if not 1 <= days <= 3650:
                    self.r.problem(_line(self.data, "ladder"), f"ladder.{stage}", f"{days} days: expected between 1 and 3650")
            elif stage not in STAGES:
                self.r.problem(_line(self.data, "ladder"), f"ladder.{_show(stage, 40)}",
                               f"unknown stage '{_show(stage)}' (one of {', '.join(STAGES)}, or {CATCH_UP_KEY})")
            elif not -365 <= days <= 3650:
                self.r.problem(_line(self.data, "ladder"), f"ladder.{stage}", f"{days} days: expected between -365 and 3650 days from the due date")
        return ladder

    def templates(self) -> Path | None:
        templates = _v(self.data, "templates")
        if not templates:
            return None
        try:
            tpath = inside(self.root.parent, self.root / templates, "templates", what="the case folder or its portfolio folder")
        except UnsafePathError as e:
            self.r.problem(_line(self.data, "templates"), "templates", str(e).split(": ", 1)[1])
            return None
        if not is_folder(tpath):
            self.r.problem(_line(self.data, "templates"), "templates", f"{templates}: templates folder not found")
        return tpath

    def window(self) -> tuple[float, float, float, float] | None:
        if _v(self.data, "envelope_window") is None:
            return None

        try:
            return parse_window_mm(_v(self.data, "envelope_window"))
        except ValueError as e:
            self.r.problem(_line(self.data, "envelope_window"), "envelope_window", str(e))
            return None

    def reference_name(self) -> None:
        if _v(self.data, "reference") is None:  # the folder's name stands in: it must be a valid value too
            try:
                convert(self.root.name, "str")
            except ValueError as e:
                self.r.problem(None, "reference", f"the case folder's name is used as reference: {e}; set reference:")


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
    if has_layers(path):  # a case of a portfolio, or one made by an importer
        case, problems, _ = check_case_layers(path, at)
        return case, problems
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
    if case is not None:
        _prescription(case, at, reader)
    problems = sorted(reader.problems, key=lambda p: (p.line or 0, p.field))
    return case, problems


def _prescription(case: Case, at: date, reader: _Reader) -> None:
    """Warnings of a valid case that need no computation (the prescription warnings need
    the décompte's imputation, the court the plan: the case snapshot adds them)."""
    c = case.creditor
    missing = [k for k in ("nationality", "birth_date", "birth_place") if c.is_natural_person and not getattr(c, k)]
    if missing:
        reader.problem(c.source.line if c.source else None, f"creditor.{missing[0]}",
                       f"a natural-person creditor's requête states {', '.join(missing)} (CPC art. 54 3° a and "
                       "1407): the requête leaves a blank to fill in by hand", "warning")


def load_case(path: str | Path, at: date | None = None) -> Case:
    """Load a valid case or raise :class:`~dossier.errors.CaseFileError` with every problem."""
    case, problems = check_case(path, at)
    if case is None:
        raise CaseFileError(problems)
    return case


# --- layers: portfolio.yaml < imported.yaml < case.yaml ---------------------------------
#
# A case of a portfolio is read from up to three files, lowest precedence first: the
# portfolio's shared settings, what the importers wrote, then the hand-written case.yaml.
# They are merged as YAML node trees, so every value keeps the file and line it came from.

PORTFOLIO_FILE = "portfolio.yaml"
IMPORTED_FILE = "imported.yaml"
#: lines of the n-th layer are numbered from n * _LAYER_LINES while the merged tree is read
_LAYER_LINES = 10**7
#: record lists merged by identity; every other list is replaced whole by the higher layer
RECORD_LISTS = ("invoices", "credit_notes", "payments")
#: keys of a record that only the layers know (consumed before the case schema is applied)
RECORD_META = ("status", "source", "due_estimated", "id", "terms_text", "penalty_note", "date_estimated")
#: an invoice, payment or credit note with one of these statuses is left out of the case
CLOSED_STATUSES = ("paid", "closed", "ignored")
#: statuses an importer or a person may write on a record
RECORD_STATUSES = ("open", "disputed", *CLOSED_STATUSES)
#: portfolio.yaml keys that are not case keys (read by portfolio.py, the batch, the report)
PORTFOLIO_ONLY = ("smtp_profile", "print_profile", "report", "batch", "enrich", "imports")
TERMS_PORTFOLIO_ONLY = ("default_payment_days",)
#: imported.yaml keys that are the importer's own bookkeeping (how it finds the case again)
IMPORTED_ONLY = ("import",)
#: debtor keys written by `dossier enrich`
DEBTOR_META = ("status", "status_source", "checked")
#: debtor statuses that stop the chase: the claim is declared to the mandataire instead
COLLECTIVE_STATUSES = ("sauvegarde", "redressement", "liquidation")


@dataclass(frozen=True)
class LayerNotes:
    """What the layers say beyond the case model: record statuses and provenance."""

    #: invoice number -> status ("open", "disputed", "paid", "closed", "ignored")
    invoice_status: dict[str, str]
    #: invoice numbers whose due date is the importer's estimate, not yet confirmed
    due_estimated: frozenset[str]
    #: invoice number -> where the importer read it ("export.fec:1234", "f.pdf#/...")
    imported_from: dict[str, str]
    #: debtor status written by `dossier enrich` ("active", "closed", "redressement"...)
    debtor_status: str | None
    #: files read, lowest precedence first
    files: tuple[str, ...]
    #: (date, amount) of payments left out with their closed invoice: money recovered all the same
    closed_payments: tuple[tuple[date, Decimal], ...] = ()

    @property
    def closed(self) -> bool:
        """Every invoice is closed (paid, closed or ignored): nothing left to chase."""
        return bool(self.invoice_status) and all(s in CLOSED_STATUSES for s in self.invoice_status.values())

    @property
    def collective_proceedings(self) -> bool:
        return self.debtor_status in COLLECTIVE_STATUSES


def portfolio_of(case_root: Path) -> Path | None:
    """The portfolio folder holding ``case_root`` (its parent with a portfolio.yaml), or None."""
    parent = case_root.parent
    return parent if (parent / PORTFOLIO_FILE).is_file() else None


def has_layers(path: str | Path) -> bool:
    """True when the case is read from more than its case.yaml."""
    root, _ = case_file_path(path)
    return (root / IMPORTED_FILE).is_file() or portfolio_of(root) is not None


class _LayeredReader(_Reader):
    """A reader whose line numbers say which layer file they belong to."""

    def __init__(self, labels: list[str], root: Path):
        super().__init__(labels[-1], root)
        self.labels = labels

    def where(self, line: int | None) -> tuple[str, int | None]:
        if line is None:
            return self.file, None
        k, real = divmod(line, _LAYER_LINES)
        return (self.labels[k], real) if k < len(self.labels) else (self.file, line)

    def problem(self, line: int | None, path: str, message: str, severity: str = "error") -> None:
        file, real = self.where(line)
        message = re.sub(r"(?<=at line )(\d+)", lambda m: self._line_ref(int(m.group(1)), file), message)
        if message == "missing (required)" and file.endswith(IMPORTED_FILE):
            message = "missing (required): the export does not give it; write it in case.yaml"
        self.problems.append(Problem(file, real, path, message, severity))


    def _line_ref(self, line: int, here: str) -> str:
        """A line number quoted in a message ("first at line N"), as the user sees it."""
        file, real = self.where(line)
        return str(real) if file == here else f"{real} of {file}"


class _LayeredBuilder(_Builder):
    def source(self, d: dict[str, Value] | None, path: str, line: int | None) -> Source:
        file, real = self.r.where(line)  # type: ignore[attr-defined]
        return Source(file, real, path)


def _compose_layer(file: Path, label: str, k: int) -> tuple[Any, Problem | None]:
    """The node tree of one layer file, its marks renumbered for layer ``k``."""
    import yaml

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        return None, Problem(label, None, "", f"not UTF-8 text (byte {e.start}): save the file as UTF-8")
    except OSError as e:
        return None, Problem(label, None, "", f"cannot read: {e.strerror}")
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        msg = " ".join(x for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        return None, Problem(label, mark.line + 1 if mark else None, "", f"YAML syntax error: {msg}")
    if node is None:
        return None, None
    if not isinstance(node, yaml.MappingNode):
        return None, Problem(label, 1, "(top level)", f"expected a mapping of keys, got {_describe(node)}")
    stack = [node]
    seen: set[int] = set()
    while stack:  # iterative: a deep file cannot exhaust the recursion limit
        n = stack.pop()
        if id(n) in seen:  # an alias (*ref) is the same node: renumber it once
            continue
        seen.add(id(n))
        m = n.start_mark
        n.start_mark = yaml.Mark(label, 0, m.line + k * _LAYER_LINES, m.column, None, None)
        if isinstance(n, yaml.MappingNode):
            for kn, vn in n.value:
                stack.extend((kn, vn))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return node, None


def _key_text(node) -> str | None:
    import yaml

    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _field(node, key: str):
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if _key_text(k) == key:
                return v
    return None


def _scalar(node, key: str) -> str | None:
    import yaml

    v = _field(node, key)
    return str(v.value).strip() if isinstance(v, yaml.ScalarNode) and not _is_null(v) else None


def _record_id(list_key: str, node) -> Any:
    """The identity of a record: invoices and credit notes by number, payments by ``id``
    or by (date, amount, invoice)."""
    if list_key != "payments":
        return _scalar(node, "number")
    if _scalar(node, "id"):
        return ("id", _scalar(node, "id"))
    amount = _scalar(node, "amount")
    try:
        amount = str(Decimal(str(amount)).quantize(Decimal("0.01"))) if amount is not None else None
    except InvalidOperation:
        pass
    return (_scalar(node, "date"), amount, _scalar(node, "invoice"))


def _merge_records(list_key: str, lower, higher):
    import yaml

    out = list(lower.value)
    index: dict[Any, int] = {}
    for n, rec in enumerate(out):
        rid = _record_id(list_key, rec) if isinstance(rec, yaml.MappingNode) else None
        if rid is not None and rid not in index:
            index[rid] = n
    for rec in higher.value:
        rid = _record_id(list_key, rec) if isinstance(rec, yaml.MappingNode) else None
        if rid is not None and rid in index:
            merged = _merge_nodes(out[index[rid]], rec, "")
            if list_key == "invoices" and _field(rec, "due") is not None and _field(rec, "due_estimated") is None:
                merged.value = [(k, v) for k, v in merged.value if _key_text(k) != "due_estimated"]
            out[index[rid]] = merged
        else:
            out.append(rec)
    return yaml.SequenceNode(higher.tag, out, higher.start_mark, higher.end_mark, higher.flow_style)


def _merge_nodes(lower, higher, path: str):
    """Mappings merge key by key (the higher layer wins, recursively); record lists by
    identity; anything else is replaced whole by the higher layer."""
    import yaml

    if isinstance(lower, yaml.MappingNode) and isinstance(higher, yaml.MappingNode):
        first_lower = {}
        for k, v in lower.value:
            first_lower.setdefault(_key_text(k), v)
        higher_keys = {_key_text(k) for k, _ in higher.value}
        value = [(k, v) for k, v in lower.value if _key_text(k) not in higher_keys]
        done: set[str | None] = set()
        for k, v in higher.value:
            key = _key_text(k)
            if key in first_lower and key not in done and key is not None:
                v = _merge_nodes(first_lower[key], v, f"{path}.{key}" if path else key)
            done.add(key)
            value.append((k, v))
        return yaml.MappingNode(higher.tag, value, higher.start_mark, higher.end_mark, higher.flow_style)
    if path in RECORD_LISTS and isinstance(lower, yaml.SequenceNode) and isinstance(higher, yaml.SequenceNode):
        return _merge_records(path, lower, higher)
    if _is_null(higher) and path in RECORD_LISTS:
        return lower
    return higher


def _drop_keys(node, keys: tuple[str, ...]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        node.value = [(k, v) for k, v in node.value if _key_text(k) not in keys]


def _portfolio_layer(node, portfolio: Path) -> None:
    """Keys of portfolio.yaml that are not case keys are dropped; its templates folder is
    made absolute (it is relative to the portfolio, not to the case)."""
    import yaml

    _drop_keys(node, PORTFOLIO_ONLY)
    _drop_keys(_field(node, "terms"), TERMS_PORTFOLIO_ONLY)
    tpl = _field(node, "templates")
    if isinstance(tpl, yaml.ScalarNode) and not _is_null(tpl):
        tpl.value = str((portfolio / str(tpl.value)).resolve())


def _consume_meta(root, reader: _LayeredReader) -> LayerNotes:
    """Reads and removes the layer-only keys (status, source, due_estimated, id) and leaves
    closed records out of the tree the case schema reads."""
    import yaml

    status: dict[str, str] = {}
    estimated: set[str] = set()
    origin: dict[str, str] = {}
    closed_invoices: set[str] = set()
    closed_payments: list[tuple[date, Decimal]] = []
    invoices = _field(root, "invoices")
    statuses = [(_scalar(r, "status") or "open").lower() for r in getattr(invoices, "value", None) or []
                if isinstance(r, yaml.MappingNode)]
    # a settled case still reads (nothing outstanding) rather than failing for want of an invoice
    keep_closed = bool(statuses) and all(s in CLOSED_STATUSES for s in statuses)
    for list_key in RECORD_LISTS:
        lst = _field(root, list_key)
        if not isinstance(lst, yaml.SequenceNode):
            continue
        kept = []
        for n, rec in enumerate(lst.value):
            if not isinstance(rec, yaml.MappingNode):
                kept.append(rec)
                continue
            st = (_scalar(rec, "status") or "open").lower()
            if st not in RECORD_STATUSES:
                reader.problem(_field(rec, "status").start_mark.line + 1, f"{list_key}[{n}].status",
                               f"'{st}' is not one of: {', '.join(RECORD_STATUSES)}")
            number = _scalar(rec, "number")
            if list_key == "invoices" and number:
                status[number] = st
                src = _field(rec, "source")
                if src is not None:
                    origin[number] = _source_text(src)
                if (_scalar(rec, "due_estimated") or "").lower() == "true" and st not in CLOSED_STATUSES:
                    estimated.add(number)
                    due = _field(rec, "due")
                    line = (due or rec).start_mark.line + 1
                    where = f" (read from {origin[number]})" if number in origin else ""
                    reader.problem(line, f"{list_key}[{n}].due", f"due date of {number} estimated from its date and the "
                                   f"default payment terms{where}: confirm it by writing `- {{number: {number}, due: YYYY-MM-DD}}` "
                                   "under invoices in case.yaml", "warning")
                if st in CLOSED_STATUSES:
                    closed_invoices.add(number)
            _drop_keys(rec, RECORD_META)
            closed = st in CLOSED_STATUSES or (list_key != "invoices" and _scalar(rec, "invoice") in closed_invoices)
            if closed and not (keep_closed and st != "ignored"):
                if list_key == "payments" and st != "ignored":
                    _closed_payment(rec, closed_payments)
                continue
            kept.append(rec)
        lst.value = kept
    debtor = _field(root, "debtor")
    dstatus = _scalar(debtor, "status")
    if dstatus and dstatus.lower() in COLLECTIVE_STATUSES:
        reader.problem(_field(debtor, "status").start_mark.line + 1, "debtor.status",
                       f"the debtor is in {dstatus.lower()} proceedings: the claim is declared to the mandataire judiciaire "
                       "(C. com. L622-24, within two months of the BODACC notice), not chased with reminders", "warning")
    elif dstatus and dstatus.lower() == "closed":
        reader.problem(_field(debtor, "status").start_mark.line + 1, "debtor.status",
                       "the company directory lists this debtor as closed (cessée)", "warning")
    _drop_keys(debtor, DEBTOR_META + ("source",))
    return LayerNotes(status, frozenset(estimated), origin, dstatus.lower() if dstatus else None, tuple(reader.labels),
                      tuple(closed_payments))


def _closed_payment(rec, out: list[tuple[date, Decimal]]) -> None:
    try:
        out.append((date.fromisoformat(_scalar(rec, "date") or ""), Decimal(_scalar(rec, "amount") or "")))
    except (ValueError, InvalidOperation):
        pass  # a malformed record of a closed invoice: not counted


def _source_text(node) -> str:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    file, line, xpath = _scalar(node, "file"), _scalar(node, "line"), _scalar(node, "xpath")
    return f"{file or '?'}{':' + line if line else ''}{'#' + xpath if xpath else ''}"


def _layer_files(path: str | Path) -> list[tuple[Path, str]]:
    """(file, label) of each existing layer, lowest precedence first."""
    import os

    root, yml = case_file_path(path)
    base = Path(path) if Path(path).is_dir() else Path(path).parent
    out = []
    pf = portfolio_of(root)
    if pf is not None:
        out.append((pf / PORTFOLIO_FILE, os.path.normpath(os.path.join(base, os.pardir, PORTFOLIO_FILE))))
    if (root / IMPORTED_FILE).is_file():
        out.append((root / IMPORTED_FILE, str(base / IMPORTED_FILE)))
    out.append((yml, str(base / CASE_FILE)))
    return out


def check_case_layers(path: str | Path, at: date | None = None) -> tuple[Case | None, list[Problem], LayerNotes | None]:
    """Validate a case read from its layers (portfolio.yaml, imported.yaml, case.yaml):
    the case (None if any error), every problem with its own file and line, and the notes
    the layers carry (record statuses, estimated due dates, debtor status)."""
    at = at or date.today()
    root, _ = case_file_path(path)
    if not root.is_dir():
        return None, [Problem(str(path), None, "", "case folder not found")], None
    files = _layer_files(path)
    labels = [label for _, label in files]
    reader = _LayeredReader(labels, root)
    merged = None
    problems: list[Problem] = []
    for k, (file, label) in enumerate(files):
        if not file.is_file():
            if file.name == CASE_FILE and len(files) == 1:
                problems.append(Problem(label, None, "", f"no {CASE_FILE} in this folder"))
            continue
        node, problem = _compose_layer(file, label, k)
        if problem is not None:
            problems.append(problem)
            continue
        if node is None:
            continue
        if file.name == PORTFOLIO_FILE:
            _portfolio_layer(node, file.parent)
        elif file.name == IMPORTED_FILE:
            _drop_keys(node, IMPORTED_ONLY)
        merged = node if merged is None else _merge_nodes(merged, node, "")
    if problems:
        return None, problems, None
    if merged is None:
        return None, [Problem(labels[-1], 1, "", "the case file is empty")], None
    notes = _consume_meta(merged, reader)
    data = reader.read(merged, CASE, "")
    if not isinstance(data, dict):
        return None, reader.problems, notes
    case = _LayeredBuilder(reader, data, at).build()
    order = {label: n for n, label in enumerate(labels)}
    problems = sorted(reader.problems, key=lambda p: (order.get(p.file, 0), p.line or 0, p.field))
    return case, problems, notes
