"""`dossier letter` and `dossier plan` through the real entry point."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from pypdf import PdfReader

from helpers import SAMPLES, cli

AT = "2026-06-15"


def _copy(tmp_path: Path, name: str = "atelier-martin") -> Path:
    dst = tmp_path / name
    shutil.copytree(SAMPLES / name, dst, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    return dst


def test_letter_writes_files_and_records_generated(tmp_path):
    case = _copy(tmp_path)
    out = tmp_path / "letters"
    r = cli("letter", "mise-en-demeure", case, "--at", AT, "-o", out, "--format", "pdf,docx",
                "--lrar", "1A 123 456 7890 1", "--window", "50,105,90,35", "--overlay")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(out / "mise-en-demeure.pdf"), str(out / "mise-en-demeure.docx")]
    text = PdfReader(io.BytesIO((out / "mise-en-demeure.pdf").read_bytes())).pages[0].extract_text()
    assert "1A 123 456 7890 1" in text
    entries = [json.loads(line) for line in (case / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(e["stage"], e["status"], e["channel"]) for e in entries] == [("mise-en-demeure", "generated", "lrar")]
    assert entries[0]["files"][0]["path"] == str((out / "mise-en-demeure.pdf").resolve())

    # the printed LRAR is then recorded as posted; regenerating in place is refused
    r = cli("letter", "mise-en-demeure", case, "--at", AT, "--format", "pdf", "--mark-sent", "--lrar", "1A 123 456 7890 1")
    assert r.returncode == 0, r.stderr
    last = json.loads((case / "journal.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert (last["status"], last["channel"], last["lrar_number"]) == ("sent", "lrar", "1A 123 456 7890 1")
    assert last["files"] == [{"path": "out/mise-en-demeure.pdf", "sha256": last["files"][0]["sha256"]}]
    r = cli("letter", "mise-en-demeure", case, "--at", AT, "--format", "pdf")
    assert r.returncode == 2 and "never overwritten" in r.stderr and "--force" in r.stderr
    r = cli("letter", "mise-en-demeure", case, "--at", AT, "--format", "pdf", "--force")
    assert r.returncode == 0 and r.stdout.strip().endswith("mise-en-demeure.v2.pdf")

    # the plan now goes to the court stage
    r = cli("plan", case, "--at", "2026-07-10", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["stage"] == "injonction-de-payer"


def test_letter_bad_input_exit_2(tmp_path):
    case = _copy(tmp_path)
    r = cli("letter", "relance-9", case, "--at", AT)
    assert r.returncode == 2 and "relance-9" in r.stderr
    r = cli("letter", "relance-1", case, "--at", AT, "--format", "pdf,odt")
    assert r.returncode == 2 and "--format" in r.stderr
    r = cli("letter", "relance-1", case, "--at", AT, "--window", "55,110,85")
    assert r.returncode == 2 and "--window" in r.stderr
    r = cli("letter", "relance-1", case, "--at", AT, "--send",
                env={"DOSSIER_SMTP_HOST": "", "DOSSIER_SMTP_CONFIG": str(tmp_path / "none.toml")})
    assert r.returncode == 2 and "DOSSIER_SMTP_HOST" in r.stderr
    assert not (case / "out").exists()  # nothing written when delivery cannot happen


def test_plan_portfolio_text_and_json(tmp_path):
    for name in ("atelier-martin", "consumer-renovation", "studio-graphique"):
        _copy(tmp_path, name)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "case.yaml").write_text("creditor: [\n", encoding="utf-8")
    r = cli("plan", tmp_path, "--at", AT, "--json")
    assert r.returncode == 2  # one case cannot be read: listed, and the exit code says so
    items = json.loads(r.stdout)
    assert [set(i) for i in items] == [{"case", "stage", "due_on", "channel", "reason"}] * 4
    by_case = {i["case"]: i for i in items}
    assert by_case["AM-2026-003"]["stage"] == "dernier-avis"
    assert by_case["broken"]["stage"] is None and by_case["broken"]["reason"].startswith("error:")
    r = cli("plan", tmp_path / "atelier-martin", "--at", AT)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["case", "stage", "due"]
    assert "AM-2026-003" in lines[1] and "dernier-avis" in lines[1] and "email+letter" in lines[1]
