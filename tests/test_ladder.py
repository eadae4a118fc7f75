"""The ladder: next stage, when, by which channel, and why."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier import journal
from dossier.journal import JournalEntry
from dossier.ladder import history, next_step, outstanding_by_invoice
from dossier.letters.schedule import compute_schedule
from dossier.model import Notice, Payment

from helpers import make_case

DUE = date(2026, 4, 1)  # F2026-014; F2026-021 is due 2026-05-10


@pytest.fixture
def case(tmp_path):
    return make_case(tmp_path / "c")


def test_before_due_date_rappel_preventif(case):
    item = next_step(case, DUE - timedelta(days=10))
    assert (item.stage, item.due_on, item.channel) == ("rappel-preventif", DUE - timedelta(days=5), "email")
    assert "due on 2026-03-27" in item.reason and "not yet late" in item.reason


def test_after_due_date_relance_1(case):
    item = next_step(case, DUE + timedelta(days=3))
    assert (item.stage, item.due_on) == ("relance-1", DUE + timedelta(days=1))
    assert item.reason.startswith("due since 2026-04-02")


def test_journal_sent_moves_to_next_stage_with_a_minimum_gap(case):
    entry = JournalEntry("relance-1", DUE + timedelta(days=5), "email", "sent", "x@y", ())
    item = next_step(case, DUE + timedelta(days=6), (entry,))
    # relance-2 is due at due + 7, but not sooner than 7 days after the relance-1
    assert (item.stage, item.due_on) == ("relance-2", DUE + timedelta(days=12))
    assert "done: relance-1" in item.reason
    # a merely generated document does not count
    gen = dataclasses.replace(entry, status="generated")
    assert next_step(case, DUE + timedelta(days=6), (gen,)).stage == "relance-1"


def test_journal_read_from_disk(case):
    case.root.mkdir(parents=True, exist_ok=True)
    journal.record(case, JournalEntry("relance-1", DUE + timedelta(days=1), "email", "sent", "x@y", ()))
    assert next_step(case, DUE + timedelta(days=20), journal.read_journal(case)).stage == "relance-2"


def test_promise_pauses_then_broken_promise_skips_the_plan(case):
    n = (Notice("relance-1", DUE + timedelta(days=1), "email"),
         Notice("relance-2", DUE + timedelta(days=8), "phone", promised_date=DUE + timedelta(days=20)))
    c = dataclasses.replace(case, notices=n)
    item = next_step(c, DUE + timedelta(days=10))
    assert item.reason.startswith("paused: payment promised for 2026-04-21")
    assert item.due_on == DUE + timedelta(days=22)
    item = next_step(c, DUE + timedelta(days=30))
    assert item.stage == "dernier-avis"  # no échéancier offered after a broken promise
    assert "broken payment promise" in item.reason and "chronic" in item.reason
    assert history(c, DUE + timedelta(days=30)).profile == "chronic"


def test_echeancier_then_dernier_avis_then_mise_en_demeure(case):
    n = [Notice("relance-1", DUE + timedelta(days=1), "email"), Notice("relance-2", DUE + timedelta(days=8), "email")]
    c = dataclasses.replace(case, notices=tuple(n))
    assert next_step(c, DUE + timedelta(days=20)).stage == "echeancier"
    n.append(Notice("echeancier", DUE + timedelta(days=15), "email"))
    c = dataclasses.replace(case, notices=tuple(n))
    item = next_step(c, DUE + timedelta(days=31))
    assert (item.stage, item.channel) == ("dernier-avis", "email+letter")
    n.append(Notice("dernier-avis", DUE + timedelta(days=31), "letter"))
    c = dataclasses.replace(case, notices=tuple(n))
    item = next_step(c, DUE + timedelta(days=40))
    assert (item.stage, item.channel, item.due_on) == ("mise-en-demeure", "lrar", DUE + timedelta(days=38))


def test_after_mise_en_demeure_court_stage_by_amount(case):
    med = Notice("mise-en-demeure", date(2026, 6, 1), "lrar", received=date(2026, 6, 3))
    c = dataclasses.replace(case, notices=(med,))
    item = next_step(c, date(2026, 6, 20))
    # 5,034.56 EUR owed: above the 5,000 EUR ceiling of the procédure simplifiée
    assert item.stage == "injonction-de-payer" and item.channel == "court"
    assert item.due_on == date(2026, 6, 12)  # 3 June + 8 = Thursday 11 June, the day after
    small = dataclasses.replace(c, payments=(Payment(date(2026, 4, 20), D("2000.00"), "F2026-014"),))
    item = next_step(small, date(2026, 6, 20))
    assert item.stage == "petites-creances" and item.channel == "bailiff"
    unreceived = dataclasses.replace(c, notices=(dataclasses.replace(med, received=None),))
    assert "receipt assumed 3 days after sending" in next_step(unreceived, date(2026, 6, 20)).reason


def test_paid_case_has_nothing_to_do(case):
    c = dataclasses.replace(case, payments=(Payment(date(2026, 5, 1), D("6034.56")),))
    item = next_step(c, date(2026, 6, 1))
    assert item.stage is None and "nothing outstanding" in item.reason
    assert item.to_json() == {"case": "AM-2026-014", "stage": None, "due_on": None, "channel": None, "reason": item.reason}


def test_no_debtor_email_means_letters(tmp_path):
    c = make_case(tmp_path / "n", email=None)
    assert next_step(c, DUE + timedelta(days=3)).channel == "letter"


def test_case_ladder_overrides_timings(case):
    c = dataclasses.replace(case, ladder=(("relance-1", 10),))
    assert next_step(c, DUE + timedelta(days=3)).due_on == DUE + timedelta(days=10)


def test_unallocated_payment_goes_to_the_oldest_invoice(case):
    c = dataclasses.replace(case, payments=(Payment(date(2026, 5, 1), D("5000.00")),))
    owed = outstanding_by_invoice(c, date(2026, 6, 1))
    assert owed == {"F2026-014": D("0.00"), "F2026-021": D("1034.56")}


# -- échéancier schedule ------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    balance=st.decimals(min_value=D("0.01"), max_value=D("999999.99"), places=2),
    n=st.integers(min_value=1, max_value=36),
    day=st.integers(min_value=1, max_value=31),
    rate=st.one_of(st.none(), st.decimals(min_value=D("0.5"), max_value=D("20"), places=2)),
)
def test_schedule_principal_sums_exactly_to_the_balance(balance, n, day, rate):
    first = date(2026, 1, min(day, 31))
    s = compute_schedule(balance, n, first, yearly_rate=rate)
    assert sum(i.principal for i in s) == balance
    assert all(i.principal > 0 for i in s)
    assert s[-1].remaining == 0
    assert all(i.amount == i.principal + i.interest for i in s)
    assert all(a.due < b.due for a, b in zip(s, s[1:]))
    # equal instalments but the last, which takes the rounding remainder
    assert len({i.principal for i in s[:-1]}) <= 1
    if rate is None:
        assert all(i.interest == 0 for i in s)


def test_schedule_month_ends_and_interest():
    s = compute_schedule(D("3000.00"), 3, date(2026, 1, 31), yearly_rate=D("10"), start=date(2026, 1, 1))
    assert [i.due for i in s] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    # 3000 × 10 % × 30 / 365 = 24.66 ; 2000 × 10 % × 28 / 365 = 15.34 ; 1000 × 10 % × 31 / 365 = 8.49
    assert [str(i.interest) for i in s] == ["24.66", "15.34", "8.49"]


def test_payment_plan_on_track_pauses_and_missed_instalment_resumes(case):
    """An échéancier sent by the tool: its schedule is journaled; the ladder follows it."""
    case.root.mkdir(parents=True, exist_ok=True)
    sent = date(2026, 5, 20)
    schedule = ((date(2026, 6, 30), "2000.00"), (date(2026, 7, 31), "2000.00"), (date(2026, 8, 31), "1034.56"))
    journal.record(case, JournalEntry("relance-1", DUE + timedelta(days=1), "email", "sent", "x@y", ()))
    journal.record(case, JournalEntry("echeancier", sent, "email", "sent", "x@y", (), schedule=schedule))
    entries = journal.read_journal(case)
    assert entries[1].schedule == schedule  # round trip through JSON
    # before the first instalment: paused until it (+ grace)
    item = next_step(case, date(2026, 6, 10), entries)
    assert item.due_on == date(2026, 7, 2) and "payment plan of 2026-05-20 on track (0 of 3" in item.reason
    # first instalment paid: paused until the second
    paid = dataclasses.replace(case, payments=case.payments + (Payment(date(2026, 6, 29), D("2000.00")),))
    item = next_step(paid, date(2026, 7, 15), entries)
    assert item.due_on == date(2026, 8, 2) and "1 of 3 instalments paid" in item.reason
    # second instalment missed: escalation resumes, the debtor is now chronic
    item = next_step(paid, date(2026, 8, 10), entries)
    assert item.stage == "dernier-avis"
    assert "payment plan of 2026-05-20 broken: 2000.00 EUR paid of 4000.00 EUR due" in item.reason
    assert "chronic" in item.reason


def test_notice_in_case_file_and_journal_counts_once(case):
    from dossier.ladder import all_notices

    n = Notice("relance-1", DUE + timedelta(days=1), "email")
    c = dataclasses.replace(case, notices=(n,))
    e = JournalEntry("relance-1", DUE + timedelta(days=1), "email", "sent", "x@y", ())
    assert all_notices(c, (e,)) == (n,)


# --------------------------------------------------------------------------- catching up


@pytest.mark.parametrize("days_late, expected", [
    (3, "relance-1"),      # on time for the first reminder
    (20, "relance-1"),     # its moment passed 19 days ago: still sent
    (45, "dernier-avis"),  # relance-1 (44), relance-2 (38), échéancier (31 days ago) skipped
    (600, "dernier-avis"),  # 20 months: never straight to the formal notice
])
def test_a_claim_found_late_starts_where_its_age_calls_for(tmp_path, days_late, expected):
    c = make_case(tmp_path / "c", invoices=make_case(tmp_path / "x").invoices[:1], payments=())
    item = next_step(c, DUE + timedelta(days=days_late))
    assert item.stage == expected, item.reason
    assert ("catching up" in item.reason) == (expected == "dernier-avis")
    if expected == "dernier-avis":
        assert f"{days_late} days overdue" in item.reason and "relance-1, relance-2, echeancier skipped" in item.reason


def test_catching_up_is_configurable_and_never_applies_once_a_notice_went(tmp_path):
    base = make_case(tmp_path / "c", invoices=make_case(tmp_path / "x").invoices[:1], payments=())
    at = DUE + timedelta(days=600)
    patient = dataclasses.replace(base, ladder=(("catch_up_after", 3650),))
    assert next_step(patient, at).stage == "relance-1"
    started = dataclasses.replace(base, notices=(Notice("relance-1", DUE + timedelta(days=2), "email"),))
    item = next_step(started, at)
    assert item.stage == "relance-2" and "catching up" not in item.reason


def test_catch_up_setting_comes_from_the_portfolio(tmp_path):
    import shutil

    from dossier.snapshot import open_case

    from helpers import SAMPLES

    pf = tmp_path / "pf"
    shutil.copytree(SAMPLES / "atelier-martin", pf / "am", ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    text = (pf / "am" / "case.yaml").read_text(encoding="utf-8")
    (pf / "am" / "case.yaml").write_text("\n".join(l for l in text.splitlines() if not l.startswith("notices:") and
                                                   not l.startswith("  - {stage:")) + "\n", encoding="utf-8")
    at = date(2027, 6, 1)
    assert open_case(pf / "am", at, load_rates_if_none=False).plan.stage == "dernier-avis"
    (pf / "portfolio.yaml").write_text("ladder: {catch_up_after: 3650}\n", encoding="utf-8")
    assert open_case(pf / "am", at, load_rates_if_none=False).plan.stage == "relance-1"


def test_a_printed_letter_not_yet_deposited_or_an_unknown_delivery_holds_the_case(case):
    at = DUE + timedelta(days=10)
    journal.record(case.root, JournalEntry("relance-1", DUE + timedelta(days=2), "letter", "printed", note="print job B1, letter 3"))
    item = next_step(case, at, journal.read_journal(case.root))
    assert item.stage is None and "not yet deposited" in item.reason and "B1" in item.reason
    journal.record(case.root, JournalEntry("relance-1", DUE + timedelta(days=4), "letter", "sent", note="print job B1, letter 3"))
    assert next_step(case, at + timedelta(days=7), journal.read_journal(case.root)).stage == "relance-2"
    journal.record(case.root, JournalEntry("relance-2", at + timedelta(days=7), "email", "unknown", message_id="<m1@x>"))
    item = next_step(case, at + timedelta(days=20), journal.read_journal(case.root))
    assert item.stage is None and "unknown" in item.reason


def test_the_signed_avis_de_reception_in_the_journal_dates_the_notice(case):
    sent = date(2026, 5, 20)
    journal.record(case.root, JournalEntry("mise-en-demeure", sent, "lrar", "sent", lrar_number="1A 123 456 7890 1"))
    journal.record(case.root, JournalEntry("mise-en-demeure", date(2026, 5, 27), "lrar", "received",
                                           lrar_number="1A 123 456 7890 1"))
    item = next_step(case, date(2026, 6, 20), journal.read_journal(case.root))
    assert "received 2026-05-27" in item.reason
    (n,) = [n for n in journal.as_notices(case.root) if n.stage == "mise-en-demeure"]
    assert n.received == date(2026, 5, 27)
