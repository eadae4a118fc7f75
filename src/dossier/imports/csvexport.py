"""Invoices from CSV exports of accounting and invoicing tools: invoice lists and detailed
aged balances (one line per open invoice).

A profile knows a tool's usual column names and its number and date formats; ``--map
COLUMN=field`` names any other column. Fields: ``number``, ``customer``, ``account``,
``siren``, ``email``, ``issued``, ``due``, ``amount`` (including VAT), ``amount_excl_tax``,
``remaining`` (still owed), ``paid``, ``paid_date``, ``currency``, ``type``.

- amount and remaining: the difference is a payment already received; its date is the
  ``paid_date`` column, else the due date (the earliest date that does not overstate the
  penalties), marked as an estimate;
- no due date: issue date plus the portfolio's default terms, marked as an estimate;
- remaining 0: a paid invoice (closes it when a person imported it before);
- a negative amount, or a type saying credit note (avoir): a credit note;
- the export is taken to list every open invoice: an invoice imported before and absent
  now is closed, unless ``--partial`` is given;
- a summary aged balance (totals per customer, no invoice numbers) is refused: the
  décompte needs each invoice, its date and its due date.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dossier.errors import Problem
from dossier.imports import (
    MAX_PROBLEMS,
    DebtorInfo,
    ImportedCreditNote,
    ImportedInvoice,
    ImportedPayment,
    ImportFileError,
    ImportResult,
    Origin,
    clean_text,
    group_by_debtor,
)
from dossier.imports.fec import decode

FIELDS = ("number", "customer", "account", "siren", "email", "issued", "due", "amount", "amount_excl_tax",
          "remaining", "paid", "paid_date", "currency", "type")
MAX_BYTES = 500_000_000
#: how many lines may precede the header (report title, company, date range)
HEADER_SEARCH = 30

GENERIC: dict[str, tuple[str, ...]] = {
    "number": ("number", "invoice number", "invoice", "invoice no", "num", "no", "ref", "reference", "numero",
               "numero de facture", "n facture", "facture", "n piece", "numero de piece", "piece", "document"),
    "customer": ("customer", "client", "customer name", "name", "nom", "partner", "tiers", "raison sociale",
                 "nom du client", "intitule", "debiteur", "intitule tiers", "libelle tiers"),
    "account": ("account", "customer account", "compte", "compte client", "compte tiers", "code client", "customer id",
                "customer code", "code tiers", "numero de compte"),
    "siren": ("siren", "siret", "company id", "numero siren", "n siren", "identifiant entreprise"),
    "email": ("email", "e mail", "mail", "courriel", "adresse email", "customer email"),
    "issued": ("date", "invoice date", "date de facture", "date de facturation", "date facture", "date piece",
               "date d emission", "issue date", "transaction date"),
    "due": ("due date", "date d echeance", "echeance", "date echeance", "due", "deadline", "date limite de paiement"),
    "amount": ("amount", "total", "total amount", "amount incl tax", "montant", "montant ttc", "total ttc",
               "montant total", "total tax included", "invoice amount", "original amount", "debit"),
    "amount_excl_tax": ("amount excl tax", "montant ht", "total ht", "untaxed amount", "tax excluded", "subtotal"),
    "remaining": ("remaining", "open balance", "balance", "amount due", "balance due", "reste a payer", "restant du",
                  "solde", "montant restant", "montant du", "reste du", "residual", "remaining amount", "a encaisser"),
    "paid": ("paid", "amount paid", "montant paye", "deja paye", "regle", "montant regle"),
    "paid_date": ("payment date", "date de paiement", "date de reglement", "paid date", "last payment"),
    "currency": ("currency", "devise", "monnaie"),
    "type": ("type", "transaction type", "type de piece", "document type", "nature"),
}


@dataclass(frozen=True)
class Profile:
    name: str
    #: field -> column names tried first (normalised: lower case, no accents, no punctuation)
    columns: dict[str, tuple[str, ...]]
    #: "," or "." for decimals; None: found from each value
    decimal: str | None
    #: "dmy", "mdy": order of a date written with slashes or dots
    dates: str
    #: which export to ask for when a summary is given
    detailed_export: str


PROFILES: dict[str, Profile] = {
    "generic": Profile("generic", {}, None, "dmy",
                       "the detailed aged balance (one line per open invoice) or the list of unpaid invoices"),
    # Pennylane: French interface exports (comma decimals, DD/MM/YYYY); its API's field names too
    "pennylane": Profile("pennylane", {
        "number": ("numero de facture", "numero", "invoice number"), "customer": ("client", "tiers", "thirdparty"),
        "issued": ("date de facturation", "date", "date d emission"), "due": ("date d echeance", "echeance", "deadline"),
        "amount": ("montant ttc", "total ttc", "amount", "montant"), "amount_excl_tax": ("montant ht", "currency amount before tax"),
        "remaining": ("reste a payer", "montant restant", "remaining amount with tax", "remaining amount"),
        "siren": ("siren", "numero siren", "reg no"), "email": ("email", "e mail client")},
        ",", "dmy", "the list of customer invoices (Factures clients) filtered on unpaid invoices"),
    # QuickBooks: "A/R Aging Detail" and "Open Invoices" reports (dot decimals, MM/DD/YYYY)
    "quickbooks": Profile("quickbooks", {
        "number": ("num", "no", "invoice no"), "customer": ("customer", "name", "customer full name"),
        "issued": ("date", "transaction date"), "due": ("due date",), "amount": ("amount", "original amount", "total"),
        "remaining": ("open balance", "balance", "amount due"), "type": ("transaction type", "type")},
        ".", "mdy", "the A/R Aging Detail report (not A/R Aging Summary)"),
    # Sage: balance âgée détaillée / échéancier clients (comma decimals, DD/MM/YYYY or DD/MM/YY)
    "sage": Profile("sage", {
        "number": ("n piece", "numero de piece", "piece", "n facture", "reference"),
        "customer": ("intitule", "intitule tiers", "nom", "tiers", "client"), "account": ("compte tiers", "n compte", "compte", "code tiers"),
        "issued": ("date", "date piece", "date de piece"), "due": ("echeance", "date d echeance", "date echeance"),
        "amount": ("montant", "montant ttc", "debit"), "remaining": ("solde", "reste du", "montant restant", "restant du")},
        ",", "dmy", "the detailed balance âgée (par pièce / échéancier) rather than the summary per account"),
    # Odoo: list of customer invoices exported from the Invoices view, or Aged Receivable
    "odoo": Profile("odoo", {
        "number": ("number", "invoice number", "reference", "numero"), "customer": ("partner", "customer", "partenaire", "client"),
        "issued": ("invoice date", "invoice bill date", "date de facturation", "date"),
        "due": ("due date", "date d echeance", "invoice due date", "echeance"),
        "amount": ("total", "total signed", "total in currency signed", "montant total"),
        "amount_excl_tax": ("tax excluded", "untaxed amount", "untaxed amount signed", "hors taxes"),
        "remaining": ("amount due", "amount due signed", "montant du", "residual"), "currency": ("currency", "devise")},
        None, "dmy", "the customer invoices list (filter: not paid) with Number, Partner, Invoice Date, Due Date, Total and Amount Due"),
}

#: column names of a summary aged balance (bucket totals per customer)
SUMMARY_HINTS = ("current", "1 30", "31 60", "61 90", "91 and over", "91", "over 90", "non echu", "a echoir",
                 "plus de 90", "+ 90", "older", "total")
CREDIT_NOTE_WORDS = ("credit", "avoir", "refund", "credit note", "credit memo")


def norm_header(text: str) -> str:
    t = unicodedata.normalize("NFKD", text.strip().lstrip("\ufeff")).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", t))


def parse_mapping(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``("Ref client=account", …)`` → {normalised column: field}; ValueError on a bad item."""
    out = {}
    for item in items:
        col, sep, field = item.rpartition("=")
        field = field.strip().lower()
        if not sep or not col.strip():
            raise ValueError(f"{item!r}: write COLUMN=field, e.g. \"N° client=account\"")
        if field not in FIELDS:
            raise ValueError(f"{item!r}: '{field}' is not one of {', '.join(FIELDS)}")
        out[norm_header(col)] = field
    return out


def parse_amount(text: str, decimal: str | None) -> Decimal | None:
    """French, English and accounting amounts: "1 234,56 €", "1,234.56", "(12.00)", "-5"."""
    t = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    t = re.sub(r"(EUR|€|\$|USD|GBP|£)", "", t, flags=re.I)
    if not t:
        return None
    neg = t.startswith("(") and t.endswith(")") or t.endswith("-") or t.startswith("-")
    t = t.strip("()+-")
    if not re.fullmatch(r"[\d.,]+", t):
        raise ValueError(text)
    dec = decimal
    if dec is None:
        last = max(t.rfind(","), t.rfind("."))
        dec = t[last] if last >= 0 and (("," in t and "." in t) or len(t) - last - 1 in (1, 2)) else None
    if dec:
        other = "." if dec == "," else ","
        t = t.replace(other, "")
        if t.count(dec) > 1:
            raise ValueError(text)
        t = t.replace(dec, ".")
    else:
        t = t.replace(",", "").replace(".", "")
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise ValueError(text) from None
    return -value if neg else value


def parse_date(text: str, order: str) -> date | None:
    t = text.strip()
    if not t:
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", t)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.match(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$", t.split(" ")[0])
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y = y + 2000 if y < 100 else y
        day, month = (a, b) if order == "dmy" else (b, a)
        return date(y, month, day)
    m = re.match(r"^(\d{4})(\d{2})(\d{2})$", t)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(text)


@dataclass(frozen=True)
class Layout:
    header_line: int
    columns: dict[str, int]
    delimiter: str


def _sniff_delimiter(lines: list[str]) -> str:
    sample = lines[:HEADER_SEARCH]
    counts = {d: sum(line.count(d) for line in sample) for d in (";", "\t", ",", "|")}
    return max(counts, key=lambda d: (counts[d], d == ";"))


def _match_columns(header: list[str], profile: Profile, overrides: dict[str, str]) -> dict[str, int]:
    names = [norm_header(h) for h in header]
    cols: dict[str, int] = {}
    for n, name in enumerate(names):
        if name in overrides and overrides[name] not in cols:
            cols[overrides[name]] = n
    for field in FIELDS:
        if field in cols:
            continue
        for candidate in profile.columns.get(field, ()) + GENERIC[field]:
            if candidate in names and names.index(candidate) not in cols.values():
                cols[field] = names.index(candidate)
                break
    return cols


def find_layout(text: str, label: str, profile: Profile, overrides: dict[str, str]) -> Layout:
    lines = text.split("\n")[: HEADER_SEARCH + 1]
    delim = _sniff_delimiter(lines)
    best: tuple[int, int, dict[str, int]] | None = None
    for n, row in enumerate(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)):
        cols = _match_columns(row, profile, overrides)
        score = len(cols)
        if best is None or score > best[0]:
            best = (score, n, cols)
        if {"number", "customer"} <= cols.keys() and ({"amount", "remaining"} & cols.keys()):
            return Layout(n + 1, cols, delim)
    cols = best[2] if best else {}
    header = next(csv.reader(io.StringIO(lines[best[1] if best else 0]), delimiter=delim), [])
    names = [norm_header(h) for h in header]
    hint = profile.detailed_export
    if "customer" in cols and "number" not in cols and sum(1 for h in names if h in SUMMARY_HINTS or re.fullmatch(r"\d+ \d+( days?)?", h)) >= 2:
        raise ImportFileError([Problem(label, (best[1] + 1) if best else 1, "",
                                       f"a summary aged balance (totals per customer, no invoices): dossier needs each "
                                       f"invoice, its date and due date. Export {hint}")])
    missing = [f for f in ("number", "customer") if f not in cols] + ([] if {"amount", "remaining"} & cols.keys() else ["amount or remaining"])
    raise ImportFileError([Problem(label, (best[1] + 1) if best else 1, "",
                                   f"no column for {', '.join(missing)} (columns: {', '.join(header[:20]) or 'none'}); "
                                   f"name them with --map COLUMN=field, or choose the --profile of the tool. Export {hint}")])


class _Rows:
    """Reads the data rows against a layout, collecting problems with their line."""

    def __init__(self, label: str, file_name: str, profile: Profile, payment_days: int):
        self.label = label
        self.file_name = file_name
        self.profile = profile
        self.payment_days = payment_days
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def fail(self, line: int, field: str, message: str) -> None:
        self.problems.append(Problem(self.label, line, field, message))
        if len(self.problems) >= MAX_PROBLEMS:
            raise ImportFileError(self.problems)

    def cell(self, row: list[str], cols: dict[str, int], field: str) -> str:
        n = cols.get(field)
        return row[n].strip() if n is not None and n < len(row) else ""

    def amount(self, row, cols, field, line) -> Decimal | None:
        raw = self.cell(row, cols, field)
        try:
            return parse_amount(raw, self.profile.decimal)
        except ValueError:
            self.fail(line, field, f"'{raw}' is not an amount")
            return None

    def date(self, row, cols, field, line) -> date | None:
        raw = self.cell(row, cols, field)
        try:
            return parse_date(raw, self.profile.dates)
        except ValueError:
            order = "DD/MM/YYYY" if self.profile.dates == "dmy" else "MM/DD/YYYY"
            self.fail(line, field, f"'{raw}' is not a date ({order} or YYYY-MM-DD)")
            return None

    def debtor(self, row, cols, line) -> DebtorInfo:
        from stdnum.fr import siren as siren_mod

        raw = re.sub(r"\s", "", self.cell(row, cols, "siren"))
        siren = raw[:9] if raw.isdigit() and len(raw) in (9, 14) and siren_mod.is_valid(raw[:9]) else None
        if raw and siren is None:
            self.warnings.append(Problem(self.label, line, "siren", f"'{raw}' is not a valid SIREN or SIRET: ignored", "warning"))
        email = self.cell(row, cols, "email") or None
        return DebtorInfo(clean_text(self.cell(row, cols, "customer")) or "", clean_text(self.cell(row, cols, "account")),
                          siren, raw if siren and len(raw) == 14 else None, email=email if email and "@" in email else None,
                          origin=Origin(self.file_name, line, via="csv"))

    def item(self, row: list[str], cols: dict[str, int], line: int) -> list:
        number = clean_text(self.cell(row, cols, "number"))
        customer = self.cell(row, cols, "customer")
        if not number:
            if any(c.strip().lower().startswith("total") for c in row) or not any(c.strip() for c in row):
                return []  # a subtotal or total line, or an empty one
            if not (self.cell(row, cols, "amount") or self.cell(row, cols, "remaining")):
                return []  # a group heading (QuickBooks prints the customer's name alone on a line)
            self.fail(line, "number", "no invoice number on a line with an amount")
            return []
        if not customer:
            self.fail(line, "customer", "no customer")
            return []
        issued, due = self.date(row, cols, "issued", line), self.date(row, cols, "due", line)
        amount, remaining = self.amount(row, cols, "amount", line), self.amount(row, cols, "remaining", line)
        paid = self.amount(row, cols, "paid", line)
        excl = self.amount(row, cols, "amount_excl_tax", line)
        paid_date = self.date(row, cols, "paid_date", line)
        if issued is None and due is None:
            self.fail(line, "issued", "neither an invoice date nor a due date")
            return []
        if amount is None and remaining is None:
            self.fail(line, "amount", "neither an amount nor a remaining amount")
            return []
        if amount is None:
            amount = (remaining or Decimal(0)) + (paid or Decimal(0))
        if remaining is None:
            remaining = amount - (paid or Decimal(0))
        currency = (self.cell(row, cols, "currency") or "EUR").upper()
        kind = self.cell(row, cols, "type").lower()
        debtor = self.debtor(row, cols, line)
        origin = Origin(self.file_name, line, via="csv")
        if amount < 0 or remaining < 0 or any(w in kind for w in CREDIT_NOTE_WORDS):
            value = abs(remaining) if remaining else abs(amount)
            return [(debtor, ImportedCreditNote(number, issued or due, value, origin, settled=value == 0))] if value else []
        issued = issued or due
        estimated = due is None
        due = due or issued + timedelta(days=self.payment_days)
        if due < issued:
            self.fail(line, "due", f"due date {due} is before the invoice date {issued}")
            return []
        out: list = [(debtor, ImportedInvoice(number, issued, due, amount, origin, due_estimated=estimated,
                                              amount_excl_tax=excl, settled=remaining <= 0, currency=currency))]
        if 0 < amount - remaining and remaining > 0:
            out.append((debtor, ImportedPayment(f"csv-paid-{number}", paid_date or due, amount - remaining, origin, number,
                                                "déjà payé selon l'export", date_estimated=paid_date is None)))
        return out


def read_csv(path: str | Path, profile: str = "generic", overrides: dict[str, str] | None = None,
             payment_days: int = 30, complete: bool = True) -> ImportResult:
    """Read a CSV invoice list or detailed aged balance."""
    p = Path(path)
    label = str(path)
    prof = PROFILES[profile]
    try:
        if p.stat().st_size > MAX_BYTES:
            raise ImportFileError([Problem(label, None, "", "larger than 500 MB: not an export of receivables")])
        text, _ = decode(p.read_bytes())
    except OSError as e:
        raise ImportFileError([Problem(label, None, "", f"cannot read: {e.strerror}")]) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ImportFileError([Problem(label, 1, "", "the file is empty")])
    layout = find_layout(text, label, prof, overrides or {})
    rows = _Rows(label, p.name, prof, payment_days)
    items: list = []
    reader = csv.reader(io.StringIO(text), delimiter=layout.delimiter)
    for n, row in enumerate(reader):
        if n < layout.header_line:
            continue
        items.extend(rows.item(row, layout.columns, reader.line_num))
    if rows.problems:
        raise ImportFileError(rows.problems)
    if not items:
        raise ImportFileError([Problem(label, None, "", "no invoice found under the header line")])
    return ImportResult("csv", (label,), group_by_debtor(items), complete=complete, warnings=tuple(rows.warnings))
