"""From an :class:`~dossier.imports.ImportResult` to a plan of changes to a portfolio.

Rules of a rerun (the same or a newer export):

- one case per debtor, found again by SIREN, else by account, else by normalised name
  (the keys are kept in ``imported.yaml`` under ``import.keys``);
- an invoice is identified by its number, a credit note by its number, a payment by its
  id (journal and entry number for a FEC): never twice;
- amounts and payments are updated; an invoice the books show settled is closed
  (``status: paid``); an export that lists every open item (an aged balance) closes the
  known open invoices it no longer lists (``status: closed``);
- settled items of a debtor or invoice nobody imported yet are history, not claims: left out;
- only ``imported.yaml`` is rewritten. ``case.yaml`` is created once, minimal, and never
  touched again; notices, the journal and ``out/`` are never touched; an evidence file
  already in ``pieces/`` is never overwritten.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from dossier.casefile import CASE_FILE, IMPORTED_FILE
from dossier.errors import Problem
from dossier.fmt import slug
from dossier.imports import (
    DebtorInfo,
    DebtorItems,
    ImportedCreditNote,
    ImportedInvoice,
    ImportedPayment,
    ImportFileError,
    ImportResult,
    normalise_name,
)
from dossier.portfolio import Portfolio

HEADER = ("# Written by `dossier import`, rewritten by every import: do not edit.\n"
          "# Hand edits go in case.yaml, which wins over this file (see docs/portfolio.md).\n")
CASE_TEMPLATE = ("# Hand edits for this case. What you write here wins over imported.yaml (rewritten by\n"
                 "# `dossier import`) and over ../portfolio.yaml. An invoice is changed by repeating its\n"
                 "# number, e.g. `invoices: [{{number: F-12, due: 2026-03-31}}]`, and left out with\n"
                 "# `status: ignored`. See docs/portfolio.md.\n"
                 "reference: {reference}\n")


@dataclass(frozen=True)
class Change:
    case: str
    #: "new case", "add", "update", "close", "reopen", "keep"
    action: str
    what: str

    def __str__(self) -> str:
        return f"{self.case}: {self.action} {self.what}".rstrip()


@dataclass(frozen=True)
class CasePlan:
    folder: Path
    new: bool
    #: the whole new content of imported.yaml
    imported: dict[str, Any]
    changes: tuple[Change, ...]
    #: (evidence file read by the importer, destination in the case's pieces/)
    copies: tuple[tuple[Path, Path], ...] = ()

    @property
    def changed(self) -> bool:
        return any(c.action != "keep" for c in self.changes)


@dataclass(frozen=True)
class ImportPlan:
    portfolio: Path
    cases: tuple[CasePlan, ...]
    warnings: tuple[Problem, ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for cp in self.cases for c in cp.changes)


def money(d: Decimal) -> str:
    """"1 200,00 €" (non-breaking spaces, as :func:`dossier.fmt.money`) without babel's
    cost, which dominated a 10,000-invoice import."""
    s = f"{abs(d):,.2f}".replace(",", "\u00a0").replace(".", ",")
    return f"{'-' if d < 0 else ''}{s}\u00a0€"


def _amount(d: Decimal) -> str:
    return format(d.quantize(Decimal("0.01")), "f")


def _existing_cases(portfolio: Portfolio) -> tuple[dict[str, Path], dict[Path, dict]]:
    import yaml

    index: dict[str, Path] = {}
    data: dict[Path, dict] = {}
    for folder in portfolio.case_dirs():
        f = folder / IMPORTED_FILE
        if not f.is_file():
            for k in _hand_case_keys(folder / CASE_FILE):
                index.setdefault(k, folder)
            continue
        try:
            d = yaml.load(f.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise ImportFileError([Problem(str(f), None, "", f"cannot be read ({type(e).__name__}); it is the importer's "
                                           "own file: restore it from a backup or delete it and import again")]) from None
        if not isinstance(d, dict):
            d = {}
        data[folder] = d
        keys = list((d.get("import") or {}).get("keys") or [])
        siren = (d.get("debtor") or {}).get("siren")
        if siren:
            keys.append(f"siren:{siren}")
        for k in keys:
            index.setdefault(str(k), folder)
    return index, data


def _hand_case_keys(case_file: Path) -> list[str]:
    """A case written by hand (no imported.yaml): its debtor's SIREN and name, so that an
    import adds to it rather than making a second case for the same debtor."""
    import yaml


    try:
        d = yaml.load(case_file.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return []  # `dossier check` reports it
    debtor = d.get("debtor") if isinstance(d, dict) else None
    if not isinstance(debtor, dict):
        return []
    keys = [f"siren:{debtor['siren']}"] if debtor.get("siren") else []
    if isinstance(debtor.get("name"), str):
        keys.append(f"name:{normalise_name(debtor['name'])}")
    return keys


def _debtor_yaml(old: dict, d: DebtorInfo) -> dict:
    out = dict(old)
    out.setdefault("kind", "company")
    for key, value in (("name", d.name), ("siren", d.siren), ("siret", d.siret), ("vat_number", d.vat_number),
                       ("email", d.email)):
        if value:
            out[key] = value
    if d.address_lines and d.postal_code and d.city:
        out["address"] = {"lines": list(d.address_lines), "postal_code": d.postal_code, "city": d.city,
                          "country": d.country or "FR"}
    if d.origin is not None:
        out["source"] = d.origin.to_yaml()
    return out


def _invoice_yaml(old: dict | None, inv: ImportedInvoice, file_rel: str | None) -> dict:
    rec: dict[str, Any] = {"number": inv.number, "issued": inv.issued}
    keep_due = old is not None and not old.get("due_estimated") and inv.due_estimated and old.get("due")
    rec["due"] = old["due"] if keep_due else inv.due
    if inv.due_estimated and not keep_due:
        rec["due_estimated"] = True
    if inv.amount_excl_tax is not None and inv.amount_excl_tax <= inv.amount_incl_tax:
        rec["amount_excl_tax"] = _amount(inv.amount_excl_tax)
    rec["amount_incl_tax"] = _amount(inv.amount_incl_tax)
    file_rel = file_rel or (old or {}).get("file")
    if file_rel:
        rec["file"] = file_rel
    for key, value in (("terms_text", inv.terms_text), ("penalty_note", inv.penalty_note)):
        if value or (old or {}).get(key):
            rec[key] = value or old[key]  # type: ignore[index]
    rec["status"] = "paid" if inv.settled else "open"
    rec["source"] = inv.origin.to_yaml()
    return rec


class _CaseMerge:
    """The merge of one debtor's items into the imported data of one case."""

    def __init__(self, name: str, folder: Path, old: dict, result: ImportResult):
        self.name = name
        self.folder = folder
        self.old = old
        self.result = result
        self.changes: list[Change] = []
        self.copies: list[tuple[Path, Path]] = []
        self.warnings: list[Problem] = []

    def note(self, action: str, what: str) -> None:
        self.changes.append(Change(self.name, action, what))

    def evidence(self, src: Path | None, number: str) -> str | None:
        if src is None:
            return None
        dst = self.folder / "pieces" / f"{slug(number[:240], 'debiteur', lower=True, limit=60)}{src.suffix.lower()}"
        if dst.exists() and dst.read_bytes() != src.read_bytes():
            self.warnings.append(Problem(str(dst), None, "", f"kept as it is (not overwritten by {src.name})", "warning"))
        elif not dst.exists():
            self.copies.append((src, dst))
        return f"pieces/{dst.name}"

    def invoices(self, items: DebtorItems) -> list[dict]:
        old = [r for r in self.old.get("invoices") or [] if isinstance(r, dict) and r.get("number") is not None]
        by_number = {str(r["number"]): n for n, r in enumerate(old)}
        out = [dict(r) for r in old]
        seen: set[str] = set()
        for inv in items.invoices:
            if inv.currency != "EUR":
                self.warnings.append(Problem(str(inv.origin), None, "", f"invoice {inv.number} is in {inv.currency}: "
                                             "dossier computes in euros only; left out", "warning"))
                continue
            seen.add(inv.number)
            n = by_number.get(inv.number)
            prev = out[n] if n is not None else None
            if prev is None and inv.settled:
                continue  # history of a debtor nobody imported: not a claim
            rec = _invoice_yaml(prev, inv, self.evidence(inv.file, inv.number))
            label = f"invoice {inv.number} {money(inv.amount_incl_tax)}"
            if prev is None:
                by_number[inv.number] = len(out)
                out.append(rec)
                self.note("add", label)
                continue
            out[n] = rec
            was_closed = prev.get("status") in ("paid", "closed")
            if inv.settled and not was_closed:
                self.note("close", f"{label}: settled in the books")
            elif not inv.settled and was_closed:
                self.note("reopen", label)
            else:
                self.note("update" if _differs(prev, rec) else "keep", label)
        if self.result.complete:
            for rec in out:
                if (rec.get("status") in ("open", None) and str(rec["number"]) not in seen
                        and (rec.get("source") or {}).get("via") == self.result.kind):
                    rec["status"] = "closed"
                    self.note("close", f"invoice {rec['number']}: no longer in the export of open items")
        return out

    def records(self, key: str, items: tuple, known: set[str], ident: str) -> list[dict]:
        old = [r for r in self.old.get(key) or [] if isinstance(r, dict)]
        by_id = {str(r.get(ident)): n for n, r in enumerate(old) if r.get(ident) is not None}
        out = [dict(r) for r in old]
        what = "payment" if key == "payments" else "credit note"
        for it in items:
            rid = str(getattr(it, ident))
            n = by_id.get(rid)
            if n is None and it.settled and it.invoice not in known:
                continue
            rec = self.record_yaml(it)
            if rec.get("invoice") and rec["invoice"] not in known:
                del rec["invoice"]  # an invoice nobody imported: the amount is imputed by law
            label = f"{what} {rid} {money(it.amount)}" + (f" on {it.invoice}" if it.invoice else "")
            if n is None:
                by_id[rid] = len(out)
                out.append(rec)
                self.note("add", label)
            else:
                self.note("update" if _differs(out[n], rec) else "keep", label)
                out[n] = rec
        return out

    def record_yaml(self, it: ImportedPayment | ImportedCreditNote) -> dict:
        if isinstance(it, ImportedPayment):
            rec: dict[str, Any] = {"id": it.id, "date": it.date, "amount": _amount(it.amount)}
            if it.date_estimated:
                rec["date_estimated"] = True
            if it.invoice:
                rec["invoice"] = it.invoice
            if it.reference:
                rec["reference"] = it.reference
        else:
            rec = {"number": it.number, "date": it.date, "amount": _amount(it.amount)}
            if it.invoice:
                rec["invoice"] = it.invoice
            f = self.evidence(it.file, it.number)
            if f:
                rec["file"] = f
        rec["source"] = it.origin.to_yaml()
        return rec

    def build(self, items: DebtorItems) -> dict[str, Any]:
        invoices = self.invoices(items)
        known = {str(r["number"]) for r in invoices}
        payments = self.records("payments", items.payments, known, "id")
        credits = self.records("credit_notes", items.credit_notes, known, "number")
        keys = sorted(set((self.old.get("import") or {}).get("keys") or []) | set(items.debtor.keys))
        out: dict[str, Any] = {"import": {"keys": keys}, "debtor": _debtor_yaml(self.old.get("debtor") or {}, items.debtor),
                               "invoices": invoices}
        if payments:
            out["payments"] = payments
        if credits:
            out["credit_notes"] = credits
        if self.old and _differs(out["debtor"], self.old.get("debtor") or {}):
            self.note("update", f"debtor {items.debtor.name}")
        return out


def _differs(a: dict, b: dict) -> bool:
    return {k: str(v) for k, v in a.items() if k != "source"} != {k: str(v) for k, v in b.items() if k != "source"}


def plan_import(portfolio: Portfolio, result: ImportResult) -> ImportPlan:
    """What the import would change, case by case (nothing is written)."""
    index, existing = _existing_cases(portfolio)
    taken = {p.name for p in portfolio.root.iterdir()} if portfolio.root.is_dir() else set()
    plans: list[CasePlan] = []
    warnings: list[Problem] = list(result.warnings)
    for items in result.debtors:
        folder = next((index[k] for k in items.debtor.keys if k in index), None)
        new = folder is None
        if new:
            if not any(not i.settled for i in items.invoices):
                left = [f"credit note {c.number}" for c in items.credit_notes if not c.settled]
                left += [f"payment {p.id}" for p in items.payments if not p.settled]
                if left:
                    warnings.append(Problem(str(items.debtor.origin or result.files[0]), None, "",
                                            f"{', '.join(left[:5])} of {items.debtor.name}, who has no open invoice in "
                                            "the portfolio: left out", "warning"))
                continue  # nothing open for a debtor not yet in the portfolio
            name = slug(items.debtor.name[:200], 'debiteur', lower=True, limit=48)
            n = 1
            while (f"{name}-{n}" if n > 1 else name) in taken:
                n += 1
            name = f"{name}-{n}" if n > 1 else name
            taken.add(name)
            folder = portfolio.root / name
            for k in items.debtor.keys:
                index.setdefault(k, folder)
        m = _CaseMerge(folder.name, folder, existing.get(folder, {}), result)
        if new:
            m.note("new case", f"for {items.debtor.name}")
        data = m.build(items)
        existing[folder] = data
        warnings.extend(m.warnings)
        plans.append(CasePlan(folder, new, data, tuple(m.changes), tuple(m.copies)))
    return ImportPlan(portfolio.root, _coalesce(plans), tuple(warnings))


def _coalesce(plans: list[CasePlan]) -> tuple[CasePlan, ...]:
    """Several debtors of one export that are one case (same SIREN under two accounts):
    the last plan of a folder holds the merged content of all."""
    groups: dict[Path, list[CasePlan]] = {}
    for p in plans:
        groups.setdefault(p.folder, []).append(p)
    out = []
    for folder, group in groups.items():
        out.append(CasePlan(folder, any(q.new for q in group), group[-1].imported,
                            tuple(c for q in group for c in q.changes), tuple(c for q in group for c in q.copies)))
    return tuple(out)


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _flow(value: Any) -> str:
    """A value as YAML flow text: strings double-quoted (JSON escapes are YAML escapes),
    dates bare ISO, records and lists on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False)


def _key(k: Any) -> str:
    return str(k) if _PLAIN_KEY.match(str(k)) else json.dumps(str(k), ensure_ascii=False)


def imported_text(data: dict[str, Any]) -> str:
    """imported.yaml: mappings in block style, one line per record (diffs stay readable;
    written directly, the YAML emitter being ~50x slower on 10,000 invoices)."""
    lines = [HEADER.rstrip("\n")]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{_key(key)}:")
            lines.extend(f"  {_key(k)}: {_flow(v)}" for k, v in value.items())
        elif isinstance(value, list):
            lines.append(f"{_key(key)}:")
            lines.extend(f"  - {_flow(v)}" for v in value)
        else:
            lines.append(f"{_key(key)}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes) -> None:
    """Atomic replace (temp file in the same folder + os.replace): never a half-written
    file. Without the journal's fsync: these files are rewritten from the export at will."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def apply_plan(plan: ImportPlan) -> list[Path]:
    """Write the plan: evidence copies, imported.yaml (atomically), case.yaml only for a new
    case. Returns the files written."""
    written: list[Path] = []
    for cp in plan.cases:
        if not cp.changed and (cp.folder / IMPORTED_FILE).is_file():
            continue
        cp.folder.mkdir(parents=True, exist_ok=True)
        for src, dst in cp.copies:
            if not dst.exists():
                _write(dst, src.read_bytes())
                written.append(dst)
        f = cp.folder / IMPORTED_FILE
        _write(f, imported_text(cp.imported).encode("utf-8"))
        written.append(f)
        case = cp.folder / CASE_FILE
        if not case.exists():
            _write(case, CASE_TEMPLATE.format(reference=cp.folder.name).encode("utf-8"))
            written.append(case)
    return written
