"""The demo run over the bundled samples (library side of ``dossier demo``)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from dossier.bundle import write_bundle
from dossier.errors import DossierError
from dossier.journal import write_atomic
from dossier.law.courts import petites_creances_open
from dossier.law.rates import load_rates
from dossier.letters import write_all_stages
from dossier.report import statement_table
from dossier.snapshot import open_case

if TYPE_CHECKING:
    from dossier.snapshot import CaseState


def samples_dir() -> Path:
    """The sample cases shipped in the package (``dossier/samples/``; the checkout's
    top-level ``samples/`` is a link to it)."""
    here = Path(__file__).resolve().parent / "samples"
    if here.is_dir() and any(here.glob("*/case.yaml")):
        return here
    raise DossierError(f"{here}: the sample cases are missing from this installation; reinstall dossier")


def run_demo(output: Path, at: date) -> Iterator[str]:
    """Copy every sample case into ``output`` and write all its documents; yields progress lines."""

    rates = load_rates()
    output.mkdir(parents=True, exist_ok=True)
    for src in sorted(p.parent for p in samples_dir().glob("*/case.yaml")):
        dst = output / src.name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
        state = open_case(dst, at, rates)
        case, st = state.case, state.require_statement()
        out = case.out_dir
        out.mkdir(exist_ok=True)
        write_atomic(out / "decompte.txt", (statement_table(case, st) + "\n").encode())
        write_atomic(out / "decompte.json", (json.dumps(st.to_json(), ensure_ascii=False, indent=2) + "\n").encode())
        yield f"{case.reference}: total {st.total} EUR at {at} -> {out}/decompte.txt"
        yield from _letters(state)
        yield from _bundle(state)


def _letters(state: CaseState) -> Iterator[str]:

    case = state.case
    for path in write_all_stages(state, case.out_dir):
        yield f"  {path.relative_to(case.root)}"


def _bundle(state: CaseState) -> Iterator[str]:

    case, st = state.case, state.require_statement()
    purposes = ["court"] + (["bailiff"] if petites_creances_open(st.outstanding, st.penalties) else [])
    for purpose in purposes:
        result, pdf, docx = write_bundle(state, purpose=purpose)
        yield f"  {pdf.relative_to(case.root)} ({result.pages} pages, {pdf.stat().st_size // 1024} KiB)"
        if docx is not None:
            yield f"  {docx.relative_to(case.root)}"
