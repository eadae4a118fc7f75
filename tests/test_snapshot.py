"""The case snapshot: one straight path, the décompte computed once, every evidence
problem reported at once, and outputs that do not change unless a template does."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from dossier.journal import JournalEntry, record
from dossier.law import penalties
from dossier.snapshot import build_state, check_case_folder, open_case

from helpers import AT, DEMO_DATE, SAMPLES, TESTS, invoke, sample_copy

GOLDEN = TESTS / "golden" / "sample-hashes.json"


@pytest.fixture
def engine_runs(monkeypatch):
    """Counts every run of the décompte engine."""
    runs = []
    real = penalties._Engine.run

    def counted(self):
        runs.append(self.accrues)
        return real(self)

    monkeypatch.setattr(penalties._Engine, "run", counted)
    return runs


def test_open_case_reads_everything_once_and_agrees_with_compute(rates):
    state = open_case(SAMPLES / "studio-graphique", AT, rates)
    assert state.statement is not None and state.rate_error is None
    code, out, err = invoke("compute", SAMPLES / "studio-graphique", "--at", DEMO_DATE, "--json")
    assert code == 0, err
    assert json.loads(out)["total"] == f"{state.statement.total:.2f}"
    assert dict(state.owed) == {i.number: i.outstanding for i in state.statement.invoices}
    assert state.plan.case == state.reference
    assert state.court.kind  # the competent court, chosen once


def test_one_letter_computes_the_decompte_once(tmp_path, engine_runs):
    case = sample_copy("atelier-martin", tmp_path)
    code, out, err = invoke("letter", "relance-1", case, "--at", DEMO_DATE, "--format", "pdf", "-o", tmp_path / "o")
    assert code == 0, err
    assert engine_runs == [True]


def test_one_plan_computes_the_decompte_once_per_case(tmp_path, engine_runs):
    code, out, err = invoke("plan", SAMPLES, "--at", DEMO_DATE, "--json")
    assert code == 0, err
    cases = json.loads(out)
    assert len(cases) == len(list(SAMPLES.glob("*/case.yaml"))) == len(engine_runs)


def test_a_plan_past_the_rate_tables_still_works_from_the_principal(engine_runs):
    far = date(2031, 1, 15)
    state = open_case(SAMPLES / "atelier-martin", far)
    assert state.statement is None and "rates add" in str(state.rate_error)
    assert state.plan.stage is not None
    assert engine_runs == [True, False]  # the décompte stopped at the missing rate; the principal alone
    with pytest.raises(type(state.rate_error)):
        state.require_statement()


def test_journal_notices_are_merged_once_and_seen_by_every_layer(tmp_path, rates):
    case_dir = sample_copy("studio-graphique", tmp_path)
    before = open_case(case_dir, AT, rates)
    (case_dir / "out").mkdir(exist_ok=True)
    (case_dir / "out" / "x.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    record(case_dir, JournalEntry("dernier-avis", date(2026, 6, 1), "email", "sent"))
    after = open_case(case_dir, AT, rates)
    assert len(after.notices) == len(before.notices) + 1
    assert after.filed.notices == before.case.notices  # the case file as written
    assert after.history.notices == before.history.notices + 1
    # the same notice in case.yaml and in the journal counts once
    dup = build_state(after.case, AT, rates, after.journal)
    assert len(dup.notices) == len(after.notices)


BAD_EVIDENCE = {
    "missing.pdf": None,
    "truncated.pdf": b"%PDF-1.4\n1 0 obj << >> endobj\n",
    "empty.png": b"",
    "broken.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
    "note.txt": b"just text",
}


def _case_with_bad_evidence(tmp_path: Path) -> Path:
    case = sample_copy("atelier-martin", tmp_path)
    pieces = case / "pieces"
    for name, data in BAD_EVIDENCE.items():
        if data is not None:
            (pieces / name).write_bytes(data)
    text = (case / "case.yaml").read_text(encoding="utf-8")
    extra = "".join(f'  - {{kind: autre, title: "Bad {n}", date: 2026-01-02, file: pieces/{n}}}\n' for n in BAD_EVIDENCE)
    assert "\nexhibits:\n" in text
    text = text.replace("\nexhibits:\n", "\nexhibits:\n" + extra, 1)
    (case / "case.yaml").write_text(text, encoding="utf-8")
    return case


def test_check_opens_every_evidence_file_and_reports_every_problem_at_once(tmp_path):
    case = _case_with_bad_evidence(tmp_path)
    # missing is a case-file error already; the others only show when the files are opened
    (case / "pieces" / "missing.pdf").write_bytes(b"")
    code, out, err = invoke("check", case, "--at", DEMO_DATE)
    assert code == 2, out + err
    for name in BAD_EVIDENCE:
        assert f"pieces/{name}" in err, (name, err)
    assert err.count("case.yaml:") >= len(BAD_EVIDENCE)  # each points at its line
    state, problems = check_case_folder(case, AT)
    assert state is None
    assert len([p for p in problems if p.severity == "error"]) == len(BAD_EVIDENCE)


def test_bundle_reports_every_bad_exhibit_not_only_the_first(tmp_path):
    case = _case_with_bad_evidence(tmp_path)
    (case / "pieces" / "missing.pdf").write_bytes(b"")
    code, out, err = invoke("bundle", case, "--at", DEMO_DATE, "-o", tmp_path / "d.pdf")
    assert code == 2
    assert all(f"pieces/{n}" in err for n in BAD_EVIDENCE), err
    assert not (tmp_path / "d.pdf").exists()


def test_check_of_a_good_sample_opens_its_evidence_and_passes():
    code, out, err = invoke("check", SAMPLES / "consumer-renovation", "--at", DEMO_DATE)
    assert code == 0, err
    assert "ok: " in out


def _golden_outputs(tmp_path: Path) -> dict[str, str]:
    """sha256 of the mise en demeure (PDF, DOCX, email) and of the dossier (PDF, DOCX) of a
    sample: what a hash in the journal would prove."""
    from dossier.bundle import build_bundle
    from dossier.letters import render_stage

    out = {}
    case = tmp_path / "studio-graphique"
    shutil.copytree(SAMPLES / "studio-graphique", case, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    state = open_case(case, AT)
    for name, data in render_stage(state, "mise-en-demeure").files.items():
        out[f"studio-graphique/{name}"] = hashlib.sha256(data).hexdigest()
    result = build_bundle(state)
    out["studio-graphique/dossier.pdf"] = hashlib.sha256(result.pdf).hexdigest()
    out["studio-graphique/requete.docx"] = hashlib.sha256(result.docx).hexdigest()
    return out


def test_outputs_are_byte_identical_to_the_recorded_ones(tmp_path):
    """A change that alters a document must say so: regenerate the hashes on purpose with
    ``DOSSIER_UPDATE_GOLDEN=1 ./dev test tests/test_snapshot.py``."""
    import os

    got = _golden_outputs(tmp_path)
    if os.environ.get("DOSSIER_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_plan_and_check_warn_of_prescription_from_the_one_decompte(engine_runs):
    """Two years against a consumer (C. consom. L218-2): the plan's why says it, check lists
    it, and the imputation it rests on is the snapshot's one engine run."""
    at = date(2027, 9, 1)  # F2025-098 (due 2025-11-08) time-barred on 2027-11-09
    state = open_case(SAMPLES / "consumer-renovation", at, load_rates_if_none=False)
    assert "prescription: invoice F2025-098" in state.plan.reason and "2027-11-09" in state.plan.reason
    assert any("L218-2" in w for w in state.warnings)
    assert engine_runs == [False]
    code, out, err = invoke("plan", SAMPLES / "consumer-renovation", "--at", at.isoformat())
    assert code == 0 and "time-barred on 2027-11-09" in out
