"""Open customer items from a FEC (fichier des écritures comptables, LPF art. A47 A-1).

The FEC has 18 columns, in this order: JournalCode, JournalLib, EcritureNum, EcritureDate,
CompteNum, CompteLib, CompAuxNum, CompAuxLib, PieceRef, PieceDate, EcritureLib, Debit,
Credit, EcritureLet, DateLet, ValidDate, Montantdevise, Idevise — Debit and Credit may be
replaced by Montant and Sens (art. A47 A-1, I). Fields are separated by a tab or ``|``,
amounts use a comma for decimals without thousands separators, dates are YYYYMMDD.
Columns are read by name, so a file with them in another order (or with "MontantDevise")
still reads.

Customer receivables are the accounts 411… (clients) and 416… (clients douteux), not 418…
(invoices still to issue). Lines are grouped by auxiliary account (CompAuxNum, else
CompteNum). A line is **open** when it is not lettered, or when its lettering group does
not balance; a balanced lettering group is **settled**. The FEC has no due date: it is the
piece date plus the portfolio's default terms, marked as an estimate.

Example: an invoice of 1 200,00 (debit, lettered AA), a payment of 1 200,00 (credit,
lettered AA) and an invoice of 300,00 (unlettered) leave one open item, the 300,00 invoice.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

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

COLUMNS = ("JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
           "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
           "ValidDate", "Montantdevise", "Idevise")
#: the columns this reader needs (the others are read when present)
NEEDED = ("JournalCode", "EcritureNum", "EcritureDate", "CompteNum", "CompAuxNum", "CompAuxLib", "CompteLib",
          "PieceRef", "PieceDate", "EcritureLib", "EcritureLet")
CUSTOMER_ACCOUNTS = ("411", "416")
#: a FEC larger than this is refused (a year of a large company's books is far smaller)
MAX_BYTES = 2_000_000_000
_AMOUNT = re.compile(r"^([+-]?)0*(\d*)(?:[.,](\d{1,}))?([+-]?)$")
_SIMPLE = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_NO_REF = ("", "-", "/", "0", "nc", "n/a")


class FecLine(NamedTuple):
    """One customer line of the FEC."""

    line: int
    journal: str
    entry: str
    entry_date: date
    account: str
    #: the debtor's account: CompAuxNum, else CompteNum
    debtor_account: str
    debtor_name: str
    piece_ref: str
    piece_date: date
    label: str
    #: debit minus credit
    amount: Decimal
    lettering: str
    #: "invoice", "credit_note" or "payment"
    kind: str
    open: bool
    #: an invoice's amount excluding tax: the revenue (7…) its entry books, when the entry
    #: holds this one invoice line; else None
    excl_tax: Decimal | None = None


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding found: UTF-8 (with or without BOM), else CP1252 when a
    byte of 0x80–0x9F is present (€ is 0x80 there), else ISO-8859-15 (€ is 0xA4)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if re.search(rb"[\x80-\x9f]", data):
        return data.decode("cp1252", errors="replace"), "cp1252"
    return data.decode("iso-8859-15"), "iso-8859-15"


@lru_cache(maxsize=65536)
def parse_amount(text: str) -> Decimal | None:
    """``"1437,12"``, ``" 000000000001437,12"``, ``"-12.5"``, ``"12,00-"`` → Decimal; None if
    not an amount. Thousands separators are not allowed in a FEC."""
    t = text.strip().replace("\u00a0", "").replace(" ", "")
    if not t:
        return Decimal(0)
    if _SIMPLE.match(t):
        return Decimal(t.replace(",", "."))
    m = _AMOUNT.match(t)
    if not m or (m.group(1) and m.group(4)) or not (m.group(2) or m.group(3)):
        return None
    value = Decimal(f"{m.group(2) or '0'}.{m.group(3) or '0'}")
    return -value if "-" in (m.group(1), m.group(4)) else value


@lru_cache(maxsize=8192)
def parse_date(text: str) -> date | None:
    """YYYYMMDD (the FEC's format); YYYY-MM-DD and DD/MM/YYYY are met too."""
    t = text.strip()
    try:
        if re.fullmatch(r"\d{8}", t):
            return date(int(t[:4]), int(t[4:6]), int(t[6:]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return date.fromisoformat(t)
        if re.fullmatch(r"\d{2}/\d{2}/\d{4}", t):
            return date(int(t[6:]), int(t[3:5]), int(t[:2]))
    except ValueError:
        return None
    return None


class _Reader:
    def __init__(self, label: str):
        self.label = label
        self.problems: list[Problem] = []

    def fail(self, line: int | None, field: str, message: str) -> None:
        self.problems.append(Problem(self.label, line, field, message))
        if len(self.problems) >= MAX_PROBLEMS:
            self.problems.append(Problem(self.label, None, "", f"stopped after {MAX_PROBLEMS} problems"))
            raise ImportFileError(self.problems)

    def header(self, first: str) -> tuple[str, dict[str, int]]:
        sep = "\t" if "\t" in first else "|" if "|" in first else ";" if ";" in first else None
        if sep is None:
            self.fail(1, "", "not a FEC: the first line should name the 18 columns (JournalCode, JournalLib, …) "
                             "separated by tabs or '|'")
            raise ImportFileError(self.problems)
        names = [n.strip().strip('"').lower() for n in first.split(sep)]
        cols = {n: i for i, n in reversed(list(enumerate(names)))}
        missing = [c for c in NEEDED if c.lower() not in cols]
        if not ({"debit", "credit"} <= cols.keys() or {"montant", "sens"} <= cols.keys()):
            missing.append("Debit and Credit (or Montant and Sens)")
        if missing:
            self.fail(1, "", f"not a FEC: missing column(s) {', '.join(missing)} (art. A47 A-1 LPF lists 18)")
            raise ImportFileError(self.problems)
        return sep, cols

    def amount(self, row: list[str], cols: dict[str, int], n: int) -> Decimal | None:
        if "debit" in cols:
            d, c = parse_amount(row[cols["debit"]]), parse_amount(row[cols["credit"]])
            if d is None or c is None:
                bad = "Debit" if d is None else "Credit"
                self.fail(n, bad, f"'{row[cols[bad.lower()]].strip()}' is not an amount (a comma for decimals, no thousands separator)")
                return None
            return d - c
        m = parse_amount(row[cols["montant"]])
        sens = row[cols["sens"]].strip().upper()
        if m is None or sens not in ("D", "C", "+1", "-1", "1"):
            self.fail(n, "Montant" if m is None else "Sens", f"'{row[cols['montant']].strip()}' / '{sens}': expected an amount and D or C")
            return None
        return m if sens in ("D", "+1", "1") else -m


def read_lines(data: bytes, label: str) -> list[FecLine]:
    """Every customer line of the FEC with its classification (open or settled).
    Raises :class:`ImportFileError` listing each bad line."""
    text, _ = decode(data)
    r = _Reader(label)
    lines = text.split("\n")
    while lines and not lines[-1].strip("\r"):
        lines.pop()
    if not lines:
        r.fail(1, "", "the file is empty")
        raise ImportFileError(r.problems)
    sep, cols = r.header(lines[0].rstrip("\r"))
    width = max(cols.values()) + 1
    g = {name: cols[name.lower()] for name in NEEDED}
    amount_cols = [cols[k] for k in ("debit", "credit", "montant", "sens") if k in cols]
    needed_width = max([*g.values(), *amount_cols]) + 1
    raw: list[tuple] = []
    entry_revenue: dict[tuple[str, str], Decimal] = {}
    i_account, i_journal, i_entry = g["CompteNum"], g["JournalCode"], g["EcritureNum"]
    i_edate, i_pdate = g["EcritureDate"], g["PieceDate"]
    for n, rowtext in enumerate(lines[1:], start=2):
        rowtext = rowtext.rstrip("\r")
        if not rowtext.strip():
            continue
        row = rowtext.split(sep)
        if needed_width <= len(row) < width:  # trailing empty columns left out by some tools
            row += [""] * (width - len(row))
        if len(row) != width:
            hint = f"; a '{sep}' inside a label (EcritureLib, CompteLib…)?" if len(row) > width else ""
            r.fail(n, "", f"{len(row)} fields instead of {width}{hint} — fix this line in the export")
            continue
        account = row[i_account].strip()
        if account[:1] == "7":
            key = (row[i_journal].strip(), row[i_entry].strip())
            booked = _revenue(row, cols)
            entry_revenue[key] = entry_revenue.get(key, Decimal(0)) + (booked or Decimal(0))
        if not account.startswith(CUSTOMER_ACCOUNTS):
            continue
        amount = r.amount(row, cols, n)
        edate = parse_date(row[i_edate])
        pdate = parse_date(row[i_pdate]) if row[i_pdate].strip() else edate
        if edate is None or pdate is None:
            bad = "EcritureDate" if edate is None else "PieceDate"
            r.fail(n, bad, f"'{row[g[bad]].strip()}' is not a date (YYYYMMDD)")
            continue
        if amount is None:
            continue
        raw.append((n, row, account, amount, edate, pdate))
    if r.problems:
        raise ImportFileError(r.problems)
    return _classify(raw, g, entry_revenue)


def _revenue(row: list[str], cols: dict[str, int]) -> Decimal | None:
    """Credit minus debit of a revenue line (its errors are not the import's concern)."""
    if "credit" in cols:
        c, d = parse_amount(row[cols["credit"]]), parse_amount(row[cols["debit"]])
        return c - d if c is not None and d is not None else None
    m = parse_amount(row[cols["montant"]])
    return None if m is None else (m if row[cols["sens"]].strip().upper() in ("C", "-1") else -m)


def _classify(raw: list[tuple], g: dict[str, int], entry_revenue: dict[tuple[str, str], Decimal]) -> list[FecLine]:
    balance: dict[tuple[str, str], Decimal] = {}
    invoice_lines: dict[tuple[str, str], int] = {}
    for _, row, account, amount, _, _ in raw:
        if amount > 0:
            key = (row[g["JournalCode"]].strip(), row[g["EcritureNum"]].strip())
            invoice_lines[key] = invoice_lines.get(key, 0) + 1
        let = row[g["EcritureLet"]].strip()
        if let:
            key = ((row[g["CompAuxNum"]].strip() or account), let)
            balance[key] = balance.get(key, Decimal(0)) + amount
    out = []
    i_ref, i_label = g["PieceRef"], g["EcritureLib"]
    names: dict[str, str] = {}  # one name per account: the first line's
    for n, row, account, amount, edate, pdate in raw:
        aux = row[g["CompAuxNum"]].strip() or account
        let = row[g["EcritureLet"]].strip()
        journal, entry = row[g["JournalCode"]].strip(), row[g["EcritureNum"]].strip()
        excl = None
        if amount > 0:
            kind = "invoice"
            revenue = entry_revenue.get((journal, entry))
            if revenue is not None and invoice_lines[(journal, entry)] == 1 and 0 < revenue <= amount:
                excl = revenue
        else:
            kind = "credit_note" if (journal, entry) in entry_revenue else "payment"
        name = names.get(aux)
        if name is None:
            name = names[aux] = clean_text(row[g["CompAuxLib"]]) or clean_text(row[g["CompteLib"]]) or aux
        out.append(FecLine(n, journal, entry, edate, account, aux, name, _clean(row[i_ref]) or "",
                           pdate, _clean(row[i_label]) or "", amount, let, kind,
                           not let or balance[(aux, let)] != 0, excl))
    return out


_clean = lru_cache(maxsize=65536)(clean_text)


def _number(line: FecLine) -> str:
    ref = line.piece_ref
    return ref if ref.lower() not in _NO_REF else f"{line.journal}-{line.entry}"


def open_items(lines: list[FecLine], file_name: str, payment_days: int) -> ImportResult:
    """Invoices, payments and credit notes per debtor: the open ones, and the settled ones
    (marked ``settled``) so that a rerun can close what a person already imported."""
    items: list[tuple[DebtorInfo, object]] = []
    invoices: dict[tuple[str, str], list[FecLine]] = {}
    for ln in lines:
        if ln.kind == "invoice":
            invoices.setdefault((ln.debtor_account, _number(ln)), []).append(ln)
    # the invoice a payment or credit note settles: the only invoice of its lettering group
    group_invoices: dict[tuple[str, str], set[str]] = {}
    for (acct, number), lns in invoices.items():
        for ln in lns:
            if ln.lettering:
                group_invoices.setdefault((acct, ln.lettering), set()).add(number)
    debtors: dict[str, DebtorInfo] = {}
    for ln in lines:
        if ln.debtor_account not in debtors:
            debtors[ln.debtor_account] = DebtorInfo(ln.debtor_name, account=ln.debtor_account,
                                                    origin=Origin(file_name, ln.line, via="fec"))
    for (acct, number), lns in invoices.items():
        first = lns[0]
        excl = None
        if len(lns) == 1:
            issued, amount, settled, excl = first.piece_date, first.amount, not first.open, first.excl_tax
        else:  # one invoice booked on several lines (e.g. instalments)
            issued = min(ln.piece_date for ln in lns)
            amount = sum((ln.amount for ln in lns), Decimal(0))
            settled = all(not ln.open for ln in lns)
        items.append((debtors[acct], ImportedInvoice(
            number, issued, issued + timedelta(days=payment_days), amount,
            Origin(file_name, first.line, via="fec"), due_estimated=True, amount_excl_tax=excl, settled=settled)))
    seen: dict[tuple[str, str, str], int] = {}
    for ln in lines:
        if ln.kind == "invoice" or ln.amount == 0:
            continue
        on = group_invoices.get((ln.debtor_account, ln.lettering), set()) if ln.lettering else set()
        target = next(iter(on)) if len(on) == 1 else None
        origin = Origin(file_name, ln.line, via="fec")
        if ln.kind == "credit_note":
            items.append((debtors[ln.debtor_account], ImportedCreditNote(
                _number(ln), ln.piece_date, -ln.amount, origin, target, settled=not ln.open)))
            continue
        k = (ln.journal, ln.entry, ln.debtor_account)
        seen[k] = seen.get(k, 0) + 1
        pid = f"{ln.journal}-{ln.entry}" + (f"-{seen[k]}" if seen[k] > 1 else "")
        items.append((debtors[ln.debtor_account], ImportedPayment(
            pid, ln.entry_date, -ln.amount, origin, target, clean_text(ln.label), settled=not ln.open)))
    return ImportResult("fec", (file_name,), group_by_debtor(items))


def read_fec(path: str | Path, payment_days: int = 30, creditor_siren: str | None = None) -> ImportResult:
    """Read the FEC at ``path``: its customer items, grouped by debtor. The file's name,
    SIRENFECYYYYMMDD (art. A47 A-1), is compared with the portfolio creditor's SIREN."""
    p = Path(path)
    label = str(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise ImportFileError([Problem(label, None, "", f"larger than {MAX_BYTES // 10**9} GB: not a FEC of one company")])
        data = p.read_bytes()
    except OSError as e:
        raise ImportFileError([Problem(label, None, "", f"cannot read: {e.strerror}")]) from None
    result = open_items(read_lines(data, label), p.name, payment_days)
    m = re.match(r"^(\d{9})FEC(\d{8})", p.name, re.I)
    if m and creditor_siren and m.group(1) != str(creditor_siren).replace(" ", ""):
        warning = Problem(label, None, "", f"the books of SIREN {m.group(1)} (file name), not of the portfolio's creditor "
                          f"(SIREN {creditor_siren}): check that this is the right FEC", "warning")
        result = ImportResult(result.kind, result.files, result.debtors, result.complete, (warning,))
    return result
