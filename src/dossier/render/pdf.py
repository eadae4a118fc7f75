"""HTML to PDF with WeasyPrint: PDF/A-3b, embedded fonts, byte-identical output.

Why each choice:

- **Fonts.** The Liberation fonts (SIL OFL 1.1) are vendored in ``dossier/fonts/`` and
  declared by ``@font-face`` rules under the explicit family names ``"Dossier Serif"`` and
  ``"Dossier Sans"``, so a document never depends on what the machine has installed and
  never falls back to the system default. WeasyPrint subsets and embeds them.
- **One FontConfiguration per process.** Creating one costs a fontconfig scan; the module
  keeps a single lazily created instance and the parsed ``@font-face`` stylesheet with it,
  so every render after the first is "warm".
- **PDF/A-3b** (``pdf_variant="pdf/a-3b"``): archival, and version 3 allows attached files
  (a future Factur-X or the décompte as JSON).
- **Determinism.** WeasyPrint 70 takes the Info ``CreationDate``/``ModDate`` and the XMP
  ``CreateDate``/``ModifyDate`` from ``document.metadata.created``/``modified`` (W3C date
  strings) and sets nothing itself for PDF/A (only PDF/X adds "now"). The file identifier
  (``/ID``) is an MD5 of the objects' bytes and the font subset tags are MD5s of the font
  descriptions, so once the dates are fixed from the ``--at`` date two renders of the same
  HTML are byte-identical — no post-processing with pypdf is needed (tests check it).
"""

from __future__ import annotations

import atexit
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from dossier.errors import TemplateError
from dossier.paths import file_type, is_inside
from dossier.render.templates import SHIPPED_DIR

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"

#: family name -> ((file, weight, style), ...)
FONT_FACES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Dossier Serif": (
        ("LiberationSerif-Regular.ttf", "normal", "normal"),
        ("LiberationSerif-Bold.ttf", "bold", "normal"),
        ("LiberationSerif-Italic.ttf", "normal", "italic"),
        ("LiberationSerif-BoldItalic.ttf", "bold", "italic"),
    ),
    "Dossier Sans": (
        ("LiberationSans-Regular.ttf", "normal", "normal"),
        ("LiberationSans-Bold.ttf", "bold", "normal"),
        ("LiberationSans-Italic.ttf", "normal", "italic"),
        ("LiberationSans-BoldItalic.ttf", "bold", "italic"),
    ),
}

PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True)
class PdfMeta:
    """Document metadata. ``date`` is the ``--at`` date: it becomes both the creation and
    the modification date, so the same input gives the same bytes on any day."""

    title: str
    date: date
    author: str | None = None
    subject: str | None = None
    keywords: tuple[str, ...] = ()
    lang: str = "fr"
    generator: str = "dossier"

    @property
    def w3c_date(self) -> str:
        return f"{self.date.isoformat()}T00:00:00Z"


def cap_keywords(keywords: tuple[str, ...] | list[str], limit: int = 255) -> list[str]:
    """The first keywords that fit in ``limit`` characters (joined with ", "), then "…":
    a 2,000-invoice claim does not put 2,000 numbers in the PDF's metadata (the document's
    body lists them all).

    >>> cap_keywords(["relance-1", "AM-1", *(f"F{n:04d}" for n in range(100))], 40)
    ['relance-1', 'AM-1', 'F0000', 'F0001', 'F0002', '…']
    """
    out: list[str] = []
    used = 0
    for k in keywords:
        k = " ".join(str(k).split())
        if used + len(k) + 2 * len(out) > limit - 3:
            out.append("…")
            break
        out.append(k)
        used += len(k)
    return out


def font_face_css(fonts_dir: Path = FONTS_DIR) -> str:
    """The ``@font-face`` rules for the vendored fonts (file URLs)."""
    rules = []
    for family, faces in FONT_FACES.items():
        for filename, weight, style in faces:
            path = fonts_dir / filename
            rules.append(
                "@font-face { font-family: \"%s\"; src: url(\"%s\") format(\"truetype\");"
                " font-weight: %s; font-style: %s; }" % (family, path.as_uri(), weight, style)
            )
    return "\n".join(rules) + "\n"


_lock = threading.Lock()
_state: dict[str, Any] = {}


def font_configuration():
    """The process-wide WeasyPrint ``FontConfiguration`` (created on first use)."""
    _shared()
    return _state["font_config"]


def import_weasyprint():
    """Import WeasyPrint, skipping its slow library search on Linux.

    WeasyPrint tries several names per C library; for each name that is not a file,
    cffi falls back to ``ctypes.util.find_library``, which runs ``ldconfig``, ``gcc`` and
    ``ld`` in subprocesses — about 0.3 s of a cold start for names that cannot match
    on Linux. Every list also has the real soname (``libpango-1.0.so.0``), which
    ``dlopen`` loads directly, so during this one import ``find_library`` answers "not
    found" at once. If that fails anyway, the import is retried the normal way."""
    import sys

    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    import ctypes.util

    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint
    except OSError:
        ctypes.util.find_library = original
        for mod in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[mod]
        import weasyprint
    finally:
        ctypes.util.find_library = original
    return weasyprint


def _shared() -> tuple[Any, Any]:
    with _lock:
        if "font_config" not in _state:
            import_weasyprint()
            from weasyprint import CSS
            from weasyprint.text.fonts import FontConfiguration

            missing = [
                f for faces in FONT_FACES.values() for f, _, _ in faces if not (FONTS_DIR / f).is_file()
            ]
            if missing:
                raise TemplateError(f"{FONTS_DIR}: missing font files: {', '.join(missing)}")
            fc = FontConfiguration()
            _state["font_config"] = fc
            atexit.register(_release)
            _state["font_css"] = CSS(string=font_face_css(), font_config=fc)
        return _state["font_config"], _state["font_css"]


def _release() -> None:
    """Drop the shared FontConfiguration while the interpreter is still whole (its
    ``__del__`` needs modules that are gone at final shutdown)."""
    with _lock:
        _state.clear()
        _cache.clear()
    import gc

    gc.collect()


def html_to_pdf(
    html: str,
    *,
    base_url: str | None,
    metadata: PdfMeta,
    stylesheets: Iterable[str] = (),
    attachments: Iterable[tuple[str, bytes, str]] = (),
) -> bytes:
    """Render ``html`` to PDF/A-3b bytes.

    ``base_url`` resolves relative URLs (images, stylesheets) — pass the templates or case
    folder, or None. ``stylesheets`` are extra CSS strings applied after the document's
    own. ``attachments`` are ``(filename, data, description)`` files embedded in the PDF.
    The vendored fonts are always declared: use ``font-family: "Dossier Serif"`` or
    ``"Dossier Sans"`` (``base.css`` does).
    """
    attachments = tuple(attachments)
    stylesheets = tuple(stylesheets)
    key = _cache_key(html, base_url, metadata, stylesheets, attachments)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    pdf = _render(html, base_url, metadata, stylesheets, attachments)
    if len(pdf) <= CACHE_MAX_BYTES:
        with _lock:
            _cache[key] = pdf
            while len(_cache) > CACHE_ENTRIES:
                _cache.popitem(last=False)
    return pdf


#: renders are deterministic, so identical input can reuse the bytes (e.g. the same RIB
#: page attached to several emails of a run); small documents only, bounded
CACHE_ENTRIES = 32
CACHE_MAX_BYTES = 512 * 1024
_cache: "OrderedDict[str, bytes]" = OrderedDict()


def _cache_key(html, base_url, metadata, stylesheets, attachments) -> str:
    h = hashlib.sha256()
    for part in (html, base_url or "", repr(metadata), *stylesheets):
        h.update(part.encode("utf-8") + b"\0")
    for name, data, desc in attachments:
        h.update(f"{name}\0{desc}\0".encode() + hashlib.sha256(data).digest())
    return h.hexdigest()


def confined_fetcher(base_url: str | None):
    """A WeasyPrint URL fetcher for untrusted templates: ``data:`` URLs, and regular files
    inside the shipped templates, the vendored fonts or the folder of ``base_url`` (a
    templates folder, itself confined to the case or portfolio); nothing else — no
    ``file:///proc/self/environ`` image or attachment, no network. A refused URL is left
    out of the document (WeasyPrint warns), never read."""
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher


    roots = [SHIPPED_DIR, FONTS_DIR]
    if base_url and not urlsplit(base_url).scheme:
        roots.append(Path(base_url))

    class ConfinedFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path))
                if not any(is_inside(r, path) for r in roots) or file_type(path) is not None:
                    raise ValueError(f"{url}: not read (only the templates' own files)")
            elif scheme != "data":
                raise ValueError(f"{url}: not fetched (a template has no network access)")
            return super().fetch(url, headers)

    return ConfinedFetcher(allowed_protocols=("file", "data"), allow_redirects=False)


def _render(html, base_url, metadata, stylesheets, attachments) -> bytes:
    import_weasyprint()
    from weasyprint import CSS, HTML, Attachment

    font_config, font_css = _shared()
    fetcher = confined_fetcher(base_url)
    sheets = [font_css] + [CSS(string=s, font_config=font_config, base_url=base_url, url_fetcher=fetcher)
                           for s in stylesheets]
    try:
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
            font_config=font_config, stylesheets=sheets
        )
    except Exception as e:  # WeasyPrint raises assorted errors on broken input
        raise TemplateError(f"{metadata.title}: cannot lay out the document: {e}") from e
    meta = document.metadata
    meta.title = metadata.title
    meta.authors = [metadata.author] if metadata.author else []
    meta.description = metadata.subject
    meta.keywords = cap_keywords(metadata.keywords)
    meta.generator = metadata.generator
    meta.lang = metadata.lang
    meta.created = metadata.w3c_date
    meta.modified = metadata.w3c_date
    stamp = datetime(metadata.date.year, metadata.date.month, metadata.date.day, tzinfo=timezone.utc)
    atts = [
        Attachment(
            string=data, name=name, description=desc, created=stamp, modified=stamp,
            relationship="Supplement",
        )
        for name, data, desc in attachments
    ]
    return document.write_pdf(pdf_variant=PDF_VARIANT, attachments=atts or None)


def page_count(pdf: bytes) -> int:
    """Number of pages of a PDF given as bytes."""
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base font names of the fonts embedded in ``pdf`` (e.g. ``ABCDEF+LiberationSerif``),
    for tests and ``dossier`` self-checks: a font without a FontFile is not counted."""
    import io

    from pypdf import PdfReader

    found: set[str] = set()
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descs = [font]
            for d in font.get("/DescendantFonts") or []:
                descs.append(d.get_object())
            for d in descs:
                fd = d.get("/FontDescriptor")
                if fd is None:
                    continue
                fd = fd.get_object()
                if any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    found.add(str(fd.get("/FontName", d.get("/BaseFont"))).lstrip("/"))
    return found
