"""A print job after printing: deposit at the post office, discard, avis de réception.

Printed is not posted. A letter in a print job is "printed" in its case's journal; only
:func:`confirm` — the letters were handed to La Poste on that date — records each one
"sent", with its registered number: that date starts the deadlines and a consumer's legal
interest. A batch not yet deposited can be :func:`discard`-ed (a "discarded" line cancels
each "printed" one; nothing is rewritten). A confirmed batch is immutable.

:func:`record_receipt` records the signed avis de réception of a registered letter: the
scan is copied into the case's ``pieces/`` and recorded with its SHA-256 and the date of
signature (:func:`dossier.journal.receipt_of` finds it back).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from dossier.errors import DossierError
from dossier.journal import (
    JournalEntry,
    JournalFile,
    read_journal,
    receipt_of,
    record,
    sha256_file,
    write_atomic,
)
from dossier.postal.printjob import BATCH_FILE, PrintJobError, batch_note, format_number

#: an avis de réception scan: accepted types and size
RECEIPT_TYPES = {".pdf": b"%PDF", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8", ".png": b"\x89PNG"}
MAX_RECEIPT_BYTES = 20 * 1024 * 1024
MAX_NUMBERS_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Batch:
    folder: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data.get("batch", ""))

    @property
    def state(self) -> str:
        return str(self.data.get("state", ""))

    @property
    def letters(self) -> list[dict[str, Any]]:
        return list(self.data.get("letters", []))


def load_batch(folder: str | Path) -> Batch:
    """The print job in ``folder`` (identified by its ``batch.json``)."""
    path = Path(folder) / BATCH_FILE
    if not path.is_file():
        raise PrintJobError(f"{folder}: not a print job folder (no {BATCH_FILE})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PrintJobError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("letters"), list) or "state" not in data:
        raise PrintJobError(f"{path}: not a print job description (batch, state, letters)")
    for n, lt in enumerate(data["letters"]):
        if not isinstance(lt, dict) or not all(isinstance(lt.get(k), str) for k in ("case_root", "stage", "channel", "date")) \
                or not isinstance(lt.get("sequence"), int):
            raise PrintJobError(f"{path}: letters[{n}]: expected sequence, case_root, stage, channel, date")
    return Batch(Path(folder), data)


def _require_printed(batch: Batch, action: str) -> None:
    if batch.state == "confirmed":
        raise PrintJobError(f"{batch.folder}: batch {batch.id} was deposited on {batch.data.get('deposited')} "
                            f"and is immutable: it cannot be {action}")
    if batch.state == "discarded":
        raise PrintJobError(f"{batch.folder}: batch {batch.id} was discarded; it cannot be {action}")
    if batch.state != "printed":
        raise PrintJobError(f"{batch.folder}: batch {batch.id} is in state {batch.state!r}, not 'printed'")


def parse_numbers(path: str | Path) -> dict[str, str]:
    """A CSV of registered numbers: ``sequence,number`` or ``case,number`` per row (a
    header row is allowed). Returns key (sequence or case reference) → formatted number."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DossierError(f"{p}: cannot read: {e.strerror}") from None
    if len(raw) > MAX_NUMBERS_BYTES:
        raise DossierError(f"{p}: larger than {MAX_NUMBERS_BYTES >> 20} MB: not a list of numbers")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DossierError(f"{p}: not UTF-8 text") from None
    out: dict[str, str] = {}
    dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t") if text.strip() else csv.excel
    for n, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) < 2:
            raise DossierError(f"{p}:{n}: expected two columns: sequence (or case), number")
        key, number = cells[0], cells[1]
        if n == 1 and key.lower() in ("sequence", "case", "dossier", "n°", "no"):
            continue
        try:
            formatted = format_number(number)
        except PrintJobError as e:
            raise DossierError(f"{p}:{n}: number: {e}") from None
        if key in out:
            raise DossierError(f"{p}:{n}: {key} is given twice")
        out[key] = formatted
    return out


def _number_for(letter: dict[str, Any], numbers: dict[str, str]) -> str | None:
    return numbers.get(str(letter["sequence"])) or numbers.get(str(letter.get("case"))) or letter.get("number")


def _already(entries: Iterable[JournalEntry], note: str, status: str) -> JournalEntry | None:
    return next((e for e in entries if e.status == status and e.note == note), None)


def _letter_files(letter: dict[str, Any], root: Path) -> tuple[JournalFile, ...]:
    f = letter.get("file")
    if not f:
        return ()
    path = Path(f)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    return (JournalFile(rel, sha256_file(path)),)


def _preflight(batch: Batch, numbers: dict[str, str]) -> list[str]:
    """Everything that would stop a confirmation half-way, found before anything is written."""
    problems = []
    sequences = {str(lt["sequence"]) for lt in batch.letters}
    cases = {str(lt.get("case")) for lt in batch.letters}
    for key in numbers:
        if key not in sequences and key not in cases:
            problems.append(f"numbers: {key} is neither a letter sequence nor a case of batch {batch.id}")
    for lt in batch.letters:
        root = Path(lt["case_root"])
        if not root.is_dir():
            problems.append(f"letter {lt['sequence']}: case folder {root} not found")
            continue
        try:
            read_journal(root)
        except DossierError as e:
            problems.append(str(e))
        f = lt.get("file")
        if f and not Path(f).is_file():
            problems.append(f"letter {lt['sequence']}: {f}: the printed letter is missing")
        elif f and lt.get("sha256") and sha256_file(Path(f)) != lt["sha256"]:
            problems.append(f"letter {lt['sequence']}: {f}: changed since it was printed (SHA-256 differs)")
    return problems


def confirm(folder: str | Path, on: date, numbers: dict[str, str] | None = None) -> list[JournalEntry]:
    """Record the deposit of the batch in ``folder`` on ``on``: one "sent" line per letter
    in its case's journal (with its registered number), then the batch becomes
    "confirmed". Safe to run again after an interruption: a letter already recorded sent
    for this batch is not recorded twice."""
    batch = load_batch(folder)
    _require_printed(batch, "confirmed again")
    numbers = numbers or {}
    created = batch.data.get("created", "")[:10]
    if created and on < date.fromisoformat(created):
        raise PrintJobError(f"--date {on.isoformat()} is before the batch was printed ({created})")
    problems = _preflight(batch, numbers)
    if problems:
        raise PrintJobError(f"{batch.folder}: nothing was recorded:\n" + "\n".join(problems))
    written = []
    final_numbers = {}
    for lt in batch.letters:
        root = Path(lt["case_root"])
        note = batch_note(batch.id, lt["sequence"])
        number = _number_for(lt, numbers) if lt.get("registered") else None
        final_numbers[str(lt["sequence"])] = number
        if _already(read_journal(root), note, "sent"):
            continue
        written.append(record(root, JournalEntry(
            stage=lt["stage"], date=on, channel=lt["channel"], status="sent", recipient=lt.get("debtor"),
            files=_letter_files(lt, root), invoices=tuple(lt.get("invoices") or ()), amount=lt.get("amount"),
            lrar_number=number, note=note)))
    data = dict(batch.data)
    data.update(state="confirmed", deposited=on.isoformat(),
                confirmed_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat())
    data["letters"] = [{**lt, "number": final_numbers.get(str(lt["sequence"]))} for lt in batch.letters]
    write_atomic(batch.folder / BATCH_FILE, (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return written


def discard(folder: str | Path) -> list[JournalEntry]:
    """Throw away a batch not yet deposited: a "discarded" line per letter cancels its
    "printed" one; the batch becomes "discarded" (its files stay, as a record)."""
    batch = load_batch(folder)
    _require_printed(batch, "discarded")
    written = []
    for lt in batch.letters:
        root = Path(lt["case_root"])
        note = batch_note(batch.id, lt["sequence"])
        if not root.is_dir() or _already(read_journal(root), note, "discarded"):
            continue
        written.append(record(root, JournalEntry(
            stage=lt["stage"], date=date.fromisoformat(lt["date"]), channel=lt["channel"], status="discarded",
            recipient=lt.get("debtor"), note=note)))
    data = {**batch.data, "state": "discarded",
            "discarded_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}
    write_atomic(batch.folder / BATCH_FILE, (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return written


def record_receipt(case_root: str | Path, received: date, file: str | Path | None = None, *,
                   stage: str | None = None) -> JournalEntry:
    """Record the signed avis de réception of the case's last registered letter (of
    ``stage`` when given): the scan copied under ``pieces/`` and a "received" line."""
    root = Path(case_root).resolve()
    entries = read_journal(root)
    sent = [e for e in entries if e.status == "sent" and e.channel == "lrar" and (stage is None or e.stage == stage)]
    if not sent:
        what = f"{stage} " if stage else ""
        raise DossierError(f"{root}: no registered {what}letter recorded as sent in {root / 'journal.jsonl'}: "
                           "confirm its deposit first (dossier post confirm)")
    notice = sent[-1]
    if received < notice.date:
        raise DossierError(f"--received {received.isoformat()} is before the letter was sent ({notice.date.isoformat()})")
    if (previous := receipt_of(notice, entries)) is not None:
        raise DossierError(f"{root}: the avis de réception of {notice.stage} (sent {notice.date.isoformat()}) is "
                           f"already recorded (journal line {previous.line}); the journal is never rewritten")
    files: tuple[JournalFile, ...] = ()
    if file is not None:
        files = (_copy_receipt(root, Path(file), notice, received),)
    return record(root, JournalEntry(
        stage=notice.stage, date=received, channel="lrar", status="received", recipient=notice.recipient,
        files=files, lrar_number=notice.lrar_number,
        note=f"avis de réception of the letter sent {notice.date.isoformat()}"))


def _copy_receipt(root: Path, src: Path, notice: JournalEntry, received: date) -> JournalFile:
    suffix = src.suffix.lower()
    if suffix not in RECEIPT_TYPES:
        raise DossierError(f"{src}: an avis de réception must be a PDF, JPEG or PNG scan")
    try:
        size = src.stat().st_size
        if size > MAX_RECEIPT_BYTES:
            raise DossierError(f"{src}: {size >> 20} MB, more than {MAX_RECEIPT_BYTES >> 20} MB for one scan")
        data = src.read_bytes()
    except OSError as e:
        raise DossierError(f"{src}: cannot read: {e.strerror}") from None
    if not data.startswith(RECEIPT_TYPES[suffix]):
        raise DossierError(f"{src}: not a {suffix[1:].upper()} file (its first bytes say otherwise)")
    pieces = root / "pieces"
    name = f"avis-de-reception-{notice.stage}-{received.isoformat()}{suffix}"
    dest = pieces / name
    n = 2
    while dest.exists() and dest.read_bytes() != data and n < 1000:
        dest = pieces / f"avis-de-reception-{notice.stage}-{received.isoformat()}.v{n}{suffix}"
        n += 1
    if not dest.exists():
        write_atomic(dest, data)
    return JournalFile(dest.relative_to(root).as_posix(), sha256_file(dest))
