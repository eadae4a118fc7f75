"""The daily run over a portfolio: what is due today, rendered in parallel, every email
sent once, every paper letter in one print job.

:func:`plan_run` decides, per case, what is due at the date — the same answer as
``dossier plan`` (the case snapshot's next step) — and what the run would do with it.
:func:`execute` renders the due documents in worker processes forked from a warmed-up
parent (fonts, stylesheets and templates loaded once), then, in the parent:

- **emails** go through one SMTP session (:class:`dossier.delivery.Dispatcher`: rate
  limit, retries on temporary errors, a permanent refusal recorded as failed for that
  case). Under the case's lock the journal is read again, the documents are written
  (:func:`dossier.outputs.write_set`), ``sending`` is recorded with the SHA-256 of the
  exact bytes, then ``sent`` as soon as the server accepts the message. A rerun after a
  crash sends exactly what was not accepted; a delivery left unknown holds the case.
- **paper letters** (the mise en demeure by registered post, letters to debtors without
  email, the dernier avis's printed copy) are written under the case's lock and assembled
  into one print job (:func:`dossier.postal.printjob.build_print_job`): each recorded
  ``printed``, which holds the case until ``dossier post confirm`` records the deposit.

Without ``send`` nothing is sent or recorded: the documents go to a preview folder and
the print job is built without journal lines, for a look before the real run.

One run per portfolio (shard) at a time: a lock file in the portfolio folder, released
by the operating system when the process ends, however it ends.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from dossier import journal, mail
from dossier.delivery import Dispatcher
from dossier.demo import samples_dir
from dossier.errors import DossierError
from dossier.letters import LetterOptions, Window, render_stage
from dossier.outputs import write_set
from dossier.portfolio import load_portfolio
from dossier.postal.address import format_address
from dossier.postal.printjob import PrintProfile, Sender, build_print_job, letter_for
from dossier.snapshot import open_case
from dossier.stages import LETTER_STAGES

#: a run that would send more than this many emails, or print more letters, asks first
CONFIRM_ABOVE = 50
#: consecutive emails the server took none of (after their retries) before the run stops
#: trying the others: they wait for the next run
UNREACHABLE_AFTER = 2
RUN_LOCK = ".dossier-run.lock"
BATCHES_DIR = "batches"

#: plan channel -> (email, paper, registered)
_ACTIONS = {
    "email": (True, False, False),
    "email+phone": (True, False, False),
    "email+letter": (True, True, False),
    "letter": (False, True, False),
    "lrar": (False, True, True),
    "phone": (False, False, False),
}


@dataclass(frozen=True)
class RunOptions:
    at: date
    #: letter stages to act on (empty: every letter stage)
    only: frozenset[str] = frozenset()
    #: worker processes for rendering (1: in this process)
    jobs: int = 1
    #: send the emails and build the print job for real (journal records)
    send: bool = False
    #: at most this many documents sent or printed by the run (emails + letters)
    limit: int | None = None
    #: (i, n): the i-th of n stable shares of the cases, by case reference
    shard: tuple[int, int] | None = None
    #: where the print job and the preview go (default PORTFOLIO/batches)
    out_dir: Path | None = None
    simplex: bool = False
    #: messages per minute (None: the portfolio's ``batch.rate_per_minute``, else no limit)
    rate: float | None = None
    retries: int = 3
    #: the envelope window of the print profile (top, left, width, height mm); None: the case's
    window: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Due:
    """One case's plan for the run (``stage`` None: nothing to do, ``reason`` says why)."""

    folder: Path
    reference: str
    stage: str | None
    due_on: date | None
    channel: str | None
    reason: str
    amount: Decimal | None = None
    email_to: str | None = None
    #: "send" (acted on today), "later", "manual" (court stage, phone call), "none",
    #: "error", "limit" (left for the next run by --limit)
    action: str = "none"
    #: the case snapshot the plan was made from (the documents are rendered from it: the
    #: case is read once per run)
    state: Any = field(default=None, repr=False, compare=False)

    def _does(self, k: int) -> bool:
        """Whether the run sends this by (0) email, (1) post, (2) registered post."""
        return self.action == "send" and _ACTIONS.get(self.channel or "", (False, False, False))[k]

    @property
    def email(self) -> bool:
        return self._does(0) and bool(self.email_to)

    @property
    def paper(self) -> bool:
        return self._does(1)

    @property
    def registered(self) -> bool:
        return self._does(2)

    def to_json(self) -> dict[str, Any]:
        return {"case": self.reference, "stage": self.stage, "due_on": self.due_on.isoformat() if self.due_on else None,
                "channel": self.channel, "reason": self.reason, "action": self.action,
                "amount": f"{self.amount:.2f}" if self.amount is not None else None}


@dataclass(frozen=True)
class Outcome:
    """What the run did for one document."""

    reference: str
    stage: str
    channel: str  # "email" | "letter" | "lrar"
    #: "sent", "printed", "previewed", "failed" (refused), "not-sent" (the server did not
    #: answer: tried again next run), "unknown" (lost after DATA: never resent blindly)
    status: str
    amount: Decimal | None = None
    detail: str = ""


@dataclass
class RunReport:
    plan: list[Due]
    outcomes: list[Outcome] = field(default_factory=list)
    print_job: Any = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("failed", "unknown", "not-sent")]

    @property
    def errors(self) -> list[Due]:
        return [d for d in self.plan if d.action == "error"]

    def summary(self) -> list[tuple[str, str, str, int, Decimal]]:
        """(stage, channel, status, count, amount claimed) rows."""
        rows: dict[tuple[str, str, str], list] = {}
        for o in self.outcomes:
            r = rows.setdefault((o.stage, o.channel, o.status), [0, Decimal(0)])
            r[0] += 1
            r[1] += o.amount or 0
        return [(s, c, st, n, a) for (s, c, st), (n, a) in sorted(rows.items(), key=lambda kv: (LETTER_STAGES.index(kv[0][0])
                if kv[0][0] in LETTER_STAGES else 99, kv[0][1], kv[0][2]))]


# --------------------------------------------------------------------------- the plan


def shard_of(reference: str, n: int) -> int:
    """The stable share (1..n) of a case reference: the same on every machine and run."""
    return int(hashlib.sha256(reference.encode("utf-8")).hexdigest(), 16) % n + 1


def case_folders(portfolio: str | Path) -> list[Path]:

    return load_portfolio(portfolio).case_dirs()


def _plan_one(folder: Path, options: RunOptions, rates: Any) -> Due:

    try:
        state = open_case(folder, options.at, rates)
    except DossierError as e:
        return Due(folder, folder.name, None, None, None, f"error: {str(e).splitlines()[0]}", action="error")
    p = state.plan
    st = state.statement
    amount = st.total if st is not None else state.total_owed
    companion = _companion_letter(state)
    if companion is not None:  # a run stopped between the email and the print job
        stage, why = companion
        p = dataclasses.replace(p, stage=stage, due_on=options.at, channel="letter", reason=why)
    due = Due(folder, state.reference, p.stage, p.due_on, p.channel, p.reason, amount, state.case.debtor.email)
    if options.shard and shard_of(state.reference, options.shard[1]) != options.shard[0]:
        return dataclasses.replace(due, action="other-shard")
    if p.stage is None:
        return due
    if p.due_on is not None and p.due_on > options.at:
        return dataclasses.replace(due, action="later")
    if p.stage not in LETTER_STAGES or p.channel == "phone":
        return dataclasses.replace(due, action="manual")
    if options.only and p.stage not in options.only:
        return dataclasses.replace(due, action="not-selected")
    if st is None:
        return dataclasses.replace(due, action="error", reason=f"error: {str(state.rate_error).splitlines()[0]}")
    return dataclasses.replace(due, action="send", state=state)


def _companion_letter(state: Any) -> tuple[str, str] | None:
    """A stage sent both ways (the dernier avis by email and by post) whose email went but
    whose letter was never printed — a run stopped in between: the letter is still due.
    None when every such stage has its letter printed, posted or discarded."""
    from dossier.journal import awaiting_deposit

    entries = state.journal
    if awaiting_deposit(entries):
        return None
    for e in entries:
        if e.status != "sent" or e.channel != "email" or e.stage not in _BOTH_WAYS:
            continue
        lettered = any(x.stage == e.stage and x.channel in ("letter", "lrar") and x.status in ("printed", "sent", "discarded")
                       and x.date >= e.date for x in entries)
        if not lettered:
            return e.stage, (f"the printed copy of the {e.stage} emailed on {e.date.isoformat()} was never printed "
                             "(a run stopped in between): it goes into this print job")
    return None


#: stages whose notice goes both by email and by post when the debtor has an email address
_BOTH_WAYS = ("dernier-avis",)


def plan_run(portfolio: str | Path, options: RunOptions, rates: Any) -> list[Due]:
    """Every case of the portfolio with what is due at ``options.at`` and what the run
    does with it, sorted by case reference. ``--limit`` leaves the rest for the next run."""
    plan = sorted((_plan_one(f, options, rates) for f in case_folders(portfolio)), key=lambda d: d.reference)
    plan = [d for d in plan if d.action != "other-shard"]
    if options.limit is not None:
        budget = options.limit
        out = []
        for d in plan:
            if d.action == "send":
                cost = int(d.email) + int(d.paper)
                if cost > budget:
                    d = dataclasses.replace(d, action="limit", reason=d.reason + f"; left for the next run (--limit {options.limit})")
                else:
                    budget -= cost
            out.append(d)
        plan = out
    return plan


def confirm_above(portfolio: str | Path) -> int:
    """How many emails or letters a run may send without asking (``batch.confirm_above``
    in portfolio.yaml, default :data:`CONFIRM_ABOVE`)."""

    settings = load_portfolio(portfolio).settings.get("batch")
    value = settings.get("confirm_above") if isinstance(settings, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else CONFIRM_ABOVE


def counts(plan: Iterable[Due]) -> tuple[int, int]:
    """(emails, paper letters) the run would send."""
    plan = list(plan)
    return sum(d.email for d in plan), sum(d.paper for d in plan)


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    """One case's documents for the run, as bytes (picklable: crosses the process pool)."""

    folder: Path
    reference: str
    stage: str
    files: dict[str, bytes]
    recipient: str | None
    sender: str | None
    invoices: tuple[str, ...]
    total: str
    schedule: tuple[tuple[date, str], ...] = ()
    error: str | None = None


def _render_one(task: tuple) -> Rendered:

    folder, stage, email, paper, at, sending, window, state, rates = task
    try:
        state = state if state is not None else open_case(folder, at, rates)
        formats = tuple(f for f, on in (("pdf", paper), ("eml", email)) if on)
        when = datetime.now(timezone.utc).astimezone() if sending and email else None
        options = LetterOptions(window=Window(*window)) if window and paper else LetterOptions()
        r = render_stage(state, stage, formats=formats, when=when, options=options)
        schedule = tuple((i.due, str(i.amount)) for i in r.context.get("schedule", ()))
        return Rendered(folder, state.reference, stage, r.files, r.recipient, r.sender, r.invoices, r.total, schedule)
    except DossierError as e:
        return Rendered(folder, folder.name, stage, {}, None, None, (), "0", error=str(e).splitlines()[0])


_RATES: Any = None
#: lock files this process holds: a forked worker closes its copies, so that a worker left
#: behind by a killed run never keeps the portfolio locked
_LOCK_FDS: set[int] = set()


def _worker_init() -> None:
    for fd in _LOCK_FDS:
        try:
            os.close(fd)
        except OSError:
            pass


def _render_in_worker(task: tuple) -> Rendered:
    return _render_one((*task, _RATES))


def warm_up(rates: Any) -> None:
    """Load once what every letter needs (WeasyPrint, fonts, stylesheets, compiled
    templates) by rendering a sample letter, before the workers are forked from this
    process: they start warm and share those pages."""

    sample = samples_dir() / "atelier-martin"
    render_stage(open_case(sample, date(2026, 6, 15), rates), "relance-1", formats=("pdf", "eml"))


def render_all(plan: list[Due], options: RunOptions, rates: Any, progress: Callable[[Rendered], None] | None = None) -> Iterator[Rendered]:
    """The due documents of ``plan``, rendered in ``options.jobs`` processes (in the order
    they finish)."""
    tasks = [(d.folder, d.stage, d.email, d.paper, options.at, options.send, options.window, d.state)
             for d in plan if d.action == "send"]
    if not tasks:
        return
    jobs = max(1, min(options.jobs, len(tasks)))
    if jobs == 1 or not hasattr(os, "fork"):
        for t in tasks:
            r = _render_one((*t, rates))
            if progress:
                progress(r)
            yield r
        return
    import multiprocessing

    global _RATES
    warm_up(rates)
    _RATES = rates
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_worker_init) as pool:
        for r in pool.imap_unordered(_render_in_worker, tasks, chunksize=max(1, min(8, len(tasks) // (jobs * 8) or 1))):
            if progress:
                progress(r)
            yield r


# --------------------------------------------------------------------------- dispatch


def _write_documents(r: Rendered, names: Iterable[str]) -> tuple[Any, ...]:
    """Write the documents into the case's ``out/`` (never over a file recorded as sent)
    and return their journal records (the SHA-256 of the bytes written)."""

    wanted = {n: r.files[n] for n in names}
    targets = {journal.guard_output(r.folder, r.folder / "out" / n): data for n, data in wanted.items()}
    paths = write_set(targets, case=None)
    return tuple(journal.JournalFile(journal.relative(r.folder, p), hashlib.sha256(targets[p]).hexdigest()) for p in paths)


def _send_email(d: Due, r: Rendered, at: date, dispatcher: Any) -> Outcome:

    eml = f"{r.stage}.eml"
    entry = journal.JournalEntry(stage=r.stage, date=at, channel="email", status="sending", recipient=r.recipient,
                                 invoices=r.invoices, amount=r.total, schedule=r.schedule)
    try:
        result = dispatcher.deliver(r.folder, r.files[eml], r.sender, [r.recipient], entry=entry,
                                    prepare=lambda: _write_documents(r, [eml]))
    except DossierError as e:
        return Outcome(r.reference, r.stage, "email", "failed", d.amount, str(e).splitlines()[0])
    status = {"sent": "sent", "unknown": "unknown", "not-sent": "not-sent"}.get(result.status, "failed")
    return Outcome(r.reference, r.stage, "email", status, d.amount, "" if status == "sent" else (result.reply or result.status))


def _paper_letter(d: Due, r: Rendered, at: date, record: bool) -> Any:

    pdf_name = f"{r.stage}.pdf"
    case = d.state.case if d.state is not None else open_case(r.folder, at, load_rates_if_none=False).case
    file = None
    if record:
        with journal.case_lock(r.folder):
            pending = journal.awaiting_deposit(journal.read_journal(r.folder))
            if any(e.stage == r.stage for e in pending):
                raise DossierError(f"{r.folder}: {r.stage} is already in a print job awaiting deposit")
            (written,) = _write_documents(r, [pdf_name])
            file = r.folder / written.path

    return letter_for(case, r.stage, r.files[pdf_name], at, file=file, registered=d.registered,
                      invoices=r.invoices, amount=r.total)


def execute(portfolio: str | Path, plan: list[Due], options: RunOptions, rates: Any, *, smtp: Any = None,
            progress: Callable[[Rendered], None] | None = None, print_profile: Any = None) -> RunReport:
    """Render what ``plan`` marks to send, deliver the emails and build the print job (see
    the module docstring). With ``options.send`` False, a preview: nothing sent, nothing
    recorded."""
    report = RunReport(plan)
    root = Path(portfolio)
    by_folder = {d.folder: d for d in plan}
    out_dir = Path(options.out_dir) if options.out_dir is not None else root / BATCHES_DIR
    batch_id = _batch_id(options, out_dir)
    with _run_lock(root, options.shard):
        dispatcher = None
        letters = []
        unreachable, down = 0, ""
        try:
            for r in render_all(plan, options, rates, progress):
                d = by_folder[r.folder]
                if r.error:
                    report.outcomes.append(Outcome(d.reference, d.stage or "", "-", "failed", d.amount, r.error))
                    continue
                if d.email:
                    if not options.send:
                        _preview(out_dir / f"{batch_id}-preview" / r.reference, r, [f"{r.stage}.eml"])
                        report.outcomes.append(Outcome(r.reference, r.stage, "email", "previewed", d.amount))
                    elif unreachable >= UNREACHABLE_AFTER:
                        report.outcomes.append(Outcome(r.reference, r.stage, "email", "failed", d.amount,
                                                       f"not attempted: the SMTP server did not answer ({down})"))
                    else:
                        if dispatcher is None:
                            dispatcher = _dispatcher(root, options, smtp)
                        outcome = _send_email(d, r, options.at, dispatcher)
                        report.outcomes.append(outcome)
                        # a server that answers no message, retries included, is down: the
                        # remaining emails wait for the next run instead of retrying each
                        unreachable = unreachable + 1 if outcome.status == "not-sent" else 0
                        down = outcome.detail
                if d.paper:
                    try:
                        letters.append(_paper_letter(d, r, options.at, options.send))
                    except DossierError as e:
                        report.outcomes.append(Outcome(r.reference, r.stage, "lrar" if d.registered else "letter", "failed",
                                                       d.amount, str(e).splitlines()[0]))
        finally:
            if dispatcher is not None:
                dispatcher.close()
        if letters:
            creditor = next((d.state.case.creditor for d in plan if d.paper and d.state is not None), None)
            report.print_job = _print(letters, out_dir, batch_id, options, print_profile, report, creditor)
    return report


def _print(letters: list, out_dir: Path, batch_id: str, options: RunOptions, profile: Any, report: RunReport,
           creditor: Any) -> Any:

    profile = profile or PrintProfile()
    if profile.sender is None and creditor is not None:  # the deposit list names the letters' creditor
        profile = dataclasses.replace(profile, sender=Sender(creditor.name, tuple(format_address(creditor, "creditor")[1:])))
    folder = out_dir / (batch_id if options.send else f"{batch_id}-preview") / "courrier"
    job = build_print_job(letters, folder, profile, simplex=options.simplex, batch_id=batch_id,
                          at=datetime.now(timezone.utc).replace(microsecond=0), journal=options.send)
    amounts = {lt.case_reference: Decimal(lt.amount) if lt.amount else None for lt in letters}
    for p in job.letters:
        lt = p.letter
        report.outcomes.append(Outcome(lt.case_reference, lt.stage, lt.channel, "printed" if options.send else "previewed",
                                       amounts.get(lt.case_reference)))
    return job


def _preview(folder: Path, r: Rendered, names: list[str]) -> None:

    write_set({folder / n: r.files[n] for n in names})


def _dispatcher(root: Path, options: RunOptions, smtp: Any) -> Any:

    settings = load_portfolio(root).settings
    config = smtp or mail.smtp_config(profile=settings.get("smtp_profile"))
    batch = settings.get("batch") if isinstance(settings.get("batch"), dict) else {}
    rate = options.rate if options.rate is not None else _number(batch, "rate_per_minute", None)
    retries = int(_number(batch, "retries", options.retries))
    backoff = float(_number(batch, "backoff_seconds", 2.0))
    return Dispatcher(config, rate=rate, retries=retries, backoff=backoff)


def _number(settings: dict, key: str, default: Any) -> Any:
    """A positive number of portfolio.yaml's ``batch:`` table, else ``default``."""
    value = settings.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return default
    return value


def _batch_id(options: RunOptions, out_dir: Path) -> str:
    """``2026-06-15-083012`` (the letters' date, the time of the run), unique in ``out_dir``."""
    stamp = datetime.now(timezone.utc).strftime("%H%M%S")
    shard = f"-{options.shard[0]}of{options.shard[1]}" if options.shard else ""
    base = f"{options.at.isoformat()}-{stamp}{shard}"
    n, name = 1, base
    while any((out_dir / f"{name}{suffix}").exists() for suffix in ("", "-preview")):
        n += 1
        name = f"{base}-{n}"
    return name


class RunLockedError(DossierError):
    """Another run works on the same portfolio (shard)."""


class _run_lock:
    """One run per portfolio and shard at a time (``flock``; released with the process)."""

    def __init__(self, root: Path, shard: tuple[int, int] | None):
        name = RUN_LOCK if shard is None else f"{RUN_LOCK}.{shard[0]}of{shard[1]}"
        self.path = root / name
        self.fd: int | None = None

    def __enter__(self) -> _run_lock:
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(self.fd)
            self.fd = None
            raise RunLockedError(f"{self.path.parent}: another run is working on this portfolio (pid {holder}); "
                                 "wait for it to finish") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode("ascii"), 0)
        _LOCK_FDS.add(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            _LOCK_FDS.discard(self.fd)
            os.close(self.fd)
