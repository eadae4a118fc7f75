"""The print job of a batch's paper letters: one folder, ready for the printer and the post.

``build_print_job(letters, out_dir, profile, batch_id=…, at=…)`` writes, atomically (the
folder is built under a temporary name next to ``out_dir`` and renamed when complete)::

    courrier.pdf               every letter for a DL envelope (1 to 5 sheets), sorted by
                               destination: country (France first), postcode, name; each
                               letter starts on a recto (a blank verso closes an odd page
                               count when printing duplex)
    courrier-c4.pdf            the thicker letters, for C4 envelopes (only when there are)
    manifest.csv               one row per letter: sequence, case, debtor, stage, pages,
                               sheets, envelope, country, postcode, registered, number, sha256
    manifest-departements.csv  letters per département (bulk tariffs start at 1,000 items
                               a deposit, 400 within one département for "en nombre")
    depot-recommandes.pdf      the list handed over with the registered letters
    batch.json                 the batch: id, date, letters, state "printed"

Each letter's first page is read back before anything is written: the address must lie
inside the envelope window of the print profile and no text may come closer than the
clear margin to an edge; a job with a letter that fails is refused as a whole.

Then every letter is recorded "printed" in its case's ``journal.jsonl``. Printed is not
posted: only :func:`dossier.postal.batch.confirm` records the notices as sent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from dossier.errors import DossierError
from dossier.journal import JournalEntry, JournalFile, read_journal, record, sha256_file
from dossier.outputs import fsync_dir
from dossier.postal.address import country_line, format_address, is_abroad
from dossier.postal.depot_list import deposit_list
from dossier.postal.glyphs import MM, check_letter
from dossier.postal.marks import InserterMarks, sheet_marks

BATCH_FILE = "batch.json"
COURRIER = "courrier.pdf"
COURRIER_C4 = "courrier-c4.pdf"
MANIFEST = "manifest.csv"
DEPARTEMENTS = "manifest-departements.csv"
DEPOT = "depot-recommandes.pdf"

#: DL window of today's letters: (top, left, width, height) mm from the page's top-left corner
DL_WINDOW = (55.0, 110.0, 85.0, 33.0)
LEVELS = ("R1", "R2", "R3")
#: a letter this size or more is refused (a letter is a few pages; this is a runaway)
MAX_LETTER_BYTES = 20 * 1024 * 1024
MAX_LETTER_PAGES = 200
MAX_LETTERS = 100_000

_LRAR = re.compile(r"\d[A-Z]\d{11}")


class PrintJobError(DossierError):
    """A print job that cannot be built or changed (bad letter, existing batch…)."""


def compact_number(text: str) -> str:
    """A La Poste registered-letter number without spaces, validated: a digit, a capital
    letter, 11 digits (shown "1A 123 456 7890 1"). No check-key rule is published for
    domestic numbers, so none is verified: the number is taken as printed on the label."""
    s = re.sub(r"\s+", "", str(text)).upper()
    if not _LRAR.fullmatch(s):
        raise PrintJobError(f"'{text}' is not a registered-letter number (13 characters, like 1A 123 456 7890 1)")
    return s


def format_number(text: str) -> str:
    """``"1A12345678901"`` → ``"1A 123 456 7890 1"``.

    >>> format_number("1a1234567890 1")
    '1A 123 456 7890 1'
    """
    s = compact_number(text)
    return f"{s[:2]} {s[2:5]} {s[5:8]} {s[8:12]} {s[12]}"


@dataclass(frozen=True)
class NumberRange:
    """Registered-letter numbers handed out by La Poste to a sender (labels printed by
    licensed software): ``first`` to ``last`` inclusive, counting on their 11 digits."""

    first: str
    last: str

    def numbers(self, count: int) -> list[str]:
        a, b = compact_number(self.first), compact_number(self.last)
        if a[:2] != b[:2] or int(b[2:]) < int(a[2:]):
            raise PrintJobError(f"registered numbers: {self.first} … {self.last} is not a range")
        available = int(b[2:]) - int(a[2:]) + 1
        if count > available:
            raise PrintJobError(f"registered numbers: {count} registered letters but only {available} numbers "
                                f"left in {format_number(a)} … {format_number(b)}: give the print profile a new range")
        start = int(a[2:])
        return [format_number(f"{a[:2]}{start + i:011d}") for i in range(count)]


@dataclass(frozen=True)
class Sender:
    """Who deposits the registered letters (the deposit list's header)."""

    name: str
    address: tuple[str, ...] = ()
    #: La Poste customer number (contract), if any
    customer_number: str | None = None


@dataclass(frozen=True)
class PrintProfile:
    """The printer, the envelopes and the post office of a batch."""

    #: envelope window, (top, left, width, height) mm from the page's top-left corner
    window: tuple[float, float, float, float] = DL_WINDOW
    duplex: bool = True
    #: sheets a DL envelope holds; thicker letters go to C4 envelopes
    dl_sheets: int = 5
    #: clear margin on every edge, mm (hybrid-mail printers ask about 5)
    margin_mm: float = 5.0
    marks: InserterMarks = field(default_factory=InserterMarks)
    numbers: NumberRange | None = None
    sender: Sender | None = None


@dataclass(frozen=True)
class PaperLetter:
    """One letter to print: where it goes, what it is, and its PDF."""

    case_reference: str
    case_root: Path
    debtor_name: str
    stage: str
    country: str
    postcode: str
    pdf: bytes = field(repr=False)
    registered: bool = False
    #: avis de réception asked for
    receipt: bool = False
    #: registered level: R1, R2 or R3 (the compensation La Poste pays)
    level: str = "R1"
    #: the address block printed in the window (checked on the first page)
    address: tuple[str, ...] = ()
    #: the letter's date (the ``--at`` date it was written for)
    letter_date: date | None = None
    #: where the letter's PDF is kept in the case folder (recorded in the journal)
    file: Path | None = None
    #: invoices claimed and the amount, as the letter's "generated" journal entry has them
    invoices: tuple[str, ...] = ()
    amount: str | None = None
    #: the registered number when already known (label pre-printed)
    number: str | None = None
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.pdf).hexdigest())

    @property
    def channel(self) -> str:
        return "lrar" if self.registered else "letter"


@dataclass(frozen=True)
class JobLetter:
    """A letter placed in the job."""

    sequence: int
    letter: PaperLetter
    pages: int
    sheets: int
    envelope: str  # "DL" | "C4"
    #: first page of the letter in its PDF (1-based)
    first_page: int
    number: str | None


@dataclass(frozen=True)
class PrintJob:
    batch_id: str
    folder: Path
    at: datetime
    letters: tuple[JobLetter, ...]
    files: tuple[str, ...]


def departement(country: str, postcode: str) -> str:
    """The département of a French postcode ("2A"/"2B" for Corsica, 3 digits overseas);
    the country code abroad.

    >>> departement("FR", "20090"), departement("FR", "20200"), departement("FR", "97411"), departement("BE", "1000")
    ('2A', '2B', '974', 'BE')
    """
    if is_abroad(country):
        return country.strip().upper()
    pc = postcode.strip()
    if pc.startswith("20") and len(pc) == 5 and pc.isdigit():
        return "2A" if int(pc) < 20200 else "2B"
    if pc[:2] in ("97", "98"):
        return pc[:3]
    return pc[:2]


def sort_key(letter: PaperLetter) -> tuple:
    """Destination order: France first, then other countries by name; postcode; name."""
    abroad = is_abroad(letter.country)
    return (abroad, country_line(letter.country) if abroad else "", letter.postcode.strip(),
            letter.debtor_name.casefold(), letter.case_reference, letter.stage, letter.sha256)


def _check_letters(letters: list[PaperLetter]) -> None:
    if not letters:
        raise PrintJobError("no letter to print")
    if len(letters) > MAX_LETTERS:
        raise PrintJobError(f"{len(letters)} letters: more than {MAX_LETTERS} in one job; split the batch")
    seen: dict[tuple[str, str, str], int] = {}
    for n, lt in enumerate(letters, start=1):
        if lt.level not in LEVELS:
            raise PrintJobError(f"{lt.case_reference}: {lt.stage}: level {lt.level!r} is not one of {', '.join(LEVELS)}")
        if len(lt.pdf) > MAX_LETTER_BYTES:
            raise PrintJobError(f"{lt.case_reference}: {lt.stage}: the letter's PDF is over {MAX_LETTER_BYTES >> 20} MB")
        key = (str(Path(lt.case_root)), lt.stage, lt.sha256)
        if key in seen:
            raise PrintJobError(f"{lt.case_reference}: {lt.stage}: the same letter is twice in the job "
                                f"(letters {seen[key]} and {n})")
        seen[key] = n


def _read(letter: PaperLetter, profile: PrintProfile) -> tuple[Any, list[str]]:
    import pikepdf

    who = f"{letter.case_reference}: {letter.stage}"
    try:
        pdf = pikepdf.Pdf.open(io.BytesIO(letter.pdf))
        pages = len(pdf.pages)
    except pikepdf.PasswordError:
        return None, [f"{who}: the PDF is encrypted: a letter to print must be readable as is"]
    except (pikepdf.PdfError, ValueError, OSError) as e:
        return None, [f"{who}: not a readable PDF ({e})"]
    if not 1 <= pages <= MAX_LETTER_PAGES:
        return None, [f"{who}: {pages} pages (a letter has 1 to {MAX_LETTER_PAGES})"]
    address = letter.address or ()
    problems = check_letter(letter.pdf, pdf, profile.window, address, profile.margin_mm * MM)
    if not address:
        problems.append("no address given to check in the window")
    return pdf, [f"{who}: {p}" for p in problems]


def _sheets(pages: int, duplex: bool) -> int:
    return (pages + 1) // 2 if duplex else pages


def plan_job(letters: Iterable[PaperLetter], profile: PrintProfile) -> tuple[list[JobLetter], dict[int, Any]]:
    """Read and check every letter, sort them, number them, choose their envelope.
    Returns the placed letters and each one's open PDF reader (by sequence)."""
    items = list(letters)
    _check_letters(items)
    readers: dict[int, Any] = {}
    problems: list[str] = []
    ordered = sorted(items, key=sort_key)
    placed: list[JobLetter] = []
    for seq, lt in enumerate(ordered, start=1):
        reader, found = _read(lt, profile)
        problems.extend(found)
        if reader is None:
            continue
        pages = len(reader.pages)
        sheets = _sheets(pages, profile.duplex)
        envelope = "DL" if sheets <= profile.dl_sheets else "C4"
        readers[seq] = reader
        placed.append(JobLetter(seq, lt, pages, sheets, envelope, 0,
                                format_number(lt.number) if lt.number else None))
    if problems:
        raise PrintJobError("the print job is refused, nothing was written:\n" + "\n".join(problems))
    registered = [p for p in placed if p.letter.registered and p.number is None]
    if profile.numbers and registered:
        numbers = iter(profile.numbers.numbers(len(registered)))
        by_seq = {p.sequence: next(numbers) for p in registered}
        placed = [replace(p, number=by_seq.get(p.sequence, p.number)) for p in placed]
    return placed, readers


def _assemble(placed: list[JobLetter], readers: dict[int, Any], envelope: str, profile: PrintProfile,
              batch_id: str) -> tuple[bytes | None, list[JobLetter]]:
    import pikepdf

    chosen = [p for p in placed if p.envelope == envelope]
    if not chosen:
        return None, []
    out = pikepdf.Pdf.new()
    placed_out = []
    for p in chosen:
        first = len(out.pages) + 1
        out.pages.extend(readers[p.sequence].pages)
        box = [float(v) for v in out.pages[first - 1].mediabox]
        if profile.duplex and p.pages % 2:
            out.add_blank_page(page_size=(box[2] - box[0], box[3] - box[1]))
        if profile.marks.kind != "none":
            step = 2 if profile.duplex else 1
            for sheet in range(p.sheets):
                page = out.pages[first - 1 + sheet * step]
                height = float(page.mediabox[3]) - float(page.mediabox[1])
                ops = sheet_marks(profile.marks, p.sequence, sheet + 1, p.sheets, height)
                # the letter's own drawing in q … Q, so its graphics state cannot move the marks
                page.contents_add(pikepdf.Stream(out, b"q\n"), prepend=True)
                page.contents_add(pikepdf.Stream(out, b"\nQ\n" + ops))
        placed_out.append(replace(p, first_page=first))
    out.docinfo["/Title"] = f"Courrier {batch_id} ({envelope})"
    out.docinfo["/Producer"] = "dossier"
    buf = io.BytesIO()
    out.save(buf, deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buf.getvalue(), placed_out


def _manifest(placed: list[JobLetter]) -> tuple[bytes, bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["sequence", "case", "debtor", "stage", "pages", "sheets", "envelope", "file", "first_page",
                "country", "postcode", "departement", "registered", "receipt", "level", "number", "sha256"])
    counts: dict[str, int] = {}
    for p in placed:
        lt = p.letter
        dep = departement(lt.country, lt.postcode)
        counts[dep] = counts.get(dep, 0) + 1
        w.writerow([p.sequence, lt.case_reference, lt.debtor_name, lt.stage, p.pages, p.sheets, p.envelope,
                    COURRIER if p.envelope == "DL" else COURRIER_C4, p.first_page,
                    (lt.country or "FR").upper(), lt.postcode, dep,
                    "yes" if lt.registered else "no", "yes" if lt.receipt else "no",
                    lt.level if lt.registered else "", p.number or "", lt.sha256])
    deps = io.StringIO()
    d = csv.writer(deps, lineterminator="\n")
    d.writerow(["departement", "letters"])
    for dep in sorted(counts):
        d.writerow([dep, counts[dep]])
    d.writerow(["total", len(placed)])
    return buf.getvalue().encode("utf-8"), deps.getvalue().encode("utf-8")


def _batch_json(batch_id: str, at: datetime, profile: PrintProfile, placed: list[JobLetter], files: list[str]) -> bytes:
    doc = {
        "batch": batch_id,
        "created": at.isoformat(),
        "state": "printed",
        "duplex": profile.duplex,
        "window_mm": list(profile.window),
        "files": files,
        "letters": [{
            "sequence": p.sequence, "case": p.letter.case_reference, "case_root": str(Path(p.letter.case_root).resolve()),
            "debtor": p.letter.debtor_name, "stage": p.letter.stage, "channel": p.letter.channel,
            "date": (p.letter.letter_date or at.date()).isoformat(),
            "file": str(Path(p.letter.file).resolve()) if p.letter.file else None,
            "pages": p.pages, "sheets": p.sheets, "envelope": p.envelope, "first_page": p.first_page,
            "country": (p.letter.country or "FR").upper(), "postcode": p.letter.postcode,
            "registered": p.letter.registered, "receipt": p.letter.receipt, "level": p.letter.level,
            "number": p.number, "invoices": list(p.letter.invoices), "amount": p.letter.amount,
            "sha256": p.letter.sha256,
        } for p in placed],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def build_print_job(letters: Iterable[PaperLetter], out_dir: str | Path, profile: PrintProfile = PrintProfile(), *,
                    simplex: bool = False, batch_id: str, at: datetime, journal: bool = True) -> PrintJob:
    """Check, sort and assemble ``letters`` into the batch folder ``out_dir`` (see the
    module docstring), then record each letter "printed" in its case's journal (unless
    ``journal`` is False). ``out_dir`` must not exist: a batch is never overwritten."""

    if simplex:
        profile = replace(profile, duplex=False)
    out = Path(out_dir)
    if out.exists():
        what = "a print job" if (out / BATCH_FILE).exists() else "a file or folder"
        raise PrintJobError(f"{out}: {what} already exists there; a batch is never overwritten "
                            "(discard it with `dossier post discard`, or choose another folder)")
    letters = list(letters)
    if journal:
        _check_journals(letters)
    placed, readers = plan_job(letters, profile)
    dl_pdf, dl = _assemble(placed, readers, "DL", profile, batch_id)
    c4_pdf, c4 = _assemble(placed, readers, "C4", profile, batch_id)
    placed = sorted(dl + c4, key=lambda p: p.sequence)
    manifest, deps = _manifest(placed)
    files: dict[str, bytes] = {}
    if dl_pdf:
        files[COURRIER] = dl_pdf
    if c4_pdf:
        files[COURRIER_C4] = c4_pdf
    files[MANIFEST] = manifest
    files[DEPARTEMENTS] = deps
    registered = [p for p in placed if p.letter.registered]
    if registered:
        files[DEPOT] = deposit_list(registered, profile.sender, at.date(), batch_id)
    files[BATCH_FILE] = _batch_json(batch_id, at, profile, placed, sorted(files) + [BATCH_FILE])

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
        # batch.json, what identifies a print job folder, is written last
        for name in sorted(files, key=lambda n: (n == BATCH_FILE, n)):
            _write(tmp / name, files[name])
        fsync_dir(tmp)
        os.rename(tmp, out)  # atomic: the folder appears complete or not at all
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    fsync_dir(out.parent)
    job = PrintJob(batch_id, out, at, tuple(placed), tuple(sorted(files)))
    if journal:
        record_printed(job)
    return job


def _check_journals(letters: list[PaperLetter]) -> None:
    """Every case folder exists and its journal reads: the "printed" lines written after
    the job cannot then fail half-way."""

    problems = []
    for root in dict.fromkeys(Path(lt.case_root) for lt in letters):
        if not root.is_dir():
            problems.append(f"{root}: case folder not found")
            continue
        try:
            read_journal(root)
        except DossierError as e:
            problems.append(str(e))
    if problems:
        raise PrintJobError("the print job is refused, nothing was written:\n" + "\n".join(problems))


def batch_note(batch_id: str, sequence: int) -> str:
    """The journal's note tying an entry to its letter in a print job."""
    return f"print job {batch_id}, letter {sequence}"


def record_printed(job: PrintJob) -> None:
    """One "printed" line per letter in its case's journal."""
    for p in job.letters:
        lt = p.letter
        files: tuple[JournalFile, ...] = ()
        if lt.file is not None and Path(lt.file).is_file():
            root = Path(lt.case_root).resolve()
            f = Path(lt.file).resolve()
            rel = f.relative_to(root).as_posix() if f.is_relative_to(root) else f.as_posix()
            files = (JournalFile(rel, sha256_file(f)),)
        record(lt.case_root, JournalEntry(
            stage=lt.stage, date=lt.letter_date or job.at.date(), channel=lt.channel, status="printed",
            recipient=lt.debtor_name, files=files, invoices=lt.invoices, amount=lt.amount,
            lrar_number=p.number, note=batch_note(job.batch_id, p.sequence)))


def letter_for(case: Any, stage: str, pdf: bytes, at: date, *, file: Path | None = None,
               registered: bool | None = None, receipt: bool = True, level: str = "R1",
               invoices: tuple[str, ...] = (), amount: str | None = None) -> PaperLetter:
    """The :class:`PaperLetter` of a rendered letter of ``case`` (a :class:`dossier.model.Case`):
    destination and window block from the debtor (NF Z10-011), registered when the stage
    is the mise en demeure unless told otherwise."""

    debtor = case.debtor
    registered = stage == "mise-en-demeure" if registered is None else registered
    return PaperLetter(
        case_reference=case.reference, case_root=Path(case.root), debtor_name=debtor.name, stage=stage,
        country=(debtor.address.country or "FR").upper(), postcode=debtor.address.postal_code, pdf=pdf,
        registered=registered, receipt=registered and receipt, level=level, address=format_address(debtor),
        letter_date=at, file=file, invoices=invoices, amount=amount)
