"""The balance âgée (aged receivables) of a portfolio: pure computation.

Buckets by days past due of each invoice's outstanding principal: not yet due, 1–30,
31–60, 61–90, 91–120, over 120 (the buckets of the usual aged partner balances). Disputed
invoices (``status: disputed`` in case.yaml) are kept apart from the buckets. Totals per
case are those of the décompte (``dossier compute``): principal outstanding, penalties or
interest, flat indemnities.

DSO (days sales outstanding) = receivables including VAT ÷ sales including VAT over the
period × days of the period, here 91 days, computed only when the sales are known
(``report.sales_last_91_days`` in portfolio.yaml). Example: 45 000 € owed on 91 000 € of
sales in 91 days gives a DSO of 45 days.

:func:`open_case` is the one place that reads a case for the report (case file, journal,
décompte, next step); everything else here computes on its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from dossier import snapshot
from dossier.casefile import LayerNotes
from dossier.errors import CaseFileError, DossierError
from dossier.ladder import PlanItem
from dossier.law.statement import Statement
from dossier.model import Case, Notice
from dossier.portfolio import load_portfolio

ZERO = Decimal("0.00")
#: (key, label, first day late, last day late); None: open-ended
BUCKETS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("current", "not yet due", None, 0),
    ("1-30", "1–30", 1, 30),
    ("31-60", "31–60", 31, 60),
    ("61-90", "61–90", 61, 90),
    ("91-120", "91–120", 91, 120),
    ("120+", "over 120", 121, None),
)
DSO_DAYS = 91


def bucket_of(days_late: int) -> int:
    """Index in :data:`BUCKETS` of an invoice ``days_late`` days past its due date.

    >>> [BUCKETS[bucket_of(d)][0] for d in (-3, 0, 1, 30, 31, 90, 120, 121)]
    ['current', 'current', '1-30', '1-30', '31-60', '61-90', '91-120', '120+']
    """
    for n, (_, _, _, last) in enumerate(BUCKETS):
        if last is None or days_late <= last:
            return n
    raise AssertionError(days_late)


@dataclass(frozen=True)
class CaseInput:
    """What the report needs of one case (from :func:`open_case`)."""

    folder: Path
    case: Case | None
    statement: Statement | None
    plan: PlanItem | None
    notices: tuple[Notice, ...] = ()
    notes: LayerNotes | None = None
    error: str | None = None


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    issued: date
    due: date
    amount: Decimal
    outstanding: Decimal
    days_late: int
    bucket: int
    disputed: bool
    due_estimated: bool


@dataclass(frozen=True)
class CaseRow:
    reference: str
    debtor: str
    folder: Path
    buckets: tuple[Decimal, ...]
    disputed: Decimal
    outstanding: Decimal
    penalties: Decimal
    indemnities: Decimal
    total: Decimal
    #: the last stage sent (case file or journal), None before any notice
    stage: str | None
    next_stage: str | None
    next_on: date | None
    next_reason: str
    first_notice: date | None
    #: payments received since the first notice
    recovered: Decimal
    recovered_payments: tuple[tuple[date, Decimal], ...]
    invoices: tuple[InvoiceRow, ...]
    collective: bool = False
    closed: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Ageing:
    at: date
    rows: tuple[CaseRow, ...]
    buckets: tuple[Decimal, ...]
    disputed: Decimal
    outstanding: Decimal
    penalties: Decimal
    indemnities: Decimal
    total: Decimal
    recovered: Decimal
    #: (YYYY-MM, amount recovered that month), oldest first
    recovered_by_month: tuple[tuple[str, Decimal], ...]
    sales_91: Decimal | None
    dso: Decimal | None

    @property
    def errors(self) -> tuple[CaseRow, ...]:
        return tuple(r for r in self.rows if r.error)

    def top_debtors(self, n: int = 10) -> tuple[CaseRow, ...]:
        return tuple(sorted((r for r in self.rows if not r.error and r.total > 0), key=lambda r: (-r.total, r.reference))[:n])


def open_case(folder: Path, at: date, rates: Any) -> CaseInput:
    """Read one case for the report through the case snapshot (its layers, journal,
    décompte and next step). A case that cannot be read comes back with its error (the
    report lists it)."""

    try:
        state = snapshot.open_case(folder, at, rates)
    except CaseFileError as e:
        first = next((p for p in e.problems if p.severity == "error"), None)
        return CaseInput(folder, None, None, None, error=str(first) if first else "cannot be read")
    except DossierError as e:
        return CaseInput(folder, None, None, None, error=str(e).splitlines()[0])
    if state.statement is None:
        return CaseInput(folder, state.case, None, None, notes=state.notes, error=str(state.rate_error).splitlines()[0])
    return CaseInput(folder, state.case, state.statement, state.plan, state.case.notices, state.notes)


def case_row(ci: CaseInput, at: date) -> CaseRow:
    """One case's line of the balance âgée."""
    buckets = [ZERO] * len(BUCKETS)
    if ci.case is None or ci.statement is None:
        return CaseRow(ci.folder.name, ci.folder.name, ci.folder, tuple(buckets), ZERO, ZERO, ZERO, ZERO, ZERO,
                       None, None, None, "", None, ZERO, (), (), error=ci.error)
    notes = ci.notes
    status = notes.invoice_status if notes else {}
    estimated = notes.due_estimated if notes else frozenset()
    disputed = ZERO
    rows = []
    for inv in ci.statement.invoices:
        days = (at - inv.due_date).days
        b = bucket_of(days)
        is_disputed = status.get(inv.number) == "disputed"
        if inv.outstanding > 0:
            if is_disputed:
                disputed += inv.outstanding
            else:
                buckets[b] += inv.outstanding
        rows.append(InvoiceRow(inv.number, inv.issued, inv.due_date, inv.amount, inv.outstanding, days, b,
                               is_disputed, inv.number in estimated))
    sent = sorted((n for n in ci.notices if n.date <= at), key=lambda n: (n.date, n.stage))
    first = sent[0].date if sent else None
    paid = [(p.date, p.amount) for p in ci.case.payments] + list(notes.closed_payments if notes else ())
    recovered = tuple(sorted((d, a) for d, a in paid if first is not None and first <= d <= at))
    plan = ci.plan
    st = ci.statement
    collective = bool(notes and notes.collective_proceedings)
    if collective:  # no reminder: the claim is declared to the mandataire judiciaire (C. com. L622-24)
        plan = PlanItem(ci.case.reference, None, None, None, "collective proceedings: declare the claim to the mandataire")
    return CaseRow(
        ci.case.reference, ci.case.debtor.name, ci.folder, tuple(buckets), disputed, st.outstanding, st.penalties,
        st.indemnities, st.total, sent[-1].stage if sent else None, plan.stage if plan else None,
        plan.due_on if plan else None, plan.reason if plan else "", first,
        sum((a for _, a in recovered), ZERO), recovered, tuple(rows),
        collective=collective, closed=bool(notes and notes.closed),
    )


def ageing(rows: Iterable[CaseRow], at: date, sales_91: Decimal | None = None) -> Ageing:
    """Totals over the case rows, the recovered amounts by month and the DSO."""
    rows = tuple(rows)
    ok = [r for r in rows if not r.error]
    buckets = tuple(sum((r.buckets[n] for r in ok), ZERO) for n in range(len(BUCKETS)))
    by_month: dict[str, Decimal] = {}
    for r in ok:
        for d, a in r.recovered_payments:
            key = f"{d.year:04d}-{d.month:02d}"
            by_month[key] = by_month.get(key, ZERO) + a
    outstanding = sum((r.outstanding for r in ok), ZERO)
    dso = None
    if sales_91 is not None and sales_91 > 0:
        dso = (outstanding / sales_91 * DSO_DAYS).quantize(Decimal("0.1"))
    return Ageing(
        at, rows, buckets, sum((r.disputed for r in ok), ZERO), outstanding, sum((r.penalties for r in ok), ZERO),
        sum((r.indemnities for r in ok), ZERO), sum((r.total for r in ok), ZERO), sum((r.recovered for r in ok), ZERO),
        tuple(sorted(by_month.items())), sales_91, dso,
    )


def portfolio_ageing(path: str | Path, at: date, rates: Any) -> Ageing:
    """The balance âgée of the portfolio at ``path`` as of ``at``."""

    pf = load_portfolio(path)
    return ageing((case_row(open_case(folder, at, rates), at) for folder in pf.case_dirs()), at, pf.sales_last_91_days)
