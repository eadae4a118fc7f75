"""The journal: append-only, hashes, refuses to overwrite what was sent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dossier import journal
from dossier.errors import JournalError
from dossier.journal import JournalEntry


def _entry(tmp: Path, stage="relance-1", status="sent", name="out/relance-1.eml", data=b"hello"):
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return JournalEntry(
        stage=stage,
        date=date(2026, 7, 3),
        channel="email",
        status=status,
        recipient="compta@dupont.fr",
        files=(journal.file_entry(tmp, p),),
        message_id="<x@y>",
        invoices=("F2026-014",),
        amount="4800.00",
    )


def test_record_appends_and_reads_back(tmp_path):
    e1 = journal.record(tmp_path, _entry(tmp_path))
    e2 = journal.record(tmp_path, _entry(tmp_path, stage="relance-2", name="out/relance-2.eml"))
    lines = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["stage"] == "relance-1" and first["date"] == "2026-07-03"
    assert first["files"] == [{"path": "out/relance-1.eml", "sha256": journal.sha256_file(tmp_path / "out/relance-1.eml")}]
    assert first["recorded_at"] == e1.recorded_at != ""
    entries = journal.read_journal(tmp_path)
    assert [e.stage for e in entries] == ["relance-1", "relance-2"]
    assert entries[1] == e2 and entries[1].line == 2
    # appending never rewrites earlier lines
    journal.record(tmp_path, _entry(tmp_path, stage="dernier-avis", status="generated", name="out/d.pdf"))
    assert (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()[:2] == lines


def test_sent_stages_and_was_sent(tmp_path):
    journal.record(tmp_path, _entry(tmp_path, stage="relance-1"))
    journal.record(tmp_path, _entry(tmp_path, stage="relance-2", status="generated", name="out/r2.pdf"))
    journal.record(tmp_path, _entry(tmp_path, stage="relance-1", name="out/relance-1b.eml"))
    assert journal.sent_stages(tmp_path) == ("relance-1",)
    assert journal.was_sent(tmp_path, "relance-1", ["F2026-014"]).line == 1
    assert journal.was_sent(tmp_path, "relance-1", ["F2026-099"]) is None
    assert journal.was_sent(tmp_path, "relance-2") is None
    notices = journal.as_notices(tmp_path)
    assert [n.stage for n in notices] == ["relance-1", "relance-1"]
    assert notices[0].file == tmp_path / "out/relance-1.eml"


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json\n", "not valid JSON"),
        ('{"stage": "relance-1", "date": "03/07/2026", "channel": "email", "status": "sent"}\n', "date"),
        ('{"stage": "relance-1", "date": "2026-07-03", "channel": "email", "status": "posted"}\n', "status"),
        ('["a"]\n', "expected a JSON object"),
        ('{"stage": "relance-1", "date": "2026-07-03", "channel": "email", "status": "sent", "files": [{"path": 1}]}\n', "files[0]"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, line, message):
    journal.record(tmp_path, _entry(tmp_path))
    with open(tmp_path / "journal.jsonl", "a", encoding="utf-8") as f:
        f.write(line)
    with pytest.raises(JournalError) as e:
        journal.read_journal(tmp_path)
    assert "journal.jsonl:2:" in str(e.value)
    assert message in str(e.value)


def test_torn_last_line_is_refused(tmp_path):
    journal.record(tmp_path, _entry(tmp_path))
    with open(tmp_path / "journal.jsonl", "a", encoding="utf-8") as f:
        f.write('{"stage": "rel')
    with pytest.raises(JournalError, match="journal.jsonl:2: incomplete"):
        journal.read_journal(tmp_path)
    with pytest.raises(JournalError, match="incomplete last line"):
        journal.record(tmp_path, _entry(tmp_path, stage="relance-2", name="out/b.eml"))


def test_guard_refuses_overwrite_of_sent_file_and_force_picks_new_name(tmp_path):
    journal.record(tmp_path, _entry(tmp_path, name="out/relance-1.eml"))
    target = tmp_path / "out/relance-1.eml"
    with pytest.raises(JournalError) as e:
        journal.guard_output(tmp_path, target)
    assert "relance-1.eml" in str(e.value) and "--force" in str(e.value)
    new = journal.guard_output(tmp_path, target, force=True)
    assert new == tmp_path / "out/relance-1.v2.eml"
    new.write_bytes(b"x")
    assert journal.guard_output(tmp_path, target, force=True) == tmp_path / "out/relance-1.v3.eml"
    # a file only "generated" may be regenerated in place
    journal.record(tmp_path, _entry(tmp_path, status="generated", name="out/other.pdf"))
    assert journal.guard_output(tmp_path, tmp_path / "out/other.pdf") == tmp_path / "out/other.pdf"


def test_verify_detects_changed_and_missing_sent_files(tmp_path):
    journal.record(tmp_path, _entry(tmp_path, name="out/a.eml"))
    journal.record(tmp_path, _entry(tmp_path, stage="relance-2", name="out/b.eml"))
    assert journal.verify(tmp_path) == []
    (tmp_path / "out/a.eml").write_bytes(b"tampered")
    (tmp_path / "out/b.eml").unlink()
    problems = journal.verify(tmp_path)
    assert any("out/a.eml" in p and "changed" in p for p in problems)
    assert any("out/b.eml" in p and "missing" in p for p in problems)


def test_no_journal_is_empty(tmp_path):
    assert journal.read_journal(tmp_path) == ()
    assert journal.sent_stages(tmp_path) == ()


def test_write_atomic(tmp_path):
    p = tmp_path / "out" / "x.pdf"
    journal.write_atomic(p, b"one")
    journal.write_atomic(p, b"two")
    assert p.read_bytes() == b"two"
    assert [q.name for q in p.parent.iterdir()] == ["x.pdf"]
