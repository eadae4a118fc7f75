"""A portfolio: a folder of case folders sharing one ``portfolio.yaml``.

``portfolio.yaml`` holds what the cases share (the creditor, its bank and signatory, the
terms, ladder timings, templates, SMTP and print profiles). Each case folder is read from
up to three layers, lowest precedence first: ``portfolio.yaml``, ``imported.yaml``
(written only by ``dossier import``) and ``case.yaml`` (hand edits), see
:func:`dossier.casefile.check_case_layers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

from dossier.casefile import (
    CASE_FILE,
    IMPORTED_FILE,
    PORTFOLIO_FILE,
    LayerNotes,
)
from dossier.errors import DossierError, Problem
from dossier.model import Case
from dossier.snapshot import check_case_folder

#: folders of a portfolio that are not cases
RESERVED_DIRS = frozenset({"templates", "batches", "out", "reports", "imports", "cache"})
#: payment terms used for a due date the books do not give (C. com. L441-10: 30 days
#: after receipt of the goods or the service when nothing is agreed)
DEFAULT_PAYMENT_DAYS = 30


class PortfolioError(DossierError):
    """A portfolio folder that cannot be used."""


@dataclass(frozen=True)
class Portfolio:
    root: Path
    #: portfolio.yaml as plain values ({} when there is none)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.root / PORTFOLIO_FILE

    @property
    def default_payment_days(self) -> int:
        terms = self.settings.get("terms") or {}
        days = terms.get("default_payment_days") if isinstance(terms, dict) else None
        return days if isinstance(days, int) and 0 <= days <= 365 else DEFAULT_PAYMENT_DAYS

    @property
    def sales_last_91_days(self) -> Decimal | None:
        """Sales including VAT over the last 91 days (``report.sales_last_91_days``), for the DSO."""
        report = self.settings.get("report") or {}
        raw = report.get("sales_last_91_days") if isinstance(report, dict) else None
        try:
            return Decimal(str(raw)) if raw is not None else None
        except InvalidOperation:
            return None

    @property
    def templates(self) -> Path | None:
        """The portfolio's own templates folder (``templates:``, relative to the portfolio)."""
        t = self.settings.get("templates")
        return (self.root / str(t)).resolve() if t else None

    def case_dirs(self) -> list[Path]:
        """Case folders (with a case.yaml or an imported.yaml), sorted by name, which is the
        case reference unless case.yaml says otherwise."""
        out: list[Path] = []
        if not self.root.is_dir():
            return out
        for p in self.root.iterdir():
            if not p.is_dir() or p.name.startswith(".") or p.name in RESERVED_DIRS:
                continue
            if (p / CASE_FILE).is_file() or (p / IMPORTED_FILE).is_file():
                out.append(p)
        return sorted(out, key=lambda p: p.name)


def load_portfolio(path: str | Path) -> Portfolio:
    """The portfolio at ``path`` (a folder; portfolio.yaml optional)."""
    import yaml

    root = Path(path)
    if not root.is_dir():
        raise PortfolioError(f"{path}: portfolio folder not found")
    f = root / PORTFOLIO_FILE
    if not f.is_file():
        return Portfolio(root.resolve(), {})
    try:
        data = yaml.load(f.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except UnicodeDecodeError as e:
        raise PortfolioError(f"{f}: not UTF-8 text (byte {e.start}): save the file as UTF-8") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise PortfolioError(f"{f}:{mark.line + 1 if mark else '?'}: YAML syntax error: {getattr(e, 'problem', e)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PortfolioError(f"{f}:1: expected a mapping of keys (creditor, terms, …)")
    return Portfolio(root.resolve(), data)


def is_portfolio(path: str | Path) -> bool:
    """A folder with a portfolio.yaml, or a folder of case folders (not itself a case)."""
    p = Path(path)
    if not p.is_dir() or (p / CASE_FILE).is_file() or (p / IMPORTED_FILE).is_file():
        return False
    if (p / PORTFOLIO_FILE).is_file():
        return True
    return any((c / CASE_FILE).is_file() or (c / IMPORTED_FILE).is_file() for c in p.iterdir() if c.is_dir())


@dataclass(frozen=True)
class CaseCheck:
    folder: Path
    case: Case | None
    problems: tuple[Problem, ...]
    notes: LayerNotes | None

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")


@dataclass(frozen=True)
class PortfolioCheck:
    portfolio: Portfolio
    cases: tuple[CaseCheck, ...]
    #: every problem once (a portfolio.yaml problem is not repeated for each case)
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")


def iter_cases(portfolio: Portfolio, at: date, rates: Any = None, *, evidence: bool = True) -> Iterator[CaseCheck]:
    """Every case checked as ``dossier check CASE`` checks it (case file and layers,
    journal, evidence files, décompte warnings)."""

    for folder in portfolio.case_dirs():
        state, problems = check_case_folder(folder, at, rates, evidence=evidence)
        yield CaseCheck(folder, state.case if state else None, tuple(problems), state.notes if state else None)


def check_portfolio(path: str | Path, at: date | None = None, rates: Any = None, *, evidence: bool = True) -> PortfolioCheck:
    """Check every case of the portfolio; every problem of every case, each reported once."""
    at = at or date.today()
    pf = load_portfolio(path)
    cases = tuple(iter_cases(pf, at, rates, evidence=evidence))
    seen: set[tuple] = set()
    problems: list[Problem] = settings_problems(pf)
    for c in cases:
        for p in c.problems:
            key = (p.file, p.line, p.field, p.message, p.severity)
            if p.file.endswith(PORTFOLIO_FILE) and key in seen:
                continue
            seen.add(key)
            problems.append(p)
    return PortfolioCheck(pf, cases, tuple(problems))


def settings_problems(pf: Portfolio) -> list[Problem]:
    """Problems of the portfolio-only settings (the case keys are checked with each case)."""
    out = []
    label = str(pf.file)
    terms = pf.settings.get("terms")
    days = terms.get("default_payment_days") if isinstance(terms, dict) else None
    if days is not None and not (isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 365):
        out.append(Problem(label, None, "terms.default_payment_days", f"{days!r} is not a number of days between 0 and 365"))
    report = pf.settings.get("report")
    sales = report.get("sales_last_91_days") if isinstance(report, dict) else None
    if sales is not None and (pf.sales_last_91_days is None or pf.sales_last_91_days <= 0):
        out.append(Problem(label, None, "report.sales_last_91_days", f"{sales!r} is not an amount above zero"))
    return out




