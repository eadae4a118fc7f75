"""The case snapshot: one straight path from a case folder to what every command needs.

:func:`open_case` is the only place that reads a case: the case file, then its journal,
once. :func:`build_state` is the pure rest of the chain — the case file's notices and the
journal's merged once, the décompte computed once, the principal still owed taken from it,
the debtor's history, the next step of the ladder, the competent court — and returns a
frozen :class:`CaseState`. ``compute``, ``check``, ``plan``, ``letter``, ``bundle`` and
``demo`` all start from it; nothing below it reads files or the environment on its own.

>>> from datetime import date
>>> from dossier.demo import samples_dir
>>> state = open_case(samples_dir() / "studio-graphique", date(2026, 6, 15))
>>> state.statement.total
Decimal('7848.19')
>>> state.plan.stage, state.plan.due_on.isoformat()
('injonction-de-payer', '2025-09-26')
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from dossier.casefile import LayerNotes, check_case, check_case_layers, has_layers
from dossier.errors import CaseFileError, DossierError, JournalError, Problem, RateTableError
from dossier.journal import JournalEntry, read_journal
from dossier.ladder import History, PlanItem, all_notices, history, next_step
from dossier.law.courts import CourtChoice, court_for_case, require_named_court
from dossier.law.penalties import compute_statement, prescription_for_case, principal_outstanding
from dossier.law.rates import load_rates
from dossier.law.statement import Statement
from dossier.model import Case, Notice

if TYPE_CHECKING:  # the bundle layer is imported only by what builds a dossier
    from dossier.bundle.exhibits import ExhibitSpec
    from dossier.law.rates import RateTable


@dataclass(frozen=True)
class CaseState:
    """A case as of a date: everything the commands need, computed once."""

    #: the case with the notices of its case file and of its journal (merged once)
    case: Case
    #: the case exactly as its case file states it (the dossier's exhibit list reads the
    #: journal's own entries, with their hashes)
    filed: Case
    at: date
    #: the journal's entries, in order
    journal: tuple[JournalEntry, ...]
    #: principal still owed per invoice on ``at`` (the décompte's imputation)
    owed: Mapping[str, Decimal]
    #: the décompte, or None when a rate it needs is missing (see :meth:`require_statement`)
    statement: Statement | None
    rate_error: RateTableError | None
    history: History
    #: the next step of the ladder
    plan: PlanItem
    court: CourtChoice
    #: warnings of the case file (``file:line: field: message``)
    problems: tuple[Problem, ...] = ()
    #: what an imported case's layers say beyond the model (record statuses, estimated due
    #: dates, the debtor's status); None for a hand-written case
    notes: LayerNotes | None = None
    #: claims time-barred or about to be (also among ``problems``)
    prescription: tuple[Problem, ...] = ()

    @property
    def notices(self) -> tuple[Notice, ...]:
        """Notices of the case file and the journal, by date."""
        return self.case.notices

    @property
    def reference(self) -> str:
        return self.case.reference

    @property
    def total_owed(self) -> Decimal:
        return sum(self.owed.values(), Decimal(0))

    def require_statement(self) -> Statement:
        """The décompte; raises the missing rate's :class:`RateTableError` (with the command
        that adds the rate) when it could not be computed."""
        if self.statement is None:
            assert self.rate_error is not None
            raise self.rate_error
        return self.statement

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every warning: the case file's, then the décompte's."""
        out = [str(p) for p in self.problems if p.severity == "warning"]
        if self.statement is not None:
            out.extend(self.statement.warnings)
        return tuple(out)

    @cached_property
    def exhibits(self) -> tuple[ExhibitSpec, ...]:
        """The dossier's exhibits in their order (numbered 1.. in that order)."""
        # lazy: the bundle layer (pypdf, Pillow) adds about 45 ms to every start-up that
        # plan, check and compute would pay without needing it
        from dossier.bundle.collect import collect_exhibits

        return tuple(collect_exhibits(self.filed, self.journal))


def build_state(
    case: Case,
    at: date,
    rates: RateTable | None,
    journal: Iterable[JournalEntry] = (),
    *,
    problems: Iterable[Problem] = (),
    notes: LayerNotes | None = None,
    deadline_days: int = 8,
) -> CaseState:
    """The snapshot of an already loaded ``case`` (no I/O). ``rates`` None: no décompte,
    the plan from the principal alone."""
    entries = tuple(journal)
    full = dataclasses.replace(case, notices=all_notices(case, entries)) if entries else case
    statement = None
    rate_error = None
    if rates is not None:
        try:
            statement = compute_statement(full, at, rates)
        except RateTableError as e:
            rate_error = e
    if statement is not None:
        owed: Mapping[str, Decimal] = {i.number: i.outstanding for i in statement.invoices}
    else:
        owed = principal_outstanding(full, at)
        if rate_error is None:
            rate_error = RateTableError("no rate table was given: the décompte was not computed")
    past = tuple(n for n in full.notices if n.date <= at)
    # claims time-barred or about to be (C. consom. L218-2; C. com. L110-4, C. civ. 2224)
    barred = _prescription(case, at, owed)
    problems = (*problems, *barred)
    hist = history(full, at, past, owed=owed)
    step = next_step(full, at, entries, owed=owed, notices=full.notices, hist=hist, deadline_days=deadline_days)
    if barred and step.stage is not None:  # the plan says it too
        more = f" (and {len(barred) - 1} more)" if len(barred) > 1 else ""
        step = dataclasses.replace(step, reason=f"{step.reason}; prescription: {barred[0].message}{more}")
    return CaseState(
        case=full,
        filed=case,
        at=at,
        journal=entries,
        owed=owed,
        statement=statement,
        rate_error=rate_error,
        history=hist,
        plan=step,
        court=court_for_case(full, at),
        problems=tuple(problems),
        notes=notes,
        prescription=tuple(barred),
    )


def _court_problems(state: CaseState) -> list[Problem]:
    """A requête must name its court (CPC 54 1°, 57): when the debtor's département has
    several courts of the right kind, the key to set and the list — an error once the
    requête is what the case needs next, a warning before."""
    try:
        require_named_court(state.case, state.court)
    except DossierError as e:
        severity = "error" if state.plan.stage == "injonction-de-payer" else "warning"
        return [Problem("", None, "", str(e).replace("\n  - ", " | ").replace(":\n", ": ").replace("\n", "; "), severity)]
    return []


def _prescription(case: Case, at: date, owed: Mapping[str, Decimal]) -> list[Problem]:
    out = []
    for n, w in prescription_for_case(case, at, owed):
        inv = case.invoices[n]
        src = inv.source
        out.append(Problem(src.file if src else str(case.case_file), src.line if src else None, f"invoices[{n}].due", w,
                           "warning"))
    return out


def open_case(
    path: str | Path,
    at: date,
    rates: RateTable | None = None,
    *,
    load_rates_if_none: bool = True,
    deadline_days: int = 8,
) -> CaseState:
    """Read the case folder ``path`` (its case file and journal, once) and build its
    :class:`CaseState` as of ``at``. ``rates`` defaults to the shipped tables plus the
    user's rate file; ``load_rates_if_none=False`` plans without a décompte. Raises
    :class:`~dossier.errors.CaseFileError` with every problem of an unusable case file,
    :class:`~dossier.errors.JournalError` for a damaged journal."""
    case, problems, notes = read_case(path, at)
    if case is None or any(p.severity == "error" for p in problems):
        raise CaseFileError(problems)
    if rates is None and load_rates_if_none:

        rates = load_rates()
    return build_state(case, at, rates, read_journal(case), problems=problems, notes=notes, deadline_days=deadline_days)


def read_case(path: str | Path, at: date) -> tuple[Case | None, list[Problem], LayerNotes | None]:
    """The case file (or the layers of an imported or portfolio case) read and checked:
    the case (None with any error), every problem, and the layers' notes."""
    if has_layers(path):
        return check_case_layers(path, at)
    case, problems = check_case(path, at)
    return case, problems, None


def check_case_folder(
    path: str | Path, at: date, rates: RateTable | None = None, *, evidence: bool = True
) -> tuple[CaseState | None, list[Problem]]:
    """Everything ``dossier check`` reports, as values: the case file's problems, a damaged
    journal, every unusable evidence file (each opened as the dossier would open it), a
    missing rate and the décompte's warnings. Returns the snapshot (None when the case
    cannot be used) and the problems, errors and warnings together."""
    case, problems, notes = read_case(path, at)
    if case is None or any(p.severity == "error" for p in problems):
        return None, problems
    try:
        entries = read_journal(case)
    except JournalError as e:
        return None, [*problems, Problem("", None, "", str(e))]
    if rates is None:

        rates = load_rates()
    state = build_state(case, at, rates, entries, problems=problems, notes=notes)
    out = list(state.problems)
    if evidence:
        from dossier.bundle.exhibits import evidence_problems  # lazy: see CaseState.exhibits

        out.extend(Problem("", None, "", msg) for msg in evidence_problems(state.exhibits, state.case.root))
    out.extend(_court_problems(state))
    if state.statement is None and state.rate_error is not None:
        out.append(Problem("", None, "", f"the décompte cannot be computed: {state.rate_error}", "warning"))
    elif state.statement is not None:
        out.extend(Problem("", None, "", w, "warning") for w in state.statement.warnings)
    if any(p.severity == "error" for p in out):
        return None, out
    return state, out
