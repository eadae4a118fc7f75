"""The escalation ladder: which stage is due next, when, by which channel, and why.

Pure computation over a :class:`~dossier.model.Case`, its journal entries and a date: no
I/O (the caller reads the journal). Default timings (shared/DESIGN.md), in days relative
to the due date of the oldest unpaid invoice, overridable per case (``ladder:`` key):

=====================  ======  =====================================================
stage                  timing  channel
=====================  ======  =====================================================
rappel-preventif       −5      email (only before the due date)
relance-1              +1      email
relance-2              +7      email + phone call
echeancier             +14     email (letter when the debtor has no email address)
dernier-avis           +30     email and letter
mise-en-demeure        —       LRAR letter, ``MIN_GAP`` days after the dernier avis
injonction-de-payer    —       court, the day after the mise en demeure's deadline
petites-creances       —       commissaire de justice, same (claims ≤ 5,000 EUR)
=====================  ======  =====================================================

Rules:

- A stage is *done* when the case file lists it as a notice or the journal records it as
  sent. The next stage is the first not done, never earlier than ``MIN_GAP`` days after the
  last notice (catching up on a forgotten case does not fire three emails in one day).
- A stage whose moment has passed without use is skipped only when it makes no sense any
  more: a rappel préventif after the due date; an échéancier once the dernier avis or the
  mise en demeure has gone, or when the debtor has already broken a payment promise.
- A payment plan sent by the tool (the journal keeps its schedule) pauses escalation while
  the payments received since keep up with the instalments (each given ``PROMISE_GRACE``
  days); a missed instalment breaks it and escalation resumes (the déchéance du terme).
- A payment promise (``promised_date`` on a notice, e.g. after the relance-2 call) or an
  échéancier pauses escalation until the promised date (+ ``PROMISE_GRACE`` days). A
  promise that passed with money still owed is *broken*: the debtor counts as chronic.
- After the mise en demeure: its deadline is ``deadline_days`` (8) from its receipt when
  recorded, else from sending + ``POSTAL_DAYS``, moved off weekends and public holidays
  (C. civ. 1344; CPC 642 reasoning). Then the court stage: petites-créances (CPCE L125-1)
  when the claim is at most 5,000 EUR, else injonction de payer (CPC 1405).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable

from dossier.law.courts import petites_creances_open
from dossier.model import STAGES, Case, Notice

#: minimum days between two notices
MIN_GAP = 7
#: days a promise is given before escalation resumes
PROMISE_GRACE = 2
#: assumed postal delay when an LRAR's receipt is not recorded
POSTAL_DAYS = 3
#: procédure simplifiée ceiling (principal and interest), CPCE L125-1


@dataclass(frozen=True)
class StageInfo:
    id: str
    #: French name used in subjects and documents
    title: str
    #: default timing in days after the due date (None: relative to the previous stage)
    offset: int | None
    #: channels, primary first
    channels: tuple[str, ...]
    #: formal stages: no softening, always "vous", penalties claimed in full
    formal: bool
    #: the stage is delivered as an email (the PDF is its printable version)
    email_stage: bool


STAGE_INFO: dict[str, StageInfo] = {
    s.id: s
    for s in (
        StageInfo("rappel-preventif", "Rappel d'échéance", -5, ("email",), False, True),
        StageInfo("relance-1", "Relance 1er rappel", 1, ("email",), False, True),
        StageInfo("relance-2", "2e relance", 7, ("email", "phone"), False, True),
        StageInfo("echeancier", "Proposition d'échéancier de paiement", 14, ("email", "letter"), False, False),
        StageInfo("dernier-avis", "Dernier avis avant mise en demeure", 30, ("email", "letter"), True, True),
        StageInfo("mise-en-demeure", "Mise en demeure de payer", None, ("lrar", "email"), True, False),
        StageInfo("injonction-de-payer", "Requête en injonction de payer", None, ("court",), True, False),
        StageInfo("petites-creances", "Procédure simplifiée de recouvrement des petites créances", None, ("bailiff",), True, False),
    )
}
assert tuple(STAGE_INFO) == STAGES

#: stages this module's letters cover (the court stages are documents of dossier.bundle)
LETTER_STAGES = STAGES[:6]


@dataclass(frozen=True)
class History:
    """What the debtor's record says, for the tone of letters and the plan."""

    #: invoices of the case that were or are paid late (as of the date)
    late_invoices: int
    #: payment promises or plans that passed with money still owed
    broken_promises: int
    #: notices already sent (case file + journal)
    notices: int
    #: "first" (a first late payment), "repeat" or "chronic"
    profile: str

    @property
    def chronic(self) -> bool:
        return self.profile == "chronic"


@dataclass(frozen=True)
class PlanItem:
    case: str
    stage: str | None  # None: nothing to do
    due_on: date | None
    channel: str | None
    reason: str  # French-free, user-facing English sentence

    def to_json(self) -> dict:
        return {
            "case": self.case,
            "stage": self.stage,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "channel": self.channel,
            "reason": self.reason,
        }


def timings(case: Case) -> dict[str, int | None]:
    """Stage offsets in days after the due date, with the case's overrides."""
    out: dict[str, int | None] = {s: i.offset for s, i in STAGE_INFO.items()}
    for stage, days in case.ladder:
        if stage in out:
            out[stage] = days
    return out


def outstanding_by_invoice(case: Case, at: date) -> dict[str, Decimal]:
    """Principal still owed per invoice on ``at`` (the décompte's imputation, no rates)."""
    from dossier.law.penalties import principal_outstanding

    return principal_outstanding(case, at)


def all_notices(case: Case, journal_entries: Iterable = ()) -> tuple[Notice, ...]:
    """Notices of the case file plus the journal's sent entries, by date."""
    from dossier.journal import as_notices

    extra = as_notices(case.root, tuple(journal_entries)) if journal_entries else ()
    # a notice copied from the journal into case.yaml counts once (the case file's wins)
    known = {(n.stage, n.date, n.channel) for n in case.notices}
    extra = tuple(n for n in extra if (n.stage, n.date, n.channel) not in known)
    return tuple(sorted((*case.notices, *extra), key=lambda n: (n.date, STAGES.index(n.stage) if n.stage in STAGES else 99)))


def history(case: Case, at: date, notices: Iterable[Notice] | None = None) -> History:
    notices = tuple(case.notices if notices is None else notices)
    owed = outstanding_by_invoice(case, at)
    late = paid_late = overdue = 0
    for inv in case.invoices:
        if inv.due >= at:
            continue
        if owed[inv.number] > 0:
            late += 1
            overdue += 1
            continue
        # paid: late if the last money came after the due date
        last = max((p.date for p in case.payments if p.invoice == inv.number and p.date <= at), default=None)
        if last is not None and last > inv.due:
            late += 1
            paid_late += 1
    total_owed = sum(owed.values(), Decimal(0))
    broken = sum(1 for n in notices if n.promised_date and n.promised_date < at and total_owed > 0)
    sent = sum(1 for n in notices if n.date <= at)
    # several invoices unpaid at once is still a first episode; invoices already paid late
    # before, or a broken promise, are a pattern
    if broken or paid_late >= 2 or (paid_late and overdue >= 2):
        profile = "chronic"
    elif paid_late or overdue >= 3:
        profile = "repeat"
    else:
        profile = "first"
    return History(late, broken, sent, profile)


def next_step(case: Case, at: date, journal_entries: Iterable = (), *, deadline_days: int = 8) -> PlanItem:
    """The next stage for ``case`` as of ``at`` (see the module docstring for the rules)."""
    from dossier.law.deadlines import deadline

    ref = case.reference
    journal_entries = tuple(journal_entries)
    owed = outstanding_by_invoice(case, at)
    unpaid = sorted((i for i in case.invoices if owed[i.number] > 0), key=lambda i: (i.due, i.number))
    if not unpaid:
        return PlanItem(ref, None, None, None, "nothing outstanding: every invoice is paid or credited")
    total = sum(owed.values(), Decimal(0))
    notices = all_notices(case, journal_entries)
    past = [n for n in notices if n.date <= at]
    done = {n.stage for n in past}
    last = max((n.date for n in past), default=None)
    t = timings(case)
    due = unpaid[0].due
    debtor_email = bool(case.debtor.email)
    hist = history(case, at, past)

    # a payment plan sent by the tool (journal, with its schedule) pauses escalation while
    # the payments received keep up with it
    plan_note = ""
    plans = [e for e in journal_entries if e.stage == "echeancier" and e.status == "sent" and e.schedule and e.date <= at]
    if plans:
        pe = max(plans, key=lambda e: e.date)
        paid = sum((p.amount for p in case.payments if pe.date <= p.date <= at), Decimal(0))
        cumul = Decimal(0)
        owed_now = Decimal(0)
        upcoming = None
        for due_d, amount in pe.schedule:
            cumul += Decimal(amount)
            if due_d + timedelta(days=PROMISE_GRACE) < at:
                owed_now = cumul
            elif upcoming is None and paid < cumul:
                upcoming = due_d
        n_paid = sum(1 for k in range(len(pe.schedule)) if paid >= sum(Decimal(a) for _, a in pe.schedule[: k + 1]))
        if paid >= owed_now and upcoming is not None:
            resume = upcoming + timedelta(days=PROMISE_GRACE)
            nxt = _first_open(done | {"echeancier"}, due, at, t, hist)
            return PlanItem(
                ref, nxt, resume, _channel(nxt, debtor_email),
                f"paused: payment plan of {pe.date.isoformat()} on track ({n_paid} of {len(pe.schedule)} instalments paid,"
                f" {paid} EUR); next instalment due {upcoming.isoformat()}",
            )
        if paid < owed_now:
            hist = dataclasses.replace(hist, broken_promises=hist.broken_promises + 1, profile="chronic")
            done.add("echeancier")
            plan_note = f"; payment plan of {pe.date.isoformat()} broken: {paid} EUR paid of {owed_now} EUR due"

    # a promise pauses escalation
    promises = [n for n in past if n.promised_date is not None]
    resume = None
    if promises:
        p = max(promises, key=lambda n: (n.date, n.promised_date))
        resume = p.promised_date + timedelta(days=PROMISE_GRACE)
        if at < resume:
            nxt = _first_open(done, due, at, t, hist)
            return PlanItem(
                ref, nxt, resume, _channel(nxt, debtor_email),
                f"paused: payment promised for {p.promised_date.isoformat()} ({p.stage} of {p.date.isoformat()});"
                f" escalation resumes on {resume.isoformat()} if {total} EUR is still owed",
            )

    # after a mise en demeure: the court stages
    med = [n for n in past if n.stage == "mise-en-demeure"]
    if med:
        m = min(med, key=lambda n: n.date)
        start = m.received or (m.date + timedelta(days=POSTAL_DAYS))
        end = deadline(start, deadline_days)
        # no rates here: the principal alone decides (the bundle checks principal + interest)
        stage = "petites-creances" if petites_creances_open(total) else "injonction-de-payer"
        other = "injonction-de-payer" if stage == "petites-creances" else None
        basis = f"received {m.received.isoformat()}" if m.received else f"receipt assumed {POSTAL_DAYS} days after sending"
        why = (
            f"mise en demeure sent {m.date.isoformat()} ({basis}) gave until {end.isoformat()}; "
            f"{total} EUR still owed"
        )
        if other:
            why += " (≤ 5,000 EUR: procédure simplifiée via a commissaire de justice, or injonction de payer)"
        return PlanItem(ref, stage, end + timedelta(days=1), _channel(stage, debtor_email), why)

    stage = _first_open(done, due, at, t, hist)
    if stage == "mise-en-demeure":
        base = max((n.date for n in past if n.stage == "dernier-avis"), default=due + timedelta(days=t["dernier-avis"] or 30))
        when = base + timedelta(days=MIN_GAP)
    else:
        when = due + timedelta(days=t[stage] or 0)
    if last is not None and stage != "rappel-preventif":
        when = max(when, last + timedelta(days=MIN_GAP))
    if resume is not None:  # a promise that passed: escalation resumed after its grace days
        when = max(when, resume)
    n_late = len([i for i in unpaid if i.due < at])
    if when <= at:
        state = "due now" if when == at else f"due since {when.isoformat()}"
    else:
        state = f"due on {when.isoformat()}"
    why = f"{state}: {total} EUR owed on {len(unpaid)} invoice(s), oldest {unpaid[0].number} due {due.isoformat()}"
    if n_late == 0:
        why += " (not yet late)"
    if done:
        why += f"; done: {', '.join(s for s in STAGES if s in done)}"
    why += plan_note
    if hist.broken_promises:
        why += f"; {hist.broken_promises} broken payment promise(s)"
    if hist.profile != "first":
        why += f"; debtor profile: {hist.profile}"
    return PlanItem(ref, stage, when, _channel(stage, debtor_email), why)


def _first_open(done: set[str], due: date, at: date, t: dict[str, int | None], hist: History) -> str:
    started = bool(done & set(LETTER_STAGES))
    for stage in LETTER_STAGES:
        if stage in done:
            continue
        if stage == "rappel-preventif" and (at > due + timedelta(days=0) or started):
            continue  # too late for a courtesy reminder
        if stage == "echeancier" and (done & {"dernier-avis", "mise-en-demeure"} or hist.broken_promises):
            continue  # too late, or the debtor already broke a promise: no plan offered
        later = LETTER_STAGES[LETTER_STAGES.index(stage) + 1 :]
        if any(s in done for s in later):
            continue  # the case has moved past this stage outside the tool
        return stage
    return "mise-en-demeure"


def _channel(stage: str | None, debtor_email: bool) -> str | None:
    if stage is None:
        return None
    ch = STAGE_INFO[stage].channels
    if stage == "echeancier":
        return "email" if debtor_email else "letter"
    if stage == "dernier-avis":
        return "email+letter" if debtor_email else "letter"
    if stage == "relance-2":
        return "email+phone" if debtor_email else "phone"
    if stage == "mise-en-demeure":
        return "lrar"
    if ch[0] == "email" and not debtor_email:
        return "letter"
    return ch[0]


def plan(cases: Iterable[Case], at: date, journals: dict[str, tuple] | None = None) -> list[PlanItem]:
    """:func:`next_step` for each case; ``journals`` maps a case reference to its entries."""
    journals = journals or {}
    return [next_step(c, at, journals.get(c.reference, ())) for c in cases]
