"""Case-file validation: every bad case gives exit 2 and a message naming the field."""

from datetime import date
from pathlib import Path

import pytest

from dossier.casefile import check_case, load_case
from dossier.errors import CaseFileError

from helpers import SAMPLES, cli

BAD = sorted((Path(__file__).parent / "bad_cases").iterdir())
AT = "2026-06-15"


def test_corpus_is_large_enough():
    assert len(BAD) >= 15


@pytest.mark.parametrize("folder", BAD, ids=[p.name for p in BAD])
def test_bad_case_exit_2_names_the_field(folder):
    expected = (folder / "expected.txt").read_text().strip()
    proc = cli("check", folder, "--at", AT)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert expected in out
    assert "Traceback" not in out
    # every error line is file:line: field: message
    first = [l for l in proc.stderr.splitlines() if "case.yaml" in l][0]
    assert first.startswith(str(folder / "case.yaml"))


@pytest.mark.parametrize("folder", BAD, ids=[p.name for p in BAD])
def test_bad_case_compute_refuses_too(folder):
    proc = cli("compute", folder, "--at", AT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def _good_text(tmp_path):
    text = (BAD[0] / "case.yaml").read_text().replace('"1 200,00"', '"1200.00"')
    d = tmp_path / "good"
    d.mkdir()
    (d / "case.yaml").write_text(text)
    return d


def test_the_base_of_the_bad_corpus_is_itself_valid(tmp_path):
    # so that each bad case fails for its one defect only
    case, problems = check_case(_good_text(tmp_path), date(2026, 6, 15))
    assert case is not None, [str(p) for p in problems]
    assert [p for p in problems if p.severity == "error"] == []


def test_every_problem_reported_at_once():
    case, problems = check_case(BAD[0].parent / "14-impossible-date", date(2026, 6, 15))
    assert case is None
    text = "\n".join(map(str, problems))
    assert "invoices[0].issued" in text


def test_many_problems_listed_together(tmp_path):
    d = _good_text(tmp_path)
    text = (d / "case.yaml").read_text()
    text = text.replace('"552100554"', '"552100555"').replace("due: 2026-02-04", "due: 2025-01-01")
    text = text.replace("kind: company", "kind: firm")
    (d / "case.yaml").write_text(text)
    _, problems = check_case(d, date(2026, 6, 15))
    fields = {p.field for p in problems if p.severity == "error"}
    assert {"debtor.siren", "invoices[0].due", "debtor.kind"} <= fields


def test_unquoted_siren_stays_text(tmp_path):
    d = _good_text(tmp_path)
    (d / "case.yaml").write_text((d / "case.yaml").read_text().replace('siren: "732829320"', "siren: 732829320"))
    case = load_case(d, date(2026, 6, 15))
    assert case.creditor.siren == "732829320"
    assert case.invoices[0].amount_incl_tax.as_tuple().exponent == -2


def test_warnings_do_not_fail(tmp_path):
    d = _good_text(tmp_path)
    text = (d / "case.yaml").read_text() + 'payments:\n  - {date: 2026-03-01, amount: "1500.00", invoice: F1}\n'
    (d / "case.yaml").write_text(text)
    case, problems = check_case(d, date(2026, 6, 15))
    assert case is not None
    assert any(p.severity == "warning" and "more than" in p.message for p in problems)
    proc = cli("check", d, "--at", "2026-06-15")
    assert proc.returncode == 0
    assert "warning:" in proc.stdout


def test_load_case_raises_with_all_problems():
    with pytest.raises(CaseFileError) as e:
        load_case(BAD[0].parent / "10-due-before-issue", date(2026, 6, 15))
    assert "invoices[0].due" in str(e.value)


def test_missing_folder(tmp_path):
    proc = cli("check", tmp_path / "nope")
    assert proc.returncode == 2
    assert "case folder not found" in proc.stderr


def test_model_is_frozen_and_decimal(tmp_path):
    case = load_case(_good_text(tmp_path), date(2026, 6, 15))
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        case.reference = "x"  # type: ignore[misc]
    from decimal import Decimal

    assert isinstance(case.invoices[0].amount_incl_tax, Decimal)
    assert case.invoices[0].source.line == 15


@pytest.mark.parametrize("name", ["atelier-martin", "studio-graphique", "consumer-renovation"])
def test_samples_are_valid(name):
    proc = cli("check", SAMPLES / name, "--at", "2026-06-15")
    assert proc.returncode == 0, proc.stderr
