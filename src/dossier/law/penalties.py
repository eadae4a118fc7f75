"""The décompte: late penalties (B2B) or legal interest (consumer), per invoice and period.

Pure computation: no I/O; the rate table is an argument.

**B2B — Code de commerce art. L441-10 and D441-5.** Penalties run *de plein droit* from the
day after the due date, on the amount due including VAT, reduced by payments and credit notes
from their date. Rate: the contractual rate (``terms.penalty_rate``), never below three times
the taux de l'intérêt légal ("autres cas"); without one, the ECB main refinancing rate in
force on 1 January / 1 July + 10 points for the whole half-year. Simple interest, exact days
over 365. Plus a flat indemnity of 40 EUR for recovery costs per invoice paid late.

**Consumer — C. civ. art. 1231-6 and 1344-1.** Legal interest runs from the mise en demeure
(its receipt when recorded, else its sending date); nothing before. Rate of the half-year for
the creditor's category; capital × days × rate / 36,500, leap years included. No flat
indemnity (CPCE L111-8).

**Imputation — C. civ. art. 1342-10.** A payment that does not say which invoice it pays goes
to the debts already due, oldest due date first; debts due on the same day share it pro rata.
Setting ``terms.payment_imputation: interest-first`` applies C. civ. art. 1343-1 (a partial
payment goes first to accrued interest).

Each period line is rounded to the cent, half-up; every total is the sum of its lines.

Worked example (derived from the rate tables): 10,000 EUR TTC due 15 June 2024, paid 20 August 2024, at
the default rate: 15 days at 14.50 % + 51 days at 14.25 % = 59.59 + 199.11 = 258.70 EUR,
plus 40 EUR.

>>> from datetime import date
>>> from decimal import Decimal as D
>>> from dossier.model import Address, Case, Invoice, Party, Payment, Terms
>>> from dossier.law.rates import load_rates
>>> addr = Address(("1 rue A",), "69002", "Lyon")
>>> case = Case("EX6", None, Party("Créancier", addr), Party("Débiteur", addr), Terms(),
...     (Invoice("F1", date(2024, 5, 16), date(2024, 6, 15), D("10000.00")),),
...     payments=(Payment(date(2024, 8, 20), D("10000.00"), "F1"),))
>>> st = compute_statement(case, date(2024, 12, 31), load_rates(user_file=False))
>>> [(p.days, str(p.rate), str(p.amount)) for p in st.invoices[0].periods]
[(15, '14.50', '59.59'), (51, '14.25', '199.11')]
>>> str(st.penalties), str(st.indemnities), str(st.total)
('258.70', '40.00', '298.70')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Mapping

from dossier.errors import RateTableError
from dossier.fmt import rate as _fr
from dossier.law.deadlines import prescription_warnings
from dossier.law.rates import (
    AppliedRate,
    RateTable,
    half_year,
    half_year_end,
    half_year_start,
)
from dossier.law.statement import (
    CENT,
    Imputation,
    InvoiceStatement,
    Period,
    Reduction,
    Statement,
)
from dossier.model import Case, Invoice, Notice

ZERO = Decimal("0.00")
FLAT_INDEMNITY = Decimal("40.00")
ONE_DAY = timedelta(days=1)
#: Loi 2012-387 (22 March 2012): the 40 EUR indemnity and the half-year ECB rule apply to
#: payment periods starting on or after 1 January 2013 (DGCCRF note 2012-164).
REFORM_2013 = date(2013, 1, 1)
#: Code de la commande publique R2192-31 ff.: ECB rate + 8 points, fixed for the whole delay.
PUBLIC_MARGIN = Decimal("8")
#: C. mon. fin. L313-3: + 5 points two months after the decision became enforceable.
JUDGMENT_MAJORATION = Decimal("5")

RULE_OLDEST = "C. civ. art. 1342-10 : imputation sur la dette échue la plus ancienne"
RULE_PRO_RATA = "C. civ. art. 1342-10 : dettes échues le même jour, imputation proportionnelle"
RULE_NOT_DUE = "C. civ. art. 1342-10 : aucune dette échue, imputation sur l’échéance la plus proche"
RULE_EXCESS = "excédent d’un paiement affecté, imputé selon l’art. 1342-10 du Code civil"


def line_amount(base: Decimal, rate: Decimal, days: int) -> Decimal:
    """base × rate % × days / 365, rounded half-up to the cent.

    >>> line_amount(Decimal("2000"), Decimal("3.11"), 30)     # service-public example
    Decimal('5.11')
    """
    return (base * rate * days / Decimal(36500)).quantize(CENT, rounding=ROUND_HALF_UP)


def split_payment(amount: Decimal, interest_due: Decimal, principal_due: Decimal, rule: str = "interest-first") -> tuple[Decimal, Decimal]:
    """How a payment splits between interest and principal (C. civ. art. 1343-1 when
    ``rule == "interest-first"``, else all to principal). Returns (to_interest, to_principal);
    what exceeds both is left for the caller to impute elsewhere.

    >>> split_payment(Decimal("18000"), Decimal("3000"), Decimal("20000"))
    (Decimal('3000'), Decimal('15000'))
    """
    to_interest = min(amount, max(interest_due, ZERO)) if rule == "interest-first" else ZERO
    to_principal = min(amount - to_interest, principal_due)
    return to_interest, to_principal


@dataclass
class _Running:
    """Mutable accrual state of one invoice while events are replayed (internal)."""

    invoice: Invoice
    outstanding: Decimal
    accrual_from: date | None
    seg_start: date | None
    periods: list[Period] = field(default_factory=list)
    reductions: list[Reduction] = field(default_factory=list)
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    late_with_balance: bool = False
    #: cancelled from its issue by a credit note (``cancels: true``): never owed
    cancelled: bool = False
    #: sum of the periods' amounts, kept as they are added (not re-summed per payment)
    accrued: Decimal = ZERO


class _Engine:
    def __init__(self, case: Case, at: date, rates: RateTable | None, *, accrue: bool = True):
        # without rates nothing accrues (accrue=False): an empty table, which names any
        # rate asked of it as missing
        self.case, self.at = case, at
        self.rates: RateTable = rates if rates is not None else RateTable(ecb=())
        self.accrues = accrue
        self.terms = case.terms
        self.consumer = not case.debtor.is_company
        self.public = case.debtor.is_public
        self.majoration_from = _majoration_start(case) if self.consumer else None
        self.warnings: list[str] = []
        self.bases: list[str] = []
        self.imputations: list[Imputation] = []
        self.overpaid = ZERO
        self._rate_cache: dict[tuple, AppliedRate] = {}
        #: first invoice of the imputation order that may still be open (a cursor: linear)
        self._open_from: int = 0
        self.med = self._mise_en_demeure()

    # -- when and at what rate ----------------------------------------------------------
    def _mise_en_demeure(self) -> tuple[date, str] | None:
        notices: list[Notice] = [n for n in self.case.notices_of("mise-en-demeure") if n.date <= self.at]
        if not notices:
            return None
        n = min(notices, key=lambda x: x.date)
        if self.terms.interest_start == "received" and n.received and n.received <= self.at:
            return n.received, f"reçue le {n.received.strftime('%d/%m/%Y')}"
        if self.terms.interest_start == "received" and self.consumer:
            self.warnings.append(
                f"the mise en demeure of {n.date} has no received date: legal interest runs from "
                f"its sending date; record `received:` (the avis de réception) if it came later"
            )
        return n.date, f"envoyée le {n.date.strftime('%d/%m/%Y')}"

    def accrual_from(self, inv: Invoice) -> date | None:
        if self.consumer:
            if self.med is None:
                return None
            med_date = self.med[0]
            if inv.due > med_date:
                self.warnings.append(
                    f"invoice {inv.number} fell due after the mise en demeure of {med_date}: "
                    f"no legal interest on it until a new mise en demeure"
                )
                return None
            return med_date + ONE_DAY
        return inv.due + ONE_DAY

    def rate_for(self, year: int, half: int) -> AppliedRate:
        key = (year, half)
        if key not in self._rate_cache:
            self._rate_cache[key] = self._rate(year, half)
        return self._rate_cache[key]

    def period_end(self, start: date, year: int, half: int) -> date:
        """The last day of the period opened on ``start``: the half-year's end, or the eve
        of the L313-3 majoration when it starts inside the half-year."""
        end = half_year_end(year, half)
        m = self.majoration_from
        if m is not None and start < m <= end:
            return m - ONE_DAY
        return end

    def rate_at(self, r: _Running, start: date, year: int, half: int) -> AppliedRate:
        """The rate of a period of invoice ``r`` starting on ``start``: the regime's rules
        beside the half-year table (public buyer, judgment, contracts before 2013)."""
        if start < REFORM_2013:
            raise RateTableError(
                f"invoice {r.invoice.number}: interest or penalties for {start.isoformat()}: "
                "periods before 1 January 2013 follow the earlier rules (the rate of the ECB's "
                "most recent operation, changing during the half-year; loi 2012-387) and the "
                "rate tables start in 2015: dossier does not compute them rather than guess"
            )
        if self.public:
            return self.public_rate(r.accrual_from or start)
        applied = self.rate_for(year, half)
        if self.majoration_from is not None and start >= self.majoration_from:
            return AppliedRate(
                applied.rate + JUDGMENT_MAJORATION,
                f"{applied.basis}, majoré de 5 points deux mois après que la décision est devenue "
                f"exécutoire (C. mon. fin. art. L313-3)",
                applied.sources,
            )
        return applied

    def public_rate(self, first_day: date) -> AppliedRate:
        """Commande publique (Code de la commande publique R2192-31): the ECB main
        refinancing rate in force on the first day of the half-year in which interest starts
        to run, plus 8 points, fixed for the whole delay."""
        y, h = half_year(first_day)
        key = ("public", y, h)
        if key not in self._rate_cache:
            start = half_year_start(y, h)
            row = self.rates.ecb_on(start, needed_for=f"intérêts moratoires de la commande publique, {y}-{h}")
            basis = (
                f"intérêts moratoires : taux BCE {_fr(row.rate)} au {start.strftime('%d/%m/%Y')} + 8 points, "
                f"fixe pour toute la durée du retard (C. commande publique art. R2192-31)"
            )
            self._rate_cache[key] = AppliedRate(row.rate + PUBLIC_MARGIN, basis, (row,))
        return self._rate_cache[key]

    def _rate(self, year: int, half: int) -> AppliedRate:
        t = self.terms
        if self.consumer:
            legal = self.rates.legal(year, half, private=t.creditor_is_private_person)
            return AppliedRate(legal.rate, legal.basis + " (C. civ. art. 1231-6)", legal.sources)
        if t.penalty_rate is not None:
            legal = self.rates.legal(year, half, private=False)
            floor = legal.rate * 3
            if t.penalty_rate < floor:
                self.warnings.append(
                    f"contractual penalty rate {t.penalty_rate} % is below the legal floor of 3 x "
                    f"the legal rate for {year}-{half} ({floor} %): the floor applies (C. com. L441-10)"
                )
                basis = (
                    f"taux contractuel {_fr(t.penalty_rate)} porté au minimum légal de 3 fois le "
                    f"taux d’intérêt légal ({_fr(legal.rate)} × 3 = {_fr(floor)}) (C. com. art. L441-10)"
                )
                return AppliedRate(floor, basis, legal.sources)
            return AppliedRate(
                t.penalty_rate,
                f"taux contractuel {_fr(t.penalty_rate)} (conditions de vente, C. com. art. L441-10)",
                (),
            )
        default = self.rates.l441_default(year, half)
        if t.floor_applies_to_default:
            legal = self.rates.legal(year, half, private=False)
            floor = legal.rate * 3
            if default.rate < floor:
                basis = (
                    f"{default.basis}, porté au minimum de 3 fois le taux d’intérêt légal "
                    f"({_fr(legal.rate)} × 3 = {_fr(floor)})"
                )
                return AppliedRate(floor, basis, default.sources + legal.sources)
        return default

    # -- accrual --------------------------------------------------------------------------
    def accrue(self, r: _Running, until: date) -> None:
        """Close the running segment of ``r`` at ``until`` (inclusive), one line per
        half-year, at the current base."""
        if r.seg_start is None or until < r.seg_start:
            return
        start = r.seg_start
        while start <= until:
            y, h = half_year(start)
            end = min(until, self.period_end(start, y, h))
            if r.outstanding > 0:
                days = (end - start).days + 1
                applied = self.rate_at(r, start, y, h)
                amount = line_amount(r.outstanding, applied.rate, days)
                r.periods.append(Period(start, end, days, r.outstanding, applied.rate, amount, applied.basis))
                r.accrued += amount
            start = end + ONE_DAY
        r.seg_start = until + ONE_DAY

    def reduce(self, r: _Running, when: date, amount: Decimal, kind: str, reference: str | None, how: str) -> Decimal:
        """Apply up to ``amount`` to invoice ``r`` on ``when``; returns what is left over."""
        self.accrue(r, when)
        if r.accrual_from is not None:
            r.seg_start = max(when + ONE_DAY, r.accrual_from)
        to_interest = ZERO
        if kind == "payment" and self.terms.payment_imputation == "interest-first":
            interest_due = r.accrued - r.interest_paid
            to_interest, _ = split_payment(amount, interest_due, r.outstanding)
        to_principal = min(amount - to_interest, r.outstanding)
        if to_interest == 0 and to_principal == 0:
            return amount
        r.outstanding -= to_principal
        r.interest_paid += to_interest
        if kind == "payment":
            r.paid += to_principal
        else:
            r.credited += to_principal
        r.reductions.append(Reduction(when, kind, to_principal, reference, how, to_interest))
        return amount - to_interest - to_principal

    def impute(self, running: list[_Running], when: date, amount: Decimal, kind: str,
               reference: str | None, rule_override: str | None = None) -> tuple[list[tuple[str, Decimal]], Decimal, str]:
        """C. civ. 1342-10: due debts first, oldest due date first, same due date pro rata."""
        allocations: list[tuple[str, Decimal]] = []
        rule = rule_override or RULE_OLDEST
        # ``running`` is sorted by due date and a settled invoice never reopens: the oldest
        # open invoices are found from a cursor that only moves forward (linear overall,
        # not one scan of every invoice per payment)
        while amount > 0:
            first = self._first_open(running)
            if first is None:
                break
            # the oldest open debts are due ones whenever any open debt is due
            first_due = running[first].invoice.due
            if first_due > when and rule_override is None:
                rule = RULE_NOT_DUE
            group = []
            i = first
            while i < len(running) and running[i].invoice.due == first_due:  # no slice: no copy
                if running[i].outstanding > 0:
                    group.append(running[i])
                i += 1
            if len(group) > 1 and amount < sum(r.outstanding for r in group):
                if rule_override is None:
                    rule = RULE_PRO_RATA
                shares = _pro_rata(amount, [r.outstanding for r in group])
                for r, share in zip(group, shares, strict=True):
                    left = self.reduce(r, when, share, kind, reference, rule)
                    allocations.append((r.invoice.number, share - left))
                    amount -= share - left
                break
            for r in group:
                before = amount
                amount = self.reduce(r, when, amount, kind, reference, rule)
                if before != amount:
                    allocations.append((r.invoice.number, before - amount))
                if amount <= 0:
                    break
        return allocations, amount, rule

    def _first_open(self, running: list[_Running]) -> int | None:
        """Index of the first invoice (in due-date order) with a principal balance."""
        i = self._open_from
        while i < len(running) and running[i].outstanding <= 0:
            i += 1
        self._open_from = i
        return i if i < len(running) else None

    def cancel(self, by_number: dict[str, _Running]) -> None:
        """Invoices a credit note cancels from their issue (``cancels: true``) were never
        owed: nothing accrues and no flat indemnity is due; the credit note still brings
        the balance to zero on its date."""
        for cn in self.case.credit_notes:
            if cn.cancels and cn.invoice in by_number and cn.date <= self.at:
                gone = by_number[cn.invoice]
                gone.cancelled, gone.accrual_from, gone.seg_start = True, None, None

    # -- the whole décompte -------------------------------------------------------------
    def run(self) -> Statement:
        case, at = self.case, self.at
        running = []
        for inv in sorted(case.invoices, key=lambda i: (i.due, i.issued, i.number)):
            start = self.accrual_from(inv) if self.accrues else None
            if start is not None and start > at:
                start = None  # not late (yet) on the computation date
            running.append(_Running(inv, inv.amount_incl_tax, start, start))
        by_number = {r.invoice.number: r for r in running}
        self.cancel(by_number)

        # events: credit notes before payments on the same day; later ones are ignored
        events: list[tuple[date, int, int, object]] = []
        for n, cn in enumerate(case.credit_notes):
            if cn.date <= at:
                events.append((cn.date, 0, n, cn))
        for n, p in enumerate(case.payments):
            if p.date <= at:
                events.append((p.date, 1, n, p))
        ignored = len(case.credit_notes) + len(case.payments) - len(events)
        if ignored:
            self.warnings.append(f"{ignored} payment(s) or credit note(s) dated after {at} are not taken into account")
        events.sort(key=lambda e: (e[0], e[1], e[2]))

        self._open_from = 0
        passed = 0  # running[:passed]: fell due before the current event
        for when, order, _, ev in events:
            # an invoice late at this moment with a balance owes the flat indemnity; a
            # balance only decreases, so looking once, at the first event after the due
            # date, is enough
            while passed < len(running) and running[passed].invoice.due < when:
                if running[passed].outstanding > 0:
                    running[passed].late_with_balance = True
                passed += 1
            kind = "credit_note" if order == 0 else "payment"
            reference = getattr(ev, "number", None) or getattr(ev, "reference", None)
            amount: Decimal = ev.amount  # type: ignore[attr-defined]
            target = getattr(ev, "invoice", None)
            if target and target in by_number:
                designated = "avoir affecté à la facture" if kind == "credit_note" else "paiement affecté par le débiteur"
                left = self.reduce(by_number[target], when, amount, kind, reference, designated)
                if left > 0:
                    allocs, rest, rule = self.impute(running, when, left, kind, reference, RULE_EXCESS)
                    self._record_imputation(when, left, allocs, rest, rule)
            else:
                allocs, rest, rule = self.impute(running, when, amount, kind, reference)
                self._record_imputation(when, amount, allocs, rest, rule)

        for r in running:
            if r.invoice.due < at and r.outstanding > 0:
                r.late_with_balance = True
            self.accrue(r, at)
        return self._statement(running)

    def _record_imputation(self, when: date, amount: Decimal, allocs, rest: Decimal, rule: str) -> None:
        if rest > 0:
            self.overpaid += rest
            self.warnings.append(f"{rest} EUR paid on {when} exceeds everything owed: left unallocated")
        self.imputations.append(Imputation(when, amount, tuple(allocs), rule, rest))

    def _statement(self, running: list[_Running]) -> Statement:
        invoices = []
        flat = (not self.consumer) and self.terms.flat_indemnity
        for r in running:
            penalties = r.accrued - r.interest_paid
            indemnity = FLAT_INDEMNITY if flat and r.late_with_balance and not r.cancelled \
                and r.invoice.issued >= REFORM_2013 else ZERO
            invoices.append(
                InvoiceStatement(
                    number=r.invoice.number, issued=r.invoice.issued, due_date=r.invoice.due,
                    amount=r.invoice.amount_incl_tax, credited=r.credited, paid=r.paid,
                    outstanding=r.outstanding, penalties=penalties, indemnity=indemnity,
                    periods=tuple(r.periods), reductions=tuple(r.reductions),
                    regime=("legal_interest" if self.consumer else "late_penalties") if r.periods else "none",
                    accrual_from=r.accrual_from if r.periods or r.late_with_balance else None,
                )
            )
        # keep the case file's order in the output
        order = {inv.number: n for n, inv in enumerate(self.case.invoices)}
        invoices.sort(key=lambda i: order[i.number])

        def total(attr: str) -> Decimal:
            return sum((getattr(i, attr) for i in invoices), ZERO)

        outstanding, penalties, indemnities = total("outstanding"), total("penalties"), total("indemnity")
        self._write_bases(invoices)
        self.warnings.extend(prescription_warnings(
            ((i.number, i.due_date, i.outstanding) for i in invoices), self.at, self.consumer))
        return Statement(
            as_of=self.at, currency=self.case.currency, regime="consumer" if self.consumer else "b2b",
            principal=total("amount"), credited=total("credited"), paid=total("paid"),
            outstanding=outstanding, penalties=penalties, indemnities=indemnities,
            total=outstanding + penalties + indemnities, invoices=tuple(invoices),
            imputations=tuple(self.imputations), bases=tuple(self.bases),
            warnings=tuple(dict.fromkeys(self.warnings)), overpaid=self.overpaid,
        )

    def _write_bases(self, invoices: list[InvoiceStatement]) -> None:
        b = self.bases
        if self.majoration_from is not None:
            b.append(
                f"Taux de l'intérêt légal majoré de 5 points à compter du "
                f"{self.majoration_from.strftime('%d/%m/%Y')}, deux mois après que la décision "
                f"est devenue exécutoire (C. mon. fin. art. L313-3)."
            )
        if self.public:
            b.append(
                "Intérêts moratoires dus de plein droit dès le lendemain de l’expiration du délai "
                "de paiement (C. commande publique art. L2192-13 et R2192-31), au taux de la Banque "
                "centrale européenne en vigueur au premier jour du semestre au cours duquel ils ont "
                "commencé à courir, majoré de 8 points et fixe pour toute la durée du retard, calculés en intérêts simples : "
                "capital × taux × nombre de jours / 365 ; indemnité forfaitaire pour frais de "
                "recouvrement de 40 € (art. D2192-35)."
            )
            return
        if self.consumer:
            if self.med:
                b.append(
                    f"Intérêts au taux légal à compter de la mise en demeure {self.med[1]} "
                    f"(C. civ. art. 1231-6 et 1344-1), calculés en intérêts simples : "
                    f"capital × taux × nombre de jours / 36 500."
                )
            else:
                b.append("Aucun intérêt moratoire avant la mise en demeure (C. civ. art. 1231-6 et 1344-1).")
            return
        b.append(
            "Pénalités de retard dues de plein droit dès le lendemain de la date d’échéance, "
            "sur le montant TTC restant dû (C. com. art. L441-10), calculées en intérêts simples : "
            "capital × taux × nombre de jours / 365, arrondies au centime par période."
        )
        if self.terms.penalty_rate is None:
            b.append(
                "À défaut de taux contractuel, taux de la Banque centrale européenne appliqué à son "
                "opération de refinancement la plus récente, majoré de 10 points ; le taux en vigueur "
                "au 1er janvier vaut pour le premier semestre, celui du 1er juillet pour le second."
            )
        if any(i.indemnity for i in invoices):
            b.append(
                "Indemnité forfaitaire pour frais de recouvrement de 40 € par facture payée en retard "
                "(C. com. art. L441-10 et D441-5)."
            )
        if self.imputations:
            b.append(
                "Paiements non affectés imputés sur les dettes échues, la plus ancienne d’abord "
                "(C. civ. art. 1342-10)."
            )
        if self.terms.payment_imputation == "interest-first":
            b.append("Paiements partiels imputés d’abord sur les intérêts (C. civ. art. 1343-1).")



def _pro_rata(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``amount`` proportionally to ``weights`` in cents; the rounding remainder goes
    to the first share, so the shares add up exactly."""
    whole = sum(weights)
    shares = [(amount * w / whole).quantize(CENT, rounding=ROUND_DOWN) for w in weights]
    shares[0] += amount - sum(shares)
    return shares


def principal_outstanding(case: Case, at: date) -> dict[str, Decimal]:
    """Principal still owed per invoice on ``at``, after credit notes and payments imputed
    exactly as in the décompte (C. civ. 1342-10). Nothing accrues, so no rate is needed:
    the ladder plans with it on any date."""
    statement = _Engine(case, at, None, accrue=False).run()
    return {i.number: i.outstanding for i in statement.invoices}


def prescription_for_case(case: Case, at: date, owed: Mapping[str, Decimal] | None = None) -> list[tuple[int, str]]:
    """(invoice index, warning) for the invoices of ``case`` whose claim is or will soon be
    time-barred (C. consom. L218-2; C. com. L110-4, C. civ. 2224), on the principal still
    owed as imputed by the décompte (``owed``, computed when not given); no rate needed.
    For `check`, `plan` and reports."""
    owed = principal_outstanding(case, at) if owed is None else owed
    index = {inv.number: n for n, inv in enumerate(case.invoices)}
    rows = ((i.number, i.due, owed.get(i.number, ZERO)) for i in case.invoices)
    return [(index[w.split(" ", 2)[1]], w) for w in prescription_warnings(rows, at, not case.debtor.is_company)]


def compute_statement(case: Case, at: date, rates: RateTable) -> Statement:
    """The décompte of ``case`` as of ``at`` (inclusive). Raises
    :class:`~dossier.errors.RateTableError` when a needed rate is not in ``rates``."""
    return _Engine(case, at, rates).run()


def _majoration_start(case: Case) -> date | None:
    """C. mon. fin. L313-3: the day the legal rate is raised by 5 points, two months after
    the decision became enforceable (None without a ``judgment:``).

    >>> _add_months(date(2015, 9, 17), 2)
    datetime.date(2015, 11, 17)
    """
    j = case.judgment
    return _add_months(j.enforceable, 2) if j is not None else None


def _add_months(d: date, months: int) -> date:
    """``d`` plus whole months, the day clipped to the month's end (31 Dec + 2 -> 28/29 Feb)."""
    import calendar

    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))
