"""The décompte (statement) produced by :mod:`dossier.law.penalties`: pure data.

Every figure carries its basis so that letters and the court dossier can show it, and
totals are sums of the rounded lines, so a reader can add them up by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dossier.fmt import rate_digits

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    """One line of the décompte: ``base`` accrues at ``rate`` % a year from ``start`` to
    ``end`` (both inclusive), i.e. ``days`` days; ``amount`` is rounded half-up to the cent."""

    start: date
    end: date
    days: int
    base: Decimal
    rate: Decimal
    amount: Decimal
    #: French text saying where the rate comes from, e.g.
    #: "taux BCE 4,50 % au 01/01/2024 + 10 points (C. com. L441-10)"
    basis: str


@dataclass(frozen=True)
class Reduction:
    """A payment or credit note as applied to one invoice."""

    date: date
    kind: str  # "payment" | "credit_note"
    amount: Decimal  # applied to this invoice's principal
    reference: str | None  # credit note number or payment reference
    #: how it was attributed: "designated by the debtor" or the imputation rule applied
    imputation: str
    #: part of the payment applied to accrued penalties (C. civ. 1343-1 setting), else 0
    to_interest: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class InvoiceStatement:
    number: str
    issued: date
    due_date: date
    amount: Decimal  # TTC
    credited: Decimal
    paid: Decimal  # applied to principal
    outstanding: Decimal
    penalties: Decimal  # accrued, minus what payments imputed to interest
    indemnity: Decimal
    periods: tuple[Period, ...]
    reductions: tuple[Reduction, ...]
    #: "late_penalties" (L441-10) or "legal_interest" (C. civ. 1231-6), or "none"
    regime: str
    #: first day penalties accrue (None when nothing can accrue yet)
    accrual_from: date | None

    @property
    def is_late(self) -> bool:
        return self.accrual_from is not None


@dataclass(frozen=True)
class Imputation:
    """An unallocated (or excess) payment split over invoices, with the rule applied."""

    payment_date: date
    payment_amount: Decimal
    allocations: tuple[tuple[str, Decimal], ...]  # (invoice number, amount)
    rule: str  # French text, e.g. "C. civ. art. 1342-10 : dette échue la plus ancienne"
    unallocated: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Statement:
    as_of: date
    currency: str
    regime: str  # "b2b" | "consumer"
    principal: Decimal  # sum of invoices TTC
    credited: Decimal
    paid: Decimal  # applied to principal
    outstanding: Decimal
    penalties: Decimal
    indemnities: Decimal
    total: Decimal  # outstanding + penalties + indemnities
    invoices: tuple[InvoiceStatement, ...]
    imputations: tuple[Imputation, ...]
    #: French sentences explaining the legal basis of each component, for documents
    bases: tuple[str, ...]
    #: warnings for the user (English), e.g. a contractual rate raised to the legal floor
    warnings: tuple[str, ...]
    #: payments that exceed everything owed (unallocated remainder)
    overpaid: Decimal = Decimal("0.00")
    #: invoices of the case not yet due on ``as_of``, left out of a claim (see :func:`due_part`)
    not_due: tuple[InvoiceStatement, ...] = ()

    def to_json(self) -> dict:
        """The ``dossier compute --json`` shape (documented in docs/case-file.md): amounts as strings with
        two decimals, rates as percentage strings."""

        def m(x: Decimal) -> str:
            return str(x.quantize(CENT))

        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "regime": self.regime,
            "principal": m(self.principal),
            "credited": m(self.credited),
            "paid": m(self.paid),
            "outstanding": m(self.outstanding),
            "penalties": m(self.penalties),
            "indemnities": m(self.indemnities),
            "total": m(self.total),
            "invoices": [
                {
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "amount": m(i.amount),
                    "credited": m(i.credited),
                    "paid": m(i.paid),
                    "outstanding": m(i.outstanding),
                    "penalties": m(i.penalties),
                    "indemnity": m(i.indemnity),
                    "periods": [
                        {
                            "start": p.start.isoformat(),
                            "end": p.end.isoformat(),
                            "days": p.days,
                            "base": m(p.base),
                            "rate": rate_digits(p.rate),
                            "amount": m(p.amount),
                            "basis": p.basis,
                        }
                        for p in i.periods
                    ],
                }
                for i in self.invoices
            ],
            "imputations": [
                {
                    "payment_date": imp.payment_date.isoformat(),
                    "payment_amount": m(imp.payment_amount),
                    "allocations": [{"invoice": n, "amount": m(a)} for n, a in imp.allocations],
                    "unallocated": m(imp.unallocated),
                    "rule": imp.rule,
                }
                for imp in self.imputations
            ],
            "bases": list(self.bases),
            "warnings": list(self.warnings),
        }


def due_part(statement: Statement) -> Statement:
    """The part of ``statement`` a court or bailiff file may claim: the invoices already due
    on its date (due date before ``as_of``); the others are kept in ``not_due``, listed
    apart and not claimed. Totals are the sums of the kept invoices' lines."""
    at = statement.as_of
    kept = tuple(i for i in statement.invoices if i.due_date < at)
    if len(kept) == len(statement.invoices):
        return statement
    left = tuple(i for i in statement.invoices if i.due_date >= at)
    zero = Decimal("0.00")

    def total(attr: str) -> Decimal:
        return sum((getattr(i, attr) for i in kept), zero)

    outstanding, penalties, indemnities = total("outstanding"), total("penalties"), total("indemnity")
    from dataclasses import replace

    return replace(
        statement, principal=total("amount"), credited=total("credited"), paid=total("paid"),
        outstanding=outstanding, penalties=penalties, indemnities=indemnities,
        total=outstanding + penalties + indemnities, invoices=kept, not_due=statement.not_due + left,
    )
