"""The escalation ladder: which stage is due next, when, by which channel, and why.

Pure computation over a :class:`~dossier.model.Case`, its journal entries and a date: no
I/O (the caller reads the journal). Default timings, in days relative
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
from typing import Iterable, Mapping

from dossier.journal import JournalEntry, as_notices, awaiting_deposit, pending_deliveries
from dossier.law.courts import petites_creances_open
from dossier.law.deadlines import deadline
from dossier.law.penalties import principal_outstanding
from dossier.model import STAGES, Case, Notice
from dossier.stages import CATCH_UP_KEY, LETTER_STAGES, STAGE_INFO

#: minimum days between two notices
MIN_GAP = 7
#: days a promise is given before escalation resumes
PROMISE_GRACE = 2
#: assumed postal delay when an LRAR's receipt is not recorded
POSTAL_DAYS = 3
#: catching up: a reminder whose moment passed more than this many days ago, on a claim
#: nothing was ever sent for, is skipped (``ladder: {catch_up_after: N}`` per case or
#: portfolio)
CATCH_UP_AFTER = 30
#: the stages catching up may skip: never the dernier avis, the last amicable notice
#: before the formal one
CATCH_UP_SKIPS = ("relance-1", "relance-2", "echeancier")


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
    """Principal still owed per invoice on ``at`` (the décompte's imputation, no rates).
    The case snapshot takes it from the décompte instead, so that it is computed once."""
    return principal_outstanding(case, at)


def all_notices(case: Case, journal_entries: Iterable[JournalEntry] = ()) -> tuple[Notice, ...]:
    """Notices of the case file plus the journal's sent entries, by date: the one place
    where the two are merged (the case snapshot calls it once)."""
    extra = as_notices(case.root, tuple(journal_entries)) if journal_entries else ()
    # a notice copied from the journal into case.yaml counts once (the case file's wins)
    known = {(n.stage, n.date, n.channel) for n in case.notices}
    extra = tuple(n for n in extra if (n.stage, n.date, n.channel) not in known)
    return tuple(sorted((*case.notices, *extra), key=lambda n: (n.date, STAGES.index(n.stage) if n.stage in STAGES else 99)))


def history(case: Case, at: date, notices: Iterable[Notice] | None = None,
            owed: Mapping[str, Decimal] | None = None) -> History:
    """The debtor's record on ``at``; ``owed`` (principal per invoice) is computed when not
    given."""
    notices = tuple(case.notices if notices is None else notices)
    owed = outstanding_by_invoice(case, at) if owed is None else owed
    late = paid_late = overdue = 0
    last_paid: dict[str, date] = {}
    for p in case.payments:
        if p.invoice is not None and p.date <= at and p.date > last_paid.get(p.invoice, date.min):
            last_paid[p.invoice] = p.date
    for inv in case.invoices:
        if inv.due >= at:
            continue
        if owed[inv.number] > 0:
            late += 1
            overdue += 1
            continue
        # paid: late if the last money came after the due date
        last = last_paid.get(inv.number)
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


@dataclass(frozen=True)
class _Facts:
    """What the rules of :func:`next_step` look at, gathered once."""

    case: Case
    at: date
    total: Decimal
    unpaid: tuple  # unpaid invoices, oldest due first
    past: tuple[Notice, ...]
    done: frozenset[str]
    timings: dict[str, int | None]
    hist: History
    #: early stages skipped because the claim is caught up late (see ``CATCH_UP_AFTER``)
    skipped: tuple[str, ...] = ()

    @property
    def due(self) -> date:
        return self.unpaid[0].due

    @property
    def email(self) -> bool:
        return bool(self.case.debtor.email)

    def channel(self, stage: str | None) -> str | None:
        """How ``stage`` goes out: by post when the case asks for that stage on paper
        (``paper:``), else as :func:`_channel` decides from the debtor's email address."""
        if stage is not None and stage in self.case.paper and stage in LETTER_STAGES:
            return "lrar" if stage == "mise-en-demeure" else "letter"
        return _channel(stage, self.email)

    def first_open(self, extra_done: Iterable[str] = ()) -> str:
        return _first_open(set(self.done) | set(extra_done) | set(self.skipped), self.due, self.at, self.timings, self.hist)


def next_step(
    case: Case,
    at: date,
    journal_entries: Iterable[JournalEntry] = (),
    *,
    owed: Mapping[str, Decimal] | None = None,
    notices: Iterable[Notice] | None = None,
    hist: History | None = None,
    deadline_days: int = 8,
) -> PlanItem:
    """The next stage for ``case`` as of ``at`` (see the module docstring for the rules).

    ``owed`` (principal per invoice), ``notices`` (case file and journal merged) and
    ``hist`` come from the case snapshot; each is computed here when not given."""
    journal_entries = tuple(journal_entries)
    owed = outstanding_by_invoice(case, at) if owed is None else owed
    unpaid = tuple(sorted((i for i in case.invoices if owed[i.number] > 0), key=lambda i: (i.due, i.number)))
    if not unpaid:
        return PlanItem(case.reference, None, None, None, "nothing outstanding: every invoice is paid or credited")
    merged = all_notices(case, journal_entries) if notices is None else tuple(notices)
    past = tuple(n for n in merged if n.date <= at)
    hist = history(case, at, past, owed=owed) if hist is None else hist
    waiting = _waiting(case, journal_entries)
    if waiting is not None:
        return waiting
    f = _Facts(case, at, sum(owed.values(), Decimal(0)), unpaid, past, frozenset(n.stage for n in past),
               timings(case), hist)
    f = dataclasses.replace(f, skipped=_catch_up(f))
    plan_note = ""
    plan = _payment_plan(f, journal_entries)
    if isinstance(plan, PlanItem):
        return plan
    if plan is not None:
        f, plan_note = plan
    for rule in (_promise_pause, lambda f: _court_stage(f, deadline_days)):
        item = rule(f)
        if item is not None:
            return item
    return _letter_stage(f, plan_note)


def _waiting(case: Case, journal_entries: tuple[JournalEntry, ...]) -> PlanItem | None:
    """Nothing new while a notice is on its way: a letter printed in a batch not yet
    deposited (``dossier post confirm``) or an email whose delivery is unknown (the
    connection was lost after the message was handed over)."""
    printed = awaiting_deposit(journal_entries)
    if printed:
        e = printed[-1]
        return PlanItem(case.reference, None, None, None,
                        f"waiting: {e.stage} of {e.date.isoformat()} printed ({e.note or 'print job'}), not yet "
                        "deposited: confirm it with `dossier post confirm` or discard the batch")
    unknown = pending_deliveries(journal_entries)
    if unknown:
        e = unknown[-1]
        return PlanItem(case.reference, None, None, None,
                        f"waiting: delivery of the {e.stage} email of {e.date.isoformat()} is unknown "
                        f"(journal line {e.line}); check the mailbox's sent folder, then send again with --force")
    return None


def _catch_up(f: _Facts) -> tuple[str, ...]:
    """A claim nothing was ever sent for, whose early reminders' moments passed long ago
    (an import of last year's books): those reminders are skipped and the ladder starts
    at the stage the claim's age calls for — at the latest the dernier avis."""
    if f.done & set(LETTER_STAGES) or f.at <= f.due:
        return ()
    limit = dict(f.case.ladder).get(CATCH_UP_KEY, CATCH_UP_AFTER)
    late = (f.at - f.due).days
    return tuple(s for s in CATCH_UP_SKIPS if f.timings[s] is not None and late - (f.timings[s] or 0) > limit)


def _payment_plan(f: _Facts, journal_entries: tuple[JournalEntry, ...]) -> PlanItem | tuple[_Facts, str] | None:
    """A payment plan sent by the tool (journal, with its schedule) pauses escalation
    while the payments received keep up with it; a broken one makes the debtor chronic."""
    plans = [e for e in journal_entries if e.stage == "echeancier" and e.status == "sent" and e.schedule and e.date <= f.at]
    if not plans:
        return None
    pe = max(plans, key=lambda e: e.date)
    paid = sum((p.amount for p in f.case.payments if pe.date <= p.date <= f.at), Decimal(0))
    cumul = Decimal(0)
    owed_now = Decimal(0)
    upcoming = None
    n_paid = 0
    for due_d, amount in pe.schedule:
        cumul += Decimal(amount)
        if paid >= cumul:
            n_paid += 1
        if due_d + timedelta(days=PROMISE_GRACE) < f.at:
            owed_now = cumul
        elif upcoming is None and paid < cumul:
            upcoming = due_d
    if paid >= owed_now and upcoming is not None:
        resume = upcoming + timedelta(days=PROMISE_GRACE)
        nxt = f.first_open({"echeancier"})
        return PlanItem(
            f.case.reference, nxt, resume, f.channel(nxt),
            f"paused: payment plan of {pe.date.isoformat()} on track ({n_paid} of {len(pe.schedule)} instalments paid,"
            f" {paid} EUR); next instalment due {upcoming.isoformat()}",
        )
    if paid < owed_now:
        hist = dataclasses.replace(f.hist, broken_promises=f.hist.broken_promises + 1, profile="chronic")
        f = dataclasses.replace(f, hist=hist, done=f.done | {"echeancier"})
        return f, f"; payment plan of {pe.date.isoformat()} broken: {paid} EUR paid of {owed_now} EUR due"
    return None


def _promise_pause(f: _Facts) -> PlanItem | None:
    """A payment promise pauses escalation until its date and the grace days."""
    last = _last_promise(f)
    if last is None:
        return None
    p, promised = last
    resume = promised + timedelta(days=PROMISE_GRACE)
    if f.at >= resume:
        return None
    nxt = f.first_open()
    return PlanItem(
        f.case.reference, nxt, resume, f.channel(nxt),
        f"paused: payment promised for {promised.isoformat()} ({p.stage} of {p.date.isoformat()});"
        f" escalation resumes on {resume.isoformat()} if {f.total} EUR is still owed",
    )


def _last_promise(f: _Facts) -> tuple[Notice, date] | None:
    """The latest notice recording a payment promise, with the promised date."""
    promises = [(n, n.promised_date) for n in f.past if n.promised_date is not None]
    return max(promises, key=lambda t: (t[0].date, t[1])) if promises else None


def _promise_resume(f: _Facts) -> date | None:
    last = _last_promise(f)
    return None if last is None else last[1] + timedelta(days=PROMISE_GRACE)


def _court_stage(f: _Facts, deadline_days: int) -> PlanItem | None:
    """After a mise en demeure: the court stages, the day after its deadline."""
    med = [n for n in f.past if n.stage == "mise-en-demeure"]
    if not med:
        return None
    m = min(med, key=lambda n: n.date)
    start = m.received or (m.date + timedelta(days=POSTAL_DAYS))
    end = deadline(start, deadline_days)
    # no rates here: the principal alone decides (the bundle checks principal + interest)
    stage = "petites-creances" if petites_creances_open(f.total) else "injonction-de-payer"
    basis = f"received {m.received.isoformat()}" if m.received else f"receipt assumed {POSTAL_DAYS} days after sending"
    why = f"mise en demeure sent {m.date.isoformat()} ({basis}) gave until {end.isoformat()}; {f.total} EUR still owed"
    if stage == "petites-creances":
        why += " (≤ 5,000 EUR: procédure simplifiée via a commissaire de justice, or injonction de payer)"
    return PlanItem(f.case.reference, stage, end + timedelta(days=1), f.channel(stage), why)


def _letter_stage(f: _Facts, plan_note: str) -> PlanItem:
    """The first letter stage not done, at its timing (never within ``MIN_GAP`` days of the
    last notice, never before a passed promise's grace days)."""
    stage = f.first_open()
    t = f.timings
    if stage == "mise-en-demeure":
        base = max((n.date for n in f.past if n.stage == "dernier-avis"), default=f.due + timedelta(days=t["dernier-avis"] or 30))
        when = base + timedelta(days=MIN_GAP)
    else:
        when = f.due + timedelta(days=t[stage] or 0)
    last = max((n.date for n in f.past), default=None)
    if last is not None and stage != "rappel-preventif":
        when = max(when, last + timedelta(days=MIN_GAP))
    resume = _promise_resume(f)
    if resume is not None:  # a promise that passed: escalation resumed after its grace days
        when = max(when, resume)
    if when <= f.at:
        state = "due now" if when == f.at else f"due since {when.isoformat()}"
    else:
        state = f"due on {when.isoformat()}"
    oldest = f.unpaid[0]
    why = f"{state}: {f.total} EUR owed on {len(f.unpaid)} invoice(s), oldest {oldest.number} due {f.due.isoformat()}"
    if not any(i.due < f.at for i in f.unpaid):
        why += " (not yet late)"
    if f.done:
        why += f"; done: {', '.join(s for s in STAGES if s in f.done)}"
    why += plan_note
    if f.skipped:
        limit = dict(f.case.ladder).get(CATCH_UP_KEY, CATCH_UP_AFTER)
        why += (f"; catching up: nothing sent yet and {(f.at - f.due).days} days overdue, so "
                f"{', '.join(f.skipped)} skipped (their moment passed over {limit} days ago; ladder.{CATCH_UP_KEY})")
    if f.hist.broken_promises:
        why += f"; {f.hist.broken_promises} broken payment promise(s)"
    if f.hist.profile != "first":
        why += f"; debtor profile: {f.hist.profile}"
    return PlanItem(f.case.reference, stage, when, f.channel(stage), why)


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
