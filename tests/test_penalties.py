"""The décompte engine: worked examples to the cent, then properties (hypothesis).

Published examples come from shared/LEGAL.md §5; the others are computed by hand in the
comment beside each row (simple interest, base × rate × days / 36,500, half-up per line).
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier.errors import RateTableError
from dossier.law.penalties import compute_statement, line_amount, split_payment
from dossier.model import Address, Case, CreditNote, Invoice, Notice, Party, Payment, Terms

ADDR = Address(("1 rue de la République",), "69002", "Lyon")
CREDITOR = Party("Atelier Martin", ADDR, siren="732829320")
COMPANY = Party("Boulangerie Dupont", ADDR, kind="company")
CONSUMER = Party("Sophie Lefèvre", ADDR, kind="consumer")


def case(invoices, payments=(), credit_notes=(), notices=(), debtor=COMPANY, **terms):
    return Case("T", None, CREDITOR, debtor, Terms(**terms), tuple(invoices), tuple(payments),
                tuple(credit_notes), (), tuple(notices))


def inv(number, due, amount, issued=None):
    return Invoice(number, issued or due - timedelta(days=30), due, D(amount))


# -- published single-line figures -----------------------------------------------------
@pytest.mark.parametrize(
    "base, rate, days, expected, source",
    [
        ("2000", "3.11", 30, "5.11", "service-public, legal interest sheet"),
        ("1000", "14.5", 30, "11.92", "heropay.eu"),
        ("3000", "14.76", 30, "36.39", "help.shine.fr"),
        ("15000", "15", 30, "184.93", "Les Echos Publishing"),
    ],
)
def test_published_line_figures(base, rate, days, expected, source):
    assert line_amount(D(base), D(rate), days) == D(expected), source


def test_published_1343_1_split():
    # cours-de-droit.net: debt 20,000 + interest 3,000, payment 18,000
    assert split_payment(D("18000"), D("3000"), D("20000")) == (D("3000"), D("15000"))
    assert split_payment(D("18000"), D("3000"), D("20000"), rule="principal") == (D("0"), D("18000"))


# -- whole décomptes ------------------------------------------------------------------
EXAMPLES = [
    # (id, case, at, expected periods [(start, end, days, base, rate, amount)], penalties, indemnities, total)
    (
        "LEGAL-6 default rate across 1 July 2024",
        case([inv("F1", date(2024, 6, 15), "10000.00")], [Payment(date(2024, 8, 20), D("10000.00"), "F1")]),
        date(2024, 12, 31),
        [("2024-06-16", "2024-06-30", 15, "10000.00", "14.50", "59.59"),
         ("2024-07-01", "2024-08-20", 51, "10000.00", "14.25", "199.11")],
        "258.70", "40.00", "298.70",
    ),
    (
        "Les Echos: 15,000 due 15 Apr 2018 paid 15 May 2018 at 15 % contractual",
        case([inv("F1", date(2018, 4, 15), "15000.00")], [Payment(date(2018, 5, 15), D("15000.00"), "F1")], penalty_rate=D("15")),
        date(2018, 6, 1),
        [("2018-04-16", "2018-05-15", 30, "15000.00", "15", "184.93")],
        "184.93", "40.00", "224.93",
    ),
    (
        # contractual 5 % < 3 × 5.07 = 15.21 % in 2024-1: the floor applies.
        # 1000 × 15.21 × 30 / 36500 = 12.5013 -> 12.50
        "contractual rate below the 3x legal floor",
        case([inv("F1", date(2024, 1, 31), "1000.00")], penalty_rate=D("5")),
        date(2024, 3, 1),
        [("2024-02-01", "2024-03-01", 30, "1000.00", "15.21", "12.50")],
        "12.50", "40.00", "1052.50",
    ),
    (
        # unallocated 1500 on 1 March 2025 -> oldest due first: A 1000, B 500 (C. civ. 1342-10).
        # A: 11 Jan..1 Mar = 50 d × 1000 × 13.15 % = 18.0137 -> 18.01
        # B: 11 Feb..1 Mar = 19 d × 1000 = 6.8452 -> 6.85; 2..31 Mar = 30 d × 500 = 5.4041 -> 5.40
        "unallocated payment imputed to the oldest due invoice",
        case([inv("A", date(2025, 1, 10), "1000.00"), inv("B", date(2025, 2, 10), "1000.00")],
             [Payment(date(2025, 3, 1), D("1500.00"))]),
        date(2025, 3, 31),
        [("2025-01-11", "2025-03-01", 50, "1000.00", "13.15", "18.01"),
         ("2025-02-11", "2025-03-01", 19, "1000.00", "13.15", "6.85"),
         ("2025-03-02", "2025-03-31", 30, "500.00", "13.15", "5.40")],
        "30.26", "80.00", "610.26",
    ),
    (
        # consumer, MED received 1 Dec 2025: 2 Dec..31 Dec = 30 d at 2.76 % -> 4.5370 -> 4.54;
        # 1..30 Jan 2026 = 30 d at 2.62 % -> 4.3068 -> 4.31; no flat indemnity
        "consumer legal interest from the mise en demeure's receipt",
        case([inv("F1", date(2025, 10, 1), "2000.00")], debtor=CONSUMER,
             notices=[Notice("mise-en-demeure", date(2025, 11, 28), "lrar", received=date(2025, 12, 1))]),
        date(2026, 1, 30),
        [("2025-12-02", "2025-12-31", 30, "2000.00", "2.76", "4.54"),
         ("2026-01-01", "2026-01-30", 30, "2000.00", "2.62", "4.31")],
        "8.85", "0.00", "2008.85",
    ),
    (
        # same with interest_start: sent -> from 28 Nov: 3 more days at 2.76 %: 33 d -> 4.9907 -> 4.99
        "consumer legal interest from the sending date (setting)",
        case([inv("F1", date(2025, 10, 1), "2000.00")], debtor=CONSUMER, interest_start="sent",
             notices=[Notice("mise-en-demeure", date(2025, 11, 28), "lrar", received=date(2025, 12, 1))]),
        date(2026, 1, 30),
        [("2025-11-29", "2025-12-31", 33, "2000.00", "2.76", "4.99"),
         ("2026-01-01", "2026-01-30", 30, "2000.00", "2.62", "4.31")],
        "9.30", "0.00", "2009.30",
    ),
    (
        "consumer, no mise en demeure: nothing accrues",
        case([inv("F1", date(2025, 10, 1), "2000.00")], debtor=CONSUMER),
        date(2026, 1, 30), [], "0.00", "0.00", "2000.00",
    ),
    (
        # two invoices due the same day share an unallocated payment pro rata: 600/400 of 500
        # -> 300 and 200. 1 day late (11 Mar) then paid 12 Mar... at = payment day:
        # X: 11..12 Mar = 2 d × 600 × 13.15 % = 0.4323 -> 0.43; Y: 2 d × 400 = 0.2882 -> 0.29
        "same due date: pro rata",
        case([inv("X", date(2025, 3, 10), "600.00"), inv("Y", date(2025, 3, 10), "400.00")],
             [Payment(date(2025, 3, 12), D("500.00"))]),
        date(2025, 3, 12),
        [("2025-03-11", "2025-03-12", 2, "600.00", "13.15", "0.43"),
         ("2025-03-11", "2025-03-12", 2, "400.00", "13.15", "0.29")],
        "0.72", "80.00", "580.72",
    ),
    (
        # credit note of 200 on 20 Feb 2026 reduces the base from 21 Feb; default rate 12.15 %:
        # 5..20 Feb = 16 d × 1200 = 6.3912 -> 6.39; 21 Feb..31 Mar = 39 d × 1000 = 12.9822 -> 12.98
        "credit note reduces the base from the next day",
        case([inv("F1", date(2026, 2, 4), "1200.00")], credit_notes=[CreditNote("AV1", date(2026, 2, 20), D("200.00"), "F1")]),
        date(2026, 3, 31),
        [("2026-02-05", "2026-02-20", 16, "1200.00", "12.15", "6.39"),
         ("2026-02-21", "2026-03-31", 39, "1000.00", "12.15", "12.98")],
        "19.37", "40.00", "1059.37",
    ),
    (
        # floor setting on the default rate in 2024-1: ECB+10 = 14.50 < 3 × 5.07 = 15.21
        # 1000 × 15.21 × 30 / 36500 -> 12.50
        "floor_applies_to_default setting",
        case([inv("F1", date(2024, 1, 31), "1000.00")], floor_applies_to_default=True),
        date(2024, 3, 1),
        [("2024-02-01", "2024-03-01", 30, "1000.00", "15.21", "12.50")],
        "12.50", "40.00", "1052.50",
    ),
    (
        "flat indemnity disabled",
        case([inv("F1", date(2024, 1, 31), "1000.00")], flat_indemnity=False),
        date(2024, 3, 1),
        [("2024-02-01", "2024-03-01", 30, "1000.00", "14.50", "11.92")],
        "11.92", "0.00", "1011.92",
    ),
]


@pytest.mark.parametrize("name, c, at, periods, penalties, indemnities, total", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_worked_examples(name, c, at, periods, penalties, indemnities, total, rates):
    s = compute_statement(c, at, rates)
    got = [
        (p.start.isoformat(), p.end.isoformat(), p.days, str(p.base), str(p.rate.normalize() if p.rate == p.rate.to_integral() else p.rate), str(p.amount))
        for i in s.invoices for p in i.periods
    ]
    want = [(a, b, d, base, str(D(r).normalize()) if D(r) == D(r).to_integral() else r, amt) for a, b, d, base, r, amt in periods]
    assert got == want
    assert (str(s.penalties), str(s.indemnities), str(s.total)) == (penalties, indemnities, total)
    # totals are sums of the lines
    assert s.penalties == sum((p.amount for i in s.invoices for p in i.periods), D("0"))


def test_imputation_is_shown(rates):
    c = EXAMPLES[3][1]
    s = compute_statement(c, date(2025, 3, 31), rates)
    assert len(s.imputations) == 1
    imp = s.imputations[0]
    assert imp.allocations == (("A", D("1000.00")), ("B", D("500.00")))
    assert "1342-10" in imp.rule


def test_interest_first_setting(rates):
    # 1000 due 31 Jan 2024 at 14.50 %, 500 paid 1 Mar 2024: 30 d -> 11.92 of interest paid first,
    # 488.08 to principal; from 2 Mar the base is 511.92
    c = case([inv("F1", date(2024, 1, 31), "1000.00")], [Payment(date(2024, 3, 1), D("500.00"), "F1")],
             payment_imputation="interest-first")
    s = compute_statement(c, date(2024, 3, 31), rates)
    i = s.invoices[0]
    assert i.reductions[0].to_interest == D("11.92")
    assert i.outstanding == D("511.92")
    assert i.periods[-1].base == D("511.92")
    # 511.92 × 14.5 × 30 / 36500 = 6.1010 -> 6.10; accrued 11.92 + 6.10 - 11.92 paid
    assert i.penalties == D("6.10")


def test_missing_rate_names_it_and_the_command(rates):
    c = case([inv("F1", date(2026, 6, 1), "1000.00")])
    with pytest.raises(RateTableError) as e:
        compute_statement(c, date(2026, 8, 1), rates)
    msg = str(e.value)
    assert "2026-07-01" in msg and "dossier rates add 2026-2 --ecb" in msg


def test_overpayment_warns(rates):
    c = case([inv("F1", date(2025, 1, 10), "100.00")], [Payment(date(2025, 1, 5), D("150.00"))])
    s = compute_statement(c, date(2025, 2, 1), rates)
    assert s.overpaid == D("50.00") and s.outstanding == 0
    assert any("exceeds" in w for w in s.warnings)


def test_json_shape(rates):
    s = compute_statement(EXAMPLES[0][1], date(2024, 12, 31), rates).to_json()
    assert set(s) >= {"as_of", "currency", "principal", "paid", "outstanding", "penalties", "indemnities", "total", "invoices"}
    p = s["invoices"][0]["periods"][1]
    assert p == {**p, "start": "2024-07-01", "end": "2024-08-20", "days": 51, "base": "10000.00", "rate": "14.25", "amount": "199.11"}
    assert s["invoices"][0]["indemnity"] == "40.00"


# -- properties --------------------------------------------------------------------------
amounts = st.decimals(min_value=D("0.01"), max_value=D("999999.99"), places=2)
dues = st.dates(min_value=date(2016, 1, 1), max_value=date(2026, 5, 31))


@settings(max_examples=60, deadline=None)
@given(amount=amounts, due=dues, early=st.integers(0, 20), extra=st.integers(0, 400))
def test_paid_by_due_date_accrues_nothing(rates, amount, due, early, extra):
    c = case([inv("F1", due, str(amount))], [Payment(due - timedelta(days=early), amount, "F1")])
    at = min(due + timedelta(days=extra), date(2026, 6, 30))
    s = compute_statement(c, at, rates)
    assert s.penalties == 0 and s.indemnities == 0 and s.total == 0


@settings(max_examples=60, deadline=None)
@given(amount=amounts, due=dues, d1=st.integers(0, 500), d2=st.integers(0, 500), paid=st.integers(0, 100), pay_after=st.integers(-10, 300))
def test_penalties_never_decrease_as_at_moves_later(rates, amount, due, d1, d2, paid, pay_after):
    pay = (amount * paid / 100).quantize(D("0.01"))
    payments = [Payment(due + timedelta(days=pay_after), pay, "F1")] if pay > 0 else []
    end = date(2026, 6, 30)
    a1 = min(due + timedelta(days=min(d1, d2)), end)
    a2 = min(due + timedelta(days=max(d1, d2)), end)
    c1 = case([inv("F1", due, str(amount))], [p for p in payments if p.date <= a1])
    s1 = compute_statement(c1, a1, rates)
    s2 = compute_statement(case([inv("F1", due, str(amount))], [p for p in payments if p.date <= a2]), a2, rates)
    assert s2.penalties >= s1.penalties
    assert s2.indemnities >= s1.indemnities


@settings(max_examples=60, deadline=None)
@given(amount=amounts, due=dues, d=st.integers(1, 700), later=st.integers(0, 700))
def test_computation_up_to_d_splits_cleanly(rates, amount, due, d, later):
    end = date(2026, 6, 30)
    at1 = min(due + timedelta(days=d), end)
    at2 = min(at1 + timedelta(days=later), end)
    c = case([inv("F1", due, str(amount))])
    p1 = compute_statement(c, at1, rates).invoices[0].periods
    p2 = compute_statement(c, at2, rates).invoices[0].periods
    # every line that ends before at1 is identical; the last line of at1 is a prefix of one of at2
    assert p1[:-1] == p2[: len(p1) - 1]
    last, twin = p1[-1], p2[len(p1) - 1]
    assert (last.start, last.base, last.rate) == (twin.start, twin.base, twin.rate)
    assert last.end <= twin.end
    assert sum(p.days for p in p1) == (at1 - due).days


@settings(max_examples=60, deadline=None)
@given(amount=amounts, due=dues, delay=st.integers(1, 300), share=st.integers(1, 100), after=st.integers(1, 300))
def test_payment_stops_accrual_on_the_paid_amount(rates, amount, due, delay, share, after):
    end = date(2026, 6, 30)
    pay_date = min(due + timedelta(days=delay), end - timedelta(days=1))
    if pay_date <= due:
        return
    paid = max((amount * share / 100).quantize(D("0.01")), D("0.01"))
    at = min(pay_date + timedelta(days=after), end)
    c = case([inv("F1", due, str(amount))], [Payment(pay_date, paid, "F1")])
    s = compute_statement(c, at, rates)
    for p in s.invoices[0].periods:
        if p.start > pay_date:
            assert p.base == amount - paid
        else:
            assert p.end <= pay_date and p.base == amount
    if paid == amount:  # fully paid: nothing more accrues after the payment
        s_at_payment = compute_statement(c, pay_date, rates)
        assert s.penalties == s_at_payment.penalties


@settings(max_examples=60, deadline=None)
@given(amounts=st.lists(amounts, min_size=1, max_size=4), dues=st.lists(st.integers(0, 3), min_size=4, max_size=4),
       pays=st.lists(st.tuples(st.integers(0, 200), st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2),
                               st.booleans()), max_size=4))
def test_principal_outstanding_equals_the_decompte(rates, amounts, dues, pays):
    # the ladder plans with principal_outstanding (no rates): it must agree with compute
    from dossier.law.penalties import principal_outstanding

    base = date(2025, 1, 10)
    invoices = [inv(f"F{i}", base + timedelta(days=30 * dues[i]), str(a)) for i, a in enumerate(amounts)]
    payments = [Payment(base + timedelta(days=d), amt, "F0" if designated else None) for d, amt, designated in pays]
    c = case(invoices, payments)
    at = date(2025, 12, 31)
    s = compute_statement(c, at, rates)
    assert principal_outstanding(c, at) == {i.number: i.outstanding for i in s.invoices}
