"""The case journal: an append-only record of what the tool generated and sent.

``journal.jsonl`` lives in the case folder, one JSON object per line::

    {"stage": "relance-1", "date": "2026-07-03", "channel": "email", "status": "sent",
     "recipient": "compta@dupont.fr", "files": [{"path": "out/relance-1.eml",
     "sha256": "…"}], "recorded_at": "2026-07-03T09:12:44+00:00",
     "message_id": "<…@atelier-martin.fr>", "invoices": ["F2026-014"], "amount": "4800.00"}

Rules that make it evidence rather than a log:

- **Append only.** :func:`record` appends one line (under an exclusive lock, then fsync);
  nothing ever rewrites or truncates the file.
- **A hash proves what was sent.** Each file is recorded with its SHA-256; :func:`verify`
  re-hashes and reports any sent file that has changed or disappeared.
- **Never twice.** :func:`sent_stages` / :func:`was_sent` tell a batch run what was already
  sent; :func:`guard_output` refuses to overwrite a file recorded as sent, and with
  ``force`` picks a new name (``relance-1.v2.pdf``) instead of writing in place.
- ``date`` is the ``--at`` date of the document (what the letter says); ``recorded_at`` is
  the wall-clock time the line was written.

**Email delivery states.** An email sent by the tool leaves up to three lines, all with the
same ``message_id`` and ``message_sha256`` (the SHA-256 of the exact bytes handed to the
server): ``sending`` (written before the SMTP ``DATA`` command), then ``sent`` (the server
accepted the message — written before ``QUIT``), ``failed`` (the server refused it; its
reply is in ``smtp_reply``) or ``unknown`` (the connection was lost after the message was
handed over, before the server answered). A ``sending`` or ``unknown`` line with no later
``sent`` or ``failed`` for its Message-ID means the debtor may or may not have received the
email: :func:`delivery_state` reports it and nothing resends it without ``--force``.
``generated`` records files written but not sent.

**One run per case.** :func:`case_lock` takes an exclusive lock on ``.dossier.lock`` in the
case folder for the whole check → send → record sequence; a second run (another
``dossier letter --send``, a batch) is refused at once, naming the holder's pid. The
operating system releases the lock when its process dies, so a killed run never leaves a
stale lock behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from dossier.casefile import CONTROL_RE, DECIMAL_RE, parse_iso_date
from dossier.errors import JournalError
from dossier.model import Date, Notice, Source
from dossier.outputs import fsync_dir, write_set
from dossier.paths import UnsafePathError, file_type, inside

#: "printed": in a print job, not yet posted; "discarded": a print job thrown away before
#: its deposit; "received": the signed avis de réception of a registered letter
STATUSES = ("generated", "sent", "sending", "failed", "unknown", "printed", "discarded", "received")
#: statuses of an email delivery attempt (see the module docstring)
DELIVERY_STATUSES = ("sending", "sent", "failed", "unknown")
#: statuses whose files may have reached the debtor: never overwritten
PROTECTED_STATUSES = ("sent", "sending", "unknown")
JOURNAL_NAME = "journal.jsonl"
LOCK_NAME = ".dossier.lock"


@dataclass(frozen=True)
class JournalFile:
    path: str  # POSIX path relative to the case root
    sha256: str


@dataclass(frozen=True)
class JournalEntry:
    stage: str
    date: date
    channel: str
    status: str  # one of STATUSES
    recipient: str | None = None
    files: tuple[JournalFile, ...] = ()
    recorded_at: str = ""
    message_id: str | None = None
    #: invoice numbers the document claims (so a new invoice can get its own reminder)
    invoices: tuple[str, ...] = ()
    #: total claimed by the document, as a string with two decimals
    amount: str | None = None
    lrar_number: str | None = None
    note: str | None = None
    #: échéancier: the proposed instalments as (due date, amount as a string), so the
    #: ladder can tell a plan kept from a plan broken
    schedule: tuple[tuple[Date, str], ...] = ()
    #: email: SHA-256 of the exact message bytes handed to the SMTP server
    message_sha256: str | None = None
    #: email: the server's reply to the message ("250 2.0.0 queued as …", "550 5.1.1 no such user")
    smtp_reply: str | None = None
    #: 1-based line in journal.jsonl (set when read)
    line: int | None = field(default=None, compare=False)

    def evidence_file(self) -> JournalFile | None:
        """The file that best shows what was sent: the PDF letter, else the email, else
        the first."""
        for suffix in (".pdf", ".eml"):
            for f in self.files:
                if f.path.lower().endswith(suffix):
                    return f
        return self.files[0] if self.files else None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "stage": self.stage,
            "date": self.date.isoformat(),
            "channel": self.channel,
            "status": self.status,
            "recipient": self.recipient,
            "files": [{"path": f.path, "sha256": f.sha256} for f in self.files],
            "recorded_at": self.recorded_at,
        }
        for key in ("message_id", "message_sha256", "smtp_reply", "amount", "lrar_number", "note"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self.invoices:
            d["invoices"] = list(self.invoices)
        if self.schedule:
            d["schedule"] = [{"due": due.isoformat(), "amount": amount} for due, amount in self.schedule]
        return d


def _root(case_or_root: Any) -> Path:
    if isinstance(case_or_root, (str, os.PathLike)):
        return Path(case_or_root)
    return Path(case_or_root.root)  # a dossier.model.Case


def journal_path(case_or_root: Any) -> Path:
    return _root(case_or_root) / JOURNAL_NAME


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def relative(case_or_root: Any, path: Path | str) -> str:
    """``path`` relative to the case root, POSIX style; absolute if outside the case."""
    root = _root(case_or_root).resolve()
    p = Path(path).resolve()
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.as_posix()


def file_entry(case_or_root: Any, path: Path | str) -> JournalFile:
    """A :class:`JournalFile` for an existing file: relative path and SHA-256."""
    return JournalFile(relative(case_or_root, path), sha256_file(Path(path)))


def _strings(value: Any, key: str = ""):
    """(field path, text) of every string in a parsed JSON value."""
    if isinstance(value, str):
        yield key.lstrip("."), value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{key}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{key}.{k}")


def _dates_and_amounts(obj: dict) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    dates = [("date", obj.get("date"))]
    amounts = [("amount", obj.get("amount"))]
    schedule = obj.get("schedule")
    for i, item in enumerate(schedule if isinstance(schedule, list) else []):
        if isinstance(item, dict):
            dates.append((f"schedule[{i}].due", item.get("due")))
            amounts.append((f"schedule[{i}].amount", item.get("amount")))
    return dates, amounts


def _check_values(obj: dict, fail) -> None:
    """A journal line is case input: dates exactly YYYY-MM-DD within the dates the tool
    handles, amounts plain decimals, no control characters (they would reach a terminal
    or a letter)."""

    for key, text in _strings(obj):
        if CONTROL_RE.search(text):
            raise fail(f"{key}: {text[:40]!r} contains a control character")
    dates, amounts = _dates_and_amounts(obj)
    for key, value in dates:
        try:
            if isinstance(value, str):
                parse_iso_date(value)
        except ValueError as e:
            raise fail(f"{key}: {e}") from None
    for key, value in amounts:
        if value is not None and not (isinstance(value, str) and DECIMAL_RE.fullmatch(value)):
            raise fail(f"{key}: {str(value)[:40]!r} is not an amount (\"1234.56\")")


def _parse(obj: Any, where: str, line: int) -> JournalEntry:
    def fail(msg: str) -> JournalError:
        return JournalError(f"{where}:{line}: {msg}")

    if not isinstance(obj, dict):
        raise fail("expected a JSON object")
    for key in ("stage", "date", "channel", "status"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise fail(f"{key}: missing or not a string")
    _check_values(obj, fail)
    d = date.fromisoformat(obj["date"])
    if obj["status"] not in STATUSES:
        raise fail(f"status: {obj['status']!r} is not one of {', '.join(STATUSES)}")
    files = []
    raw_files = obj.get("files", [])
    if not isinstance(raw_files, list):
        raise fail("files: expected a list")
    for i, f in enumerate(raw_files):
        if not isinstance(f, dict) or not isinstance(f.get("path"), str) or not isinstance(f.get("sha256"), str):
            raise fail(f"files[{i}]: expected {{\"path\": …, \"sha256\": …}}")
        files.append(JournalFile(f["path"], f["sha256"]))
    invoices = obj.get("invoices", [])
    if not isinstance(invoices, list) or not all(isinstance(x, str) for x in invoices):
        raise fail("invoices: expected a list of invoice numbers")
    schedule = _parse_schedule(obj.get("schedule", []), fail)
    for key in ("recipient", "message_id", "message_sha256", "smtp_reply", "amount", "lrar_number", "note", "recorded_at"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise fail(f"{key}: expected a string")
    return JournalEntry(
        stage=obj["stage"],
        date=d,
        channel=obj["channel"],
        status=obj["status"],
        recipient=obj.get("recipient"),
        files=tuple(files),
        recorded_at=obj.get("recorded_at") or "",
        message_id=obj.get("message_id"),
        invoices=tuple(invoices),
        amount=obj.get("amount"),
        lrar_number=obj.get("lrar_number"),
        note=obj.get("note"),
        schedule=tuple(schedule),
        message_sha256=obj.get("message_sha256"),
        smtp_reply=obj.get("smtp_reply"),
        line=line,
    )


def _parse_schedule(raw: Any, fail: Any) -> list[tuple[date, str]]:
    if not isinstance(raw, list):
        raise fail("schedule: expected a list")
    out = []
    for i, item in enumerate(raw):
        try:
            out.append((date.fromisoformat(item["due"]), str(item["amount"])))
        except (TypeError, KeyError, ValueError):
            raise fail(f"schedule[{i}]: expected {{\"due\": \"YYYY-MM-DD\", \"amount\": \"…\"}}") from None
    return out


def read_journal(case_or_root: Any) -> tuple[JournalEntry, ...]:
    """Every entry of the case's journal, in order (empty when there is no journal).

    A malformed line raises :class:`JournalError` naming the file and the line: the journal
    is evidence, so it is never silently skipped.
    """
    path = journal_path(case_or_root)
    if not os.path.lexists(path):
        return ()
    _check_journal_file(case_or_root, path)
    out = []
    try:
        f = open(path, "rb")
    except OSError as e:
        raise JournalError(f"{path}: cannot read the journal ({e.strerror})") from None
    with f:
        for n, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise JournalError(f"{path}:{n}: not UTF-8") from None
            if not text.strip():
                continue
            if not text.endswith("\n"):
                raise JournalError(f"{path}:{n}: incomplete last line (interrupted write?): fix or remove it")
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                raise JournalError(f"{path}:{n}: not valid JSON: {e.msg} (column {e.colno})") from None
            out.append(_parse(obj, str(path), n))
    return tuple(out)


def _check_journal_file(case_or_root: Any, path: Path) -> None:
    """The journal must be a regular file of the case folder: not a folder, a FIFO (reading
    it would block) or a link to a file elsewhere (appending would write there)."""

    try:
        inside(_root(case_or_root), path)
    except UnsafePathError as e:
        raise JournalError(f"{path}: {str(e).split(': ', 1)[-1]}") from None
    what = file_type(path)
    if what is not None and what != "file not found":
        raise JournalError(f"{path}: the journal is {what}")


def record(case_or_root: Any, entry: JournalEntry) -> JournalEntry:
    """Append ``entry`` to the journal (exclusive lock, fsync). Returns the entry as
    written (``recorded_at`` filled in when empty). Never rewrites existing lines."""
    if entry.status not in STATUSES:
        raise JournalError(f"status: {entry.status!r} is not one of {', '.join(STATUSES)}")
    if not entry.recorded_at:
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        entry = JournalEntry(**{**_fields(entry), "recorded_at": now})
    path = journal_path(case_or_root)
    line = (json.dumps(entry.to_json(), ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
    created = not path.exists()
    _check_journal_file(case_or_root, path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o644)
    except OSError as e:
        raise JournalError(f"{path}: cannot write the journal ({e.strerror})") from None
    try:
        _lock(fd)
        # a torn previous write would glue two records together: refuse instead
        size = os.fstat(fd).st_size
        if size:
            with open(path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    raise JournalError(f"{path}:{_count_lines(path)}: incomplete last line: fix it before recording")
        try:
            os.write(fd, line)
            os.fsync(fd)
        except OSError as e:  # a full disk: said, not a traceback
            raise JournalError(f"{path}: cannot record in the journal ({e.strerror})") from None
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)
    return entry


def _fields(entry: JournalEntry) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(entry, f.name) for f in fields(entry)}


def _lock(fd: int) -> None:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)  # released on close
    except ImportError:  # pragma: no cover - Windows: O_APPEND writes of one line suffice
        pass


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return f.read().count(b"\n") + 1


def sent_entries(case_or_root: Any, entries: Iterable[JournalEntry] | None = None) -> tuple[JournalEntry, ...]:
    """Entries with status "sent", in journal order."""
    entries = read_journal(case_or_root) if entries is None else entries
    return tuple(e for e in entries if e.status == "sent")


def sent_stages(case_or_root: Any) -> tuple[str, ...]:
    """Stages recorded as sent, each once, in the order first sent."""
    seen: list[str] = []
    for e in sent_entries(case_or_root):
        if e.stage not in seen:
            seen.append(e.stage)
    return tuple(seen)


def was_sent(case_or_root: Any, stage: str, invoices: Iterable[str] = (), channel: str | None = None) -> JournalEntry | None:
    """The first "sent" entry of ``stage`` covering all ``invoices`` (any entry of the
    stage when ``invoices`` is empty or the entry lists none), or None. With ``channel``,
    only entries of that channel count (a mise en demeure emailed as a copy may still be
    posted as an LRAR)."""
    wanted = set(invoices)
    for e in sent_entries(case_or_root):
        if e.stage != stage or (channel is not None and e.channel != channel):
            continue
        if not wanted or not e.invoices or wanted <= set(e.invoices):
            return e
    return None


def as_notices(case_or_root: Any, entries: Iterable[JournalEntry] | None = None) -> tuple:
    """The journal's "sent" entries as :class:`dossier.model.Notice` records (the file that
    best shows what was sent as the notice's file; the signed avis de réception recorded
    by ``dossier post receipt`` as its received date and receipt file), for the ladder and
    the court dossier."""
    root = _root(case_or_root)
    entries = read_journal(case_or_root) if entries is None else tuple(entries)
    out = []
    for e in sent_entries(case_or_root, entries):
        chosen = e.evidence_file()
        file = _inside(root, e, e.files.index(chosen)) if chosen is not None else None
        ar = receipt_of(e, entries) if e.channel == "lrar" else None
        receipt = _inside(root, ar, 0) if ar is not None and ar.files else None
        out.append(
            Notice(
                stage=e.stage,
                date=e.date,
                channel=e.channel,
                file=file,
                lrar_number=e.lrar_number,
                received=ar.date if ar is not None else None,
                source=Source(str(journal_path(root)), e.line, "journal"),
                receipt_file=receipt,
            )
        )
    return tuple(out)


def _inside(root: Path, entry: JournalEntry, index: int) -> Path:
    """The journal's ``files[index].path`` as a path inside the case folder, or
    :class:`JournalError`: a journal is case input, it cannot point the tool elsewhere."""

    try:
        return inside(root, entry.files[index].path)
    except UnsafePathError as e:
        raise JournalError(f"{journal_path(root)}:{entry.line}: files[{index}].path: {str(e).split(': ', 1)[-1]}") from None


def awaiting_deposit(entries: Iterable[JournalEntry]) -> tuple[JournalEntry, ...]:
    """The "printed" entries whose print job is neither confirmed nor discarded: letters in
    an envelope somewhere, which a new batch must not print again."""
    entries = tuple(entries)
    closed = {e.note for e in entries if e.status in ("sent", "discarded") and e.note}
    return tuple(e for e in entries if e.status == "printed" and e.note not in closed)


def sent_files(case_or_root: Any) -> dict[str, tuple[str, JournalEntry]]:
    """Relative path -> (sha256, entry) of every file recorded as sent — or as being sent
    with an unknown outcome (``sending``, ``unknown``): it may have reached the debtor."""
    out: dict[str, tuple[str, JournalEntry]] = {}
    for e in read_journal(case_or_root):
        if e.status not in PROTECTED_STATUSES:
            continue
        for f in e.files:
            out.setdefault(f.path, (f.sha256, e))
    return out


def guard_output(case_or_root: Any, path: Path, *, force: bool = False) -> Path:
    """Where a document may be written. A file recorded as sent is never overwritten:
    without ``force`` raise :class:`JournalError`; with ``force`` return a new free name
    (``name.v2.pdf``, ``name.v3.pdf``…). Any other path is returned unchanged."""
    protected = sent_files(case_or_root)
    rel = relative(case_or_root, path)
    if rel not in protected:
        return path
    _, entry = protected[rel]
    if not force:
        raise JournalError(
            f"{path}: recorded as {'sent' if entry.status == 'sent' else 'being sent, delivery unknown'} ({entry.stage}, {entry.date.isoformat()}, "
            f"{journal_path(case_or_root)}:{entry.line}); a sent document is never overwritten — "
            "use --force to write a new version under a new name"
        )
    suffix = "".join(path.suffixes[-1:])
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    n = 2
    while True:
        candidate = path.with_name(f"{stem}.v{n}{suffix}")
        if relative(case_or_root, candidate) not in protected and not candidate.exists():
            return candidate
        n += 1


def verify(case_or_root: Any) -> list[str]:
    """Problems with sent files: missing, or changed since they were sent (hash)."""
    root = _root(case_or_root)
    problems = []

    for rel, (digest, entry) in sent_files(root).items():
        where = f"{journal_path(root)}:{entry.line}"
        try:
            p = inside(root, rel)
        except UnsafePathError:
            problems.append(f"{where}: {rel}: outside the case folder: not read")
            continue
        what = file_type(p)
        if what == "file not found":
            problems.append(f"{where}: {rel}: sent file is missing")
        elif what is not None:
            problems.append(f"{where}: {rel}: {what}")
        elif sha256_file(p) != digest:
            problems.append(f"{where}: {rel}: sent file has changed since it was sent (SHA-256 differs)")
    return problems


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder renamed over
    it: :func:`dossier.outputs.write_set` for one file."""
    write_set({Path(path): data})


@dataclass(frozen=True)
class DeliveryState:
    """Where the email of a stage stands, from the journal.

    ``status``: ``"none"`` (never handed to a server), ``"sent"``, ``"unknown"`` (a
    ``sending``/``unknown`` line without a later ``sent``/``failed`` for its Message-ID:
    maybe delivered — never resent without ``--force``) or ``"failed"`` (every attempt was
    refused; ``permanent`` when the last refusal was a 5xx reply)."""

    status: str
    #: the journal line that decides the state (None for "none")
    entry: JournalEntry | None = None

    @property
    def permanent(self) -> bool:
        reply = self.entry.smtp_reply if self.entry is not None else None
        return self.status == "failed" and reply is not None and reply.startswith("5")

    @property
    def may_send(self) -> bool:
        """True when sending (again) cannot deliver the notice twice."""
        return self.status in ("none", "failed")


def _covers(e: JournalEntry, wanted: set[str]) -> bool:
    return not wanted or not e.invoices or wanted <= set(e.invoices)


def delivery_state(entries: Iterable[JournalEntry], stage: str, invoices: Iterable[str] = (), channel: str = "email") -> DeliveryState:
    """The delivery state of ``stage`` for ``invoices`` (see :class:`DeliveryState`), from
    journal ``entries`` in order. One pass: linear in the journal's length.

    A "sent" line without a Message-ID (older journals, a letter marked as posted) counts as
    sent. Attempts are told apart by Message-ID; the last line of each decides its state."""
    wanted = set(invoices)
    last: dict[str, JournalEntry] = {}
    sent: JournalEntry | None = None
    for e in entries:
        if e.stage != stage or e.channel != channel or e.status not in DELIVERY_STATUSES or not _covers(e, wanted):
            continue
        if e.status == "sent":
            sent = sent or e
        if e.message_id:
            if last.get(e.message_id) is None or last[e.message_id].status != "sent":
                last[e.message_id] = e
    if sent is not None:
        return DeliveryState("sent", sent)
    pending = [e for e in last.values() if e.status in ("sending", "unknown")]
    if pending:
        return DeliveryState("unknown", pending[-1])
    failed = [e for e in last.values() if e.status == "failed"]
    if failed:
        return DeliveryState("failed", failed[-1])
    return DeliveryState("none")


def pending_deliveries(entries: Iterable[JournalEntry]) -> tuple[JournalEntry, ...]:
    """The last line of every email attempt whose outcome is unknown (``sending`` or
    ``unknown`` with no later ``sent``/``failed`` for its Message-ID), in journal order —
    what ``dossier plan`` and the batch report as "delivery unknown"."""
    last: dict[str, JournalEntry] = {}
    for e in entries:
        if e.message_id and e.status in DELIVERY_STATUSES:
            last.pop(e.message_id, None)  # keep the order of the last line
            last[e.message_id] = e
    return tuple(e for e in last.values() if e.status in ("sending", "unknown"))


# -- one run per case ----------------------------------------------------------------------


class CaseLockedError(JournalError):
    """Another process (or thread) is working on the case."""


_held = threading.local()


def _held_locks() -> dict[str, int]:
    if not hasattr(_held, "locks"):
        _held.locks = {}
    return _held.locks


@contextmanager
def case_lock(case_or_root: Any) -> Iterator[Path]:
    """Hold the case's exclusive lock (``.dossier.lock`` in the case folder, ``flock``)
    for the duration of the ``with`` block; yields the lock file's path.

    Non-blocking: when another process or thread holds it, raise :class:`CaseLockedError`
    naming the holder's pid. Re-entrant within one thread (``write_stage`` inside a batch
    that already holds the case). The lock dies with its process: nothing to clean up after
    a crash or a kill."""
    import fcntl

    root = _root(case_or_root)
    path = root / LOCK_NAME
    key = str(path.resolve())
    held = _held_locks()
    if key in held:
        held[key] += 1
        try:
            yield path
        finally:
            held[key] -= 1
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise JournalError(f"{path}: cannot create the case lock: {e.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            raise CaseLockedError(
                f"{root}: case is being processed by another run (pid {holder}, lock {path}); "
                "try again when it has finished"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        held[key] = 1
        try:
            yield path
        finally:
            del held[key]
    finally:
        os.close(fd)  # releases the flock

def receipt_of(sent: JournalEntry, entries: Iterable[JournalEntry]) -> JournalEntry | None:
    """The "received" entry (signed avis de réception) of the registered letter ``sent``:
    same stage, same registered number when both have one, received on or after it was
    sent. Its ``date`` is the notice's received date (what starts a consumer's legal
    interest and the mise en demeure's deadline), its first file the AR."""
    for e in entries:
        if e.status != "received" or e.stage != sent.stage or e.date < sent.date:
            continue
        if sent.lrar_number and e.lrar_number and sent.lrar_number.replace(" ", "") != e.lrar_number.replace(" ", ""):
            continue
        return e
    return None
