"""Evidence files -> pages ready to be placed in the dossier.

Every exhibit a case cites (quote, purchase order, contract, terms of sale, delivery
notes, invoices, correspondence, the notices already sent) becomes a list of
:class:`SourcePage` objects: either a page of a PDF (with its ``/Rotate`` and crop box
taken into account) or a raster image (a scan). Nothing is drawn here; placement,
stamping and page numbering happen in :mod:`dossier.bundle.assemble`.

Accepted formats (detected from the file's bytes, not its name):

- **PDF**, any page size or orientation; encrypted files open with the exhibit's
  ``password:`` (or with an empty user password, as most "protected" PDFs have);
  truncated or corrupt files are refused.
- **JPEG, PNG, TIFF** (multi-page TIFF = several pages), and other raster formats
  Pillow reads: the EXIF orientation is applied, and the image is fitted to A4 at no more
  than 300 dpi.
- **.eml** emails: rendered as a page with the headers and the text body; attached PDFs
  and images are appended to the same exhibit, other attachments are listed by name.
- **DOCX/ODT/DOC/RTF**: converted with LibreOffice (``soffice``) when it is on the PATH.

Any other case raises :class:`~dossier.errors.EvidenceError` naming the case-file field
(e.g. ``exhibits[2].file``) and the file.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from dossier.errors import EvidenceError
from dossier.fmt import date_long
from dossier.limits import read_evidence
from dossier.render import pdfapi

#: Largest resolution kept for scans, in dots per inch (enough for any court printer, small files).
MAX_DPI = 300

#: Formats LibreOffice converts for us.
OFFICE_SUFFIXES = (".docx", ".doc", ".odt", ".rtf")

ACCEPTED = "PDF, JPEG, PNG, TIFF, .eml email, or DOCX/ODT (with LibreOffice installed)"


@dataclass(frozen=True)
class ExhibitSpec:
    """One exhibit to produce, as cited by the case: where it comes from in the case file
    (``field`` is the field path, e.g. ``exhibits[2].file``) and what it is."""

    kind: str
    title: str
    file: Path
    field: str
    date: date | None = None
    password: str | None = None
    #: "exhibit" | "invoice" | "credit_note" | "notice" | "journal"
    origin: str = "exhibit"
    #: sha256 recorded in the journal for a sent notice (checked when present)
    sha256: str | None = None
    #: "case.yaml:41" — where the user fixes it (empty when unknown)
    location: str = ""
    #: legal-order group (see dossier.bundle.collect.GROUP_TITLES)
    group: int = 4

    def where(self) -> str:
        """``case.yaml:41: exhibits[2].file (pieces/devis.pdf)`` for messages."""
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.field} ({_display(self.file)})"


def _display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


@dataclass
class ImageData:
    """A raster image ready to be embedded: pixel size, PDF colour space, filter and the
    encoded bytes (JPEG for DCTDecode, zlib for FlateDecode)."""

    width: int
    height: int
    colorspace: str  # "/DeviceRGB" | "/DeviceGray"
    bits: int
    filter: str  # "/DCTDecode" | "/FlateDecode"
    data: bytes
    #: size on the page in points, before fitting (from the image's dpi)
    natural_size: tuple[float, float]


@dataclass
class SourcePage:
    """One page of an exhibit. ``reader``/``index`` for a PDF page, ``image`` for a scan."""

    reader: Any = None
    index: int = 0
    image: ImageData | None = None

    @property
    def page(self):
        return self.reader.pages[self.index]


@dataclass
class OutlineItem:
    """An entry of an exhibit PDF's own outline: ``page`` is the index within the exhibit."""

    title: str
    page: int
    children: list["OutlineItem"] = field(default_factory=list)


@dataclass
class LoadedExhibit:
    spec: ExhibitSpec
    pages: list[SourcePage]
    outline: list[OutlineItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: sha256 of the evidence file(s), for the dossier's file identifier
    digest: str = ""
    #: human description of the format, shown by --verbose and in tests
    fmt: str = ""


@dataclass(frozen=True)
class ImagePolicy:
    """How scans are embedded: ``max_dpi`` caps the resolution; ``jpeg_quality`` None keeps
    a JPEG's own bytes where possible and lossless images lossless; a number re-encodes
    every scan as JPEG at that quality (``--max-size``)."""

    max_dpi: int = MAX_DPI
    jpeg_quality: int | None = None


# --------------------------------------------------------------------------- loading


def load_exhibit(
    spec: ExhibitSpec,
    *,
    policy: ImagePolicy = ImagePolicy(),
    email_renderer=None,
    fit_box: tuple[float, float] = (595.28, 841.89),
    root: Path | None = None,
) -> LoadedExhibit:
    """Read ``spec.file`` into pages. ``email_renderer(message_dict) -> pdf bytes`` renders
    an email's header page (the assembler passes one that uses the dossier templates).
    ``fit_box`` is the area (points) a scan is fitted into, for the dpi cap."""

    path = spec.file

    # inside the case folder (``root``), a regular file (never a FIFO, a device, /proc), its
    # size checked before it is read
    data = read_evidence(Path(path), spec.where(), root=root if root is not None else Path(path).parent)
    if not data.strip():
        raise EvidenceError(f"{spec.where()}: the file is empty")
    digest = hashlib.sha256(data).hexdigest()
    warnings: list[str] = []
    if spec.sha256 and spec.sha256 != digest:
        warnings.append(
            f"{spec.where()}: the file changed since the journal recorded it (sha256 differs); "
            "the dossier must show the notice as it was sent"
        )
    kind = sniff(data, path)
    with quiet_pypdf():
        ex = _load_kind(spec, data, path, kind, policy, email_renderer, fit_box)
    ex.warnings[:0] = warnings
    ex.digest = digest
    if not ex.pages:
        raise EvidenceError(f"{spec.where()}: the document has no pages")
    return ex


def _blank_email_page(message: dict) -> bytes:
    """Stands in for the dossier's email header page when only the evidence is checked."""
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(595.28, 841.89)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def load_each(specs: Iterable[ExhibitSpec], **options: Any) -> tuple[list[LoadedExhibit], list[str]]:
    """Every exhibit loaded (``options`` as for :func:`load_exhibit`), and the message of
    each one that is unusable: evidence problems as values, all of them, not the first."""
    loaded: list[LoadedExhibit] = []
    problems: list[str] = []
    for spec in specs:
        try:
            loaded.append(load_exhibit(spec, **options))
        except EvidenceError as e:
            problems.append(str(e))
    return loaded, problems


def load_all(specs: Iterable[ExhibitSpec], **options: Any) -> list[LoadedExhibit]:
    """Every exhibit loaded; raises one :class:`EvidenceError` listing **every** unusable
    file (one line each, naming the case-file field and the file)."""
    loaded, problems = load_each(specs, **options)
    if problems:
        raise EvidenceError("\n".join(problems))
    return loaded


def evidence_problems(specs: Iterable[ExhibitSpec], root: Path | None = None) -> list[str]:
    """What :func:`load_all` would refuse: every evidence file opened (PDF readable,
    password right, image decodable, email parsed with its attachments), nothing rendered.
    ``dossier check`` reports them before anyone waits for a dossier."""
    return load_each(specs, email_renderer=_blank_email_page, root=root)[1]


class quiet_pypdf:
    """pypdf logs its repairs of damaged files ("rebuild xref"...); the user gets our own
    message instead, so keep them off the terminal while loading evidence."""

    def __enter__(self):
        import logging

        self.logger = logging.getLogger("pypdf")
        self.level = self.logger.level
        self.logger.setLevel(logging.CRITICAL)

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)
        return False


def _load_kind(spec, data, path, kind, policy, email_renderer, fit_box) -> LoadedExhibit:
    if kind == "pdf":
        ex = _load_pdf(spec, data)
        if policy.jpeg_quality is not None:
            shrunk = downsample_pdf_images(ex.pages[0].reader, policy)
            if shrunk:
                ex.warnings.append(f"{spec.where()}: {shrunk} scanned image(s) reduced to {policy.max_dpi} dpi for --max-size")
    elif kind == "image":
        ex = LoadedExhibit(spec, _load_image(spec, data, policy, fit_box), fmt="image")
    elif kind == "eml":
        ex = _load_eml(spec, data, policy, email_renderer, fit_box)
    elif kind == "office":
        ex = _load_pdf(spec, _office_to_pdf(spec))
        ex.fmt = "office"
    else:
        raise EvidenceError(
            f"{spec.where()}: unsupported file type ({_describe(data, path)}); "
            f"accepted: {ACCEPTED}. Print or export the document to PDF and point the case file at it"
        )
    return ex


def sniff(data: bytes, path: Path) -> str:
    """The format of an evidence file from its first bytes (the name only for emails and
    office documents, which have no reliable signature)."""
    head = data[:1024]
    suffix = path.suffix.lower()
    if suffix == ".eml" and _looks_like_email(head):
        return "eml"
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF8", b"BM")):
        return "image"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image"
    if suffix in OFFICE_SUFFIXES:
        return "office"
    if suffix == ".eml" or _looks_like_email(head):
        return "eml"
    return "unknown"


def _looks_like_email(head: bytes) -> bool:
    text = head.decode("latin-1", "replace")
    first = text.lstrip().split("\n", 1)[0].lower()
    return any(first.startswith(h) for h in ("from:", "received:", "return-path:", "date:", "message-id:", "mime-version:", "delivered-to:", "to:", "subject:"))


def _describe(data: bytes, path: Path) -> str:
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return f"a ZIP archive or office document named '{path.name}'"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return f"an old Microsoft Office file (.doc/.xls/.msg) named '{path.name}'"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "a HEIC photo: export it as JPEG"
    return f"'{path.suffix or path.name}' file"


# --------------------------------------------------------------------------- PDF


def _touch_page(spec: ExhibitSpec, page, i: int) -> None:
    """Read what placement needs of page ``i``, so damage shows now and not half-way."""
    _ = page.get("/Resources")
    box = page.cropbox if float(page.cropbox.width) > 1 and float(page.cropbox.height) > 1 else page.mediabox
    if abs(float(box.width)) <= 1 or abs(float(box.height)) <= 1:
        raise EvidenceError(f"{spec.where()}: page {i + 1} has no size (empty MediaBox); "
                            "print the document to a new PDF and use that")
    contents = page.get_contents()
    if contents is not None:
        contents.get_data()


def _load_pdf(spec: ExhibitSpec, data: bytes) -> LoadedExhibit:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    # pypdf rebuilds a broken cross-reference table silently: a truncated download would
    # lose its last pages without a word. A complete PDF ends with %%EOF.
    if b"%%EOF" not in data[-2048:]:
        raise EvidenceError(
            f"{spec.where()}: the PDF is truncated or damaged (no end-of-file marker); "
            "download or export it again"
        )
    warnings: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(spec, reader)
        n = len(reader.pages)
        for i in range(n):
            _touch_page(spec, reader.pages[i], i)
    except EvidenceError:
        raise
    except DependencyError as e:
        raise EvidenceError(
            f"{spec.where()}: this PDF is AES-encrypted and decrypting it needs the 'cryptography' package "
            f"(pip install cryptography), or provide an unprotected copy ({e})"
        ) from None
    except FileNotDecryptedError:
        raise EvidenceError(_encrypted_message(spec)) from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, zlib.error) as e:
        raise EvidenceError(
            f"{spec.where()}: the PDF is damaged and cannot be read ({e}); open it in a PDF viewer and "
            "print it to a new PDF, or ask the sender for a new copy"
        ) from None
    except Exception as e:  # noqa: BLE001 - pypdf raises assorted errors on broken files
        raise EvidenceError(f"{spec.where()}: the PDF cannot be read ({type(e).__name__}: {e})") from None
    if n == 0:
        raise EvidenceError(f"{spec.where()}: the PDF has no pages")
    try:
        outline = _outline(reader)
    except Exception:  # noqa: BLE001 - a broken outline is not worth refusing the evidence
        outline = []
        warnings.append(f"{spec.where()}: its own bookmarks are damaged and were left out")
    try:
        if "/AcroForm" in reader.trailer["/Root"]:
            warnings.extend(_form_warnings(spec, reader))
    except Exception:  # noqa: BLE001 - a damaged catalog: the pages were readable, go on
        pass
    if _has_attachments(reader):
        warnings.append(
            f"{spec.where()}: the PDF carries embedded file attachments; they are not part of "
            "the dossier — add them as exhibits of their own if they are evidence"
        )
    pages = [SourcePage(reader=reader, index=i) for i in range(n)]
    return LoadedExhibit(spec, pages, outline, warnings, fmt="pdf")


def _decrypt(spec: ExhibitSpec, reader) -> None:
    from pypdf import PasswordType

    # Most "protected" PDFs only restrict printing/editing: the user password is empty.
    if reader.decrypt("") != PasswordType.NOT_DECRYPTED:
        return
    if spec.password is None:
        raise EvidenceError(_encrypted_message(spec))
    if reader.decrypt(spec.password) == PasswordType.NOT_DECRYPTED:
        raise EvidenceError(
            f"{spec.where()}: the password given in {spec.field.rsplit('.', 1)[0]}.password "
            "does not open this PDF"
        )


def _encrypted_message(spec: ExhibitSpec) -> str:
    entry = spec.field.rsplit(".", 1)[0]
    if spec.origin == "exhibit":
        how = f"add `password: ...` to {entry} in case.yaml, or provide an unprotected copy"
    else:
        how = "provide an unprotected copy (or list it under `exhibits:` with `password: ...`)"
    return f"{spec.where()}: the PDF is password-protected; {how}"


def _outline(reader) -> list[OutlineItem]:
    from pypdf.generic import Destination

    def walk(items) -> list[OutlineItem]:
        out: list[OutlineItem] = []
        last: OutlineItem | None = None
        for it in items:
            if isinstance(it, list):
                if last is not None:
                    last.children.extend(walk(it))
                continue
            if not isinstance(it, Destination):
                continue
            try:
                page = reader.get_destination_page_number(it)
            except Exception:  # noqa: BLE001
                page = -1
            title = str(it.title or "").strip() or "(sans titre)"
            last = OutlineItem(title, page if page is not None else -1)
            out.append(last)
        return out

    return walk(reader.outline)


def _form_warnings(spec: ExhibitSpec, reader) -> list[str]:
    missing = []
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/Subtype") == "/Widget" and "/AP" not in annot and annot.get("/V") not in (None, ""):
                missing.append(str(annot.get("/T", "?")))
    if missing:
        return [
            f"{spec.where()}: form fields without a printed appearance ({', '.join(missing[:5])}); "
            "their values may not show — print the filled form to PDF to be sure"
        ]
    return []


def _has_attachments(reader) -> bool:
    try:
        names = reader.trailer["/Root"].get("/Names")
        return bool(names and "/EmbeddedFiles" in names.get_object())
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- images


def _load_image(spec: ExhibitSpec, data: bytes, policy: ImagePolicy, fit_box) -> list[SourcePage]:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = 200_000_000  # a 600 dpi A3 scan is 35 Mpx; refuse bombs only
    try:
        im = Image.open(io.BytesIO(data))
        pages = []
        if im.format == "TIFF":  # multi-page scans (fax, document feeders): one page per frame
            frames = list(ImageSequence.Iterator(im))
        else:  # animated GIF/PNG/WebP, phone MPO (photo + preview): the picture itself only
            frames = [im]
        for frame in frames:
            if im.format == "MPO":  # a JPEG followed by other images: never passed through as is
                page = image_data(frame, None, ImagePolicy(policy.max_dpi, policy.jpeg_quality or 90), fit_box)
            else:
                page = image_data(frame, data if im.format == "JPEG" else None, policy, fit_box)
            pages.append(SourcePage(image=page))
    except EvidenceError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise EvidenceError(f"{spec.where()}: the image is damaged or unreadable ({e})") from None
    return pages


def image_data(frame, jpeg_bytes: bytes | None, policy: ImagePolicy, fit_box) -> ImageData:
    """Encode one image (a PIL frame) for embedding: EXIF orientation applied, flattened on
    white, downsampled so that it is at most ``policy.max_dpi`` once fitted into
    ``fit_box`` (points). A JPEG that needs none of this keeps its own bytes."""
    from PIL import Image, ImageOps

    frame.load()
    orientation = frame.getexif().get(0x0112, 1) if hasattr(frame, "getexif") else 1
    im = ImageOps.exif_transpose(frame) if orientation not in (None, 1) else frame
    w, h = im.size
    nat = _natural_size(frame, orientation, (w, h), fit_box)
    max_w, max_h = _pixel_cap(nat, fit_box, policy.max_dpi)
    resize = w > max_w * 1.02 or h > max_h * 1.02
    ratio = min(max_w / w, max_h / h, 1.0)  # one factor: the proportions are kept

    mode = im.mode
    if jpeg_bytes is not None and im is frame and not resize and policy.jpeg_quality is None and mode in ("L", "RGB"):
        cs = "/DeviceRGB" if mode == "RGB" else "/DeviceGray"
        return ImageData(w, h, cs, 8, "/DCTDecode", jpeg_bytes, nat)
    im = _plain_mode(im)
    if resize:
        if im.mode == "1":
            im = im.convert("L")
        im = im.resize((max(1, round(w * ratio)), max(1, round(h * ratio))), Image.Resampling.LANCZOS,
                       reducing_gap=3.0)
    return _encode(im, nat, lossy=policy.jpeg_quality is not None or jpeg_bytes is not None,
                   quality=policy.jpeg_quality or 90)


def _natural_size(frame, orientation, size: tuple[int, int], fit_box) -> tuple[float, float]:
    """The image's size in points at the scan's own dpi; unknown or absurd dpi: as large
    as the page allows, same proportions."""
    dpi = frame.info.get("dpi") or (0, 0)
    try:
        dx, dy = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        dx = dy = 0.0
    if orientation in (5, 6, 7, 8):
        dx, dy = dy, dx
    w, h = size
    if 30 <= dx <= 2400 and 30 <= dy <= 2400:
        return (w * 72.0 / dx, h * 72.0 / dy)
    k = 10.0 * max(fit_box) / max(w, h)
    return (w * k, h * k)


def _pixel_cap(nat: tuple[float, float], fit_box, max_dpi: int) -> tuple[int, int]:
    """The largest pixel size worth keeping: the size the image takes once fitted on the
    page (turned with it), at ``max_dpi``."""
    box_w, box_h = (fit_box if (nat[0] <= nat[1]) == (fit_box[0] <= fit_box[1]) else (fit_box[1], fit_box[0]))
    scale = min(box_w / nat[0], box_h / nat[1], 1.0)
    shown = (nat[0] * scale, nat[1] * scale)
    return max(1, round(shown[0] / 72.0 * max_dpi)), max(1, round(shown[1] / 72.0 * max_dpi))


def _plain_mode(im):
    """Transparency flattened on white; CMYK, palette and 16-bit made RGB or L."""
    from PIL import Image

    mode = im.mode
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    if mode in ("1", "L", "RGB"):
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return im.convert("I").point(lambda v: v / 256).convert("L") if mode != "F" else im.convert("L")
    return im.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV...


def _encode(im, nat: tuple[float, float], *, lossy: bool, quality: int) -> ImageData:
    w, h = im.size
    if im.mode == "1" and not lossy:
        raw = im.tobytes()  # 1 bit per pixel, rows padded to a byte, 0 = black
        return ImageData(w, h, "/DeviceGray", 1, "/FlateDecode", zlib.compress(raw, 6), nat)
    if im.mode == "1":
        im = im.convert("L")
    cs = "/DeviceRGB" if im.mode == "RGB" else "/DeviceGray"
    if lossy:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality, optimize=False, subsampling=0 if quality >= 90 else 2)
        return ImageData(w, h, cs, 8, "/DCTDecode", buf.getvalue(), nat)
    return ImageData(w, h, cs, 8, "/FlateDecode", zlib.compress(im.tobytes(), 6), nat)


def downsample_pdf_images(reader, policy: ImagePolicy) -> int:
    """Re-encode the large raster images of a PDF (scanned pages) as JPEG at
    ``policy.jpeg_quality``, no larger than the page at ``policy.max_dpi``. Only plain RGB
    or grey images without masks are touched; everything else is kept as is. Changes the
    reader's objects in memory (never the file). Returns how many images were changed."""
    from PIL import Image

    seen: set[int] = set()
    changed = 0
    for page in reader.pages:
        try:
            box = page.mediabox
            limit = max(float(box.width), float(box.height)) / 72.0 * policy.max_dpi
            xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        except Exception:  # noqa: BLE001
            continue
        for name in list(xobjects):
            ref = xobjects.raw_get(name)
            obj = ref.get_object()
            if id(obj) in seen or obj.get("/Subtype") != "/Image":
                continue
            seen.add(id(obj))
            try:
                if any(k in obj for k in ("/SMask", "/Mask", "/ImageMask", "/Decode")):
                    continue
                if obj.get("/ColorSpace") not in ("/DeviceRGB", "/DeviceGray") or obj.get("/BitsPerComponent") != 8:
                    continue
                raw_len = len(pdfapi.raw_data(obj))
                w, h = int(obj["/Width"]), int(obj["/Height"])
                scale = min(1.0, limit / max(w, h))
                if raw_len < 100_000 and scale > 0.9:
                    continue
                im = obj.decode_as_image()
                if im.mode not in ("RGB", "L"):
                    im = im.convert("RGB")
                if scale < 0.98:
                    im = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS,
                                   reducing_gap=3.0)
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=policy.jpeg_quality or 80)
                if len(buf.getvalue()) >= raw_len:
                    continue
            except Exception:  # noqa: BLE001 - an image we cannot re-encode is kept
                continue
            from pypdf.generic import NameObject, NumberObject

            pdfapi.set_raw_data(obj, buf.getvalue())
            obj[NameObject("/Filter")] = NameObject("/DCTDecode")
            obj.pop("/DecodeParms", None)
            obj[NameObject("/Width")] = NumberObject(im.size[0])
            obj[NameObject("/Height")] = NumberObject(im.size[1])
            obj[NameObject("/ColorSpace")] = NameObject("/DeviceRGB" if im.mode == "RGB" else "/DeviceGray")
            changed += 1
    return changed


# --------------------------------------------------------------------------- emails


def _load_eml(spec: ExhibitSpec, data: bytes, policy: ImagePolicy, renderer, fit_box) -> LoadedExhibit:
    from email import policy as email_policy
    from email.parser import BytesParser

    from pypdf import PdfReader

    try:
        msg = BytesParser(policy=email_policy.default).parsebytes(data)
    except Exception as e:  # noqa: BLE001
        raise EvidenceError(f"{spec.where()}: the email cannot be read ({e})") from None
    headers = {}
    for name in ("From", "To", "Cc", "Date", "Subject"):
        try:
            v = msg.get(name)
        except Exception:  # noqa: BLE001 - a malformed header is shown raw
            v = msg.get_all(name, failobj=[None])[0]
        headers[name] = str(v) if v is not None else ""
    headers["Date"] = _french_date(headers["Date"])
    if not any(headers[k] for k in ("From", "To", "Subject", "Date")):
        raise EvidenceError(
            f"{spec.where()}: this does not look like an email (no From, To, Date or Subject header); "
            "save the message as .eml from your mail program, or print it to PDF"
        )
    body, from_html = _email_body(msg)
    attachments: list[tuple[str, str, bytes]] = []  # (name, kind, bytes)
    listed: list[dict] = []
    for part in msg.iter_attachments() if msg.is_multipart() else ():
        name = part.get_filename() or "(sans nom)"
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:  # noqa: BLE001
            payload = b""
        k = sniff(payload, Path(name)) if payload else "unknown"
        if k in ("pdf", "image"):
            attachments.append((name, k, payload))
            listed.append({"name": name, "size": len(payload), "included": True})
        else:
            listed.append({"name": name, "size": len(payload), "included": False})
    if renderer is None:
        raise EvidenceError(f"{spec.where()}: emails need the dossier templates to be rendered")
    pdf = renderer({"headers": headers, "body": body, "attachments": listed, "file": spec.file.name,
                    "from_html": from_html})
    reader = PdfReader(io.BytesIO(pdf))
    pages = [SourcePage(reader=reader, index=i) for i in range(len(reader.pages))]
    outline: list[OutlineItem] = []
    warnings: list[str] = []
    for name, k, payload in attachments:
        sub = ExhibitSpec(
            kind=spec.kind, title=name, file=spec.file, field=f"{spec.field} (attachment '{name}')",
            password=spec.password, origin=spec.origin,
        )
        if k == "pdf":
            att = _load_pdf(sub, payload)
            start = len(pages)
            outline.append(OutlineItem(f"Pièce jointe : {name}", start, _shift(att.outline, start)))
            pages.extend(att.pages)
            warnings.extend(att.warnings)
        else:
            start = len(pages)
            outline.append(OutlineItem(f"Pièce jointe : {name}", start))
            pages.extend(_load_image(sub, payload, policy, fit_box))
    skipped = [a["name"] for a in listed if not a["included"]]
    if skipped:
        warnings.append(
            f"{spec.where()}: attachments not reproduced (not PDF or image): {', '.join(skipped)}"
        )
    return LoadedExhibit(spec, pages, outline, warnings, fmt="eml")


def _french_date(raw: str) -> str:
    """``Tue, 06 Jan 2026 09:12:00 +0100`` -> ``6 janvier 2026 à 09:12 (UTC+01:00)``; the
    raw header when it cannot be read."""
    from email.utils import parsedate_to_datetime

    if not raw:
        return raw
    try:
        d = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return raw

    off = d.utcoffset()
    zone = ""
    if off is not None:
        minutes = int(off.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        zone = f" (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"
    return f"{date_long(d.date())} à {d.strftime('%H:%M')}{zone}"


def _shift(items: list[OutlineItem], by: int) -> list[OutlineItem]:
    return [OutlineItem(i.title, i.page + by if i.page >= 0 else -1, _shift(i.children, by)) for i in items]


def _email_body(msg) -> tuple[str, bool]:
    """The text of an email: its text/plain part, else its HTML reduced to text; and
    whether it came from HTML."""
    part = None
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001
        part = None
    if part is None:
        return "", False
    try:
        text = part.get_content()
    except Exception:  # noqa: BLE001
        raw = part.get_payload(decode=True) or b""
        text = _decode_text(raw, part.get_content_charset())
    from_html = part.get_content_subtype() == "html"
    if from_html:
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip(), from_html


def _decode_text(raw: bytes, charset: str | None) -> str:
    """Bytes of an email part in its declared charset; an unknown or bogus one
    (``unknown-8bit``, ``x-unknown``) is read as UTF-8, else Windows-1252, never refused."""
    import codecs

    try:
        codecs.lookup(charset or "utf-8")
        return raw.decode(charset or "utf-8", "replace")
    except LookupError:
        pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def html_to_text(html: str) -> str:
    """A readable plain-text version of an HTML email (no remote content is fetched)."""
    import re
    from html import unescape

    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", html)
    html = re.sub(r"(?i)<br\s*/?>", "\n", html)
    html = re.sub(r"(?i)</(p|div|tr|li|h[1-6]|table|blockquote)>", "\n", html)
    html = re.sub(r"(?i)<li\b[^>]*>", "• ", html)
    text = unescape(re.sub(r"<[^>]+>", "", html))
    text = re.sub(r"[ \t\xa0]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --------------------------------------------------------------------------- office


def _office_to_pdf(spec: ExhibitSpec) -> bytes:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise EvidenceError(
            f"{spec.where()}: a {spec.file.suffix} document needs LibreOffice to be converted, "
            "and `soffice` is not on the PATH. Install LibreOffice, or open the document and "
            "export it as PDF (File > Export as PDF), then point the case file at the PDF"
        )
    with tempfile.TemporaryDirectory(prefix="dossier-lo-") as tmp:
        env = dict(os.environ, HOME=tmp)  # a private profile: no clash with a running LibreOffice
        try:
            proc = subprocess.run(
                [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                 "--convert-to", "pdf", "--outdir", tmp, str(spec.file)],
                capture_output=True, timeout=180, env=env,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise EvidenceError(f"{spec.where()}: LibreOffice could not convert the document ({e})") from None
        out = Path(tmp) / (spec.file.stem + ".pdf")
        if proc.returncode != 0 or not out.is_file():
            err = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[-300:]
            raise EvidenceError(
                f"{spec.where()}: LibreOffice could not convert the document ({err or 'no output'}); "
                "export it as PDF yourself"
            )
        return out.read_bytes()
