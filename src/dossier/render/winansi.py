"""Embedded fonts for the text dossier draws itself into PDF content streams: the
exhibit stamps, page numbers, the bordereau and the table of contents.

Three simple TrueType fonts in WinAnsi encoding, built from the vendored Liberation fonts
by ``tools/make_winansi_fonts.py`` (each holds exactly the cp1252 glyphs, so it is
embedded whole: no subsetting at run time, the same bytes in every dossier). Their
metrics come from ``fonts/winansi-metrics.json``; no font library is imported.

WinAnsi covers French (accents, « », œ, €, °, —, …). Other characters are written as
their closest WinAnsi form: the narrow and thin spaces babel puts in amounts become a
no-break space, an accented letter outside cp1252 loses its accent ("ő" -> "o"), anything
else becomes "?". Width and glyph always come from the same byte, so measuring and
drawing agree.
"""

from __future__ import annotations

import json
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dossier.render import pdfapi

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"

#: style -> resource name used in every page's /Font dictionary
RESOURCE_NAMES = {"sans": "/DsSans", "sans-bold": "/DsSansB", "serif": "/DsSerif"}

#: closest WinAnsi form of characters it lacks and that have no Unicode decomposition
_SPACES = {0x202F: "\xa0", 0x2009: "\xa0", 0x2007: "\xa0", 0x2008: "\xa0", 0x200A: "\xa0", 0x2002: " ", 0x2003: " ",
           0x2011: "-", 0x2010: "-", 0x2212: "-", 0x200B: "", 0xFEFF: "",
           0x141: "L", 0x142: "l", 0x110: "D", 0x111: "d", 0x131: "i", 0x126: "H", 0x127: "h"}


@dataclass(frozen=True)
class WinAnsiFont:
    style: str
    resource: str
    base_font: str
    file: str
    widths: tuple[int, ...]  # codes 32..255
    missing_width: int
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    stem_v: int
    serif: bool

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` points (no kerning)."""
        return self.units(text) * size / 1000

    def units(self, text: str) -> int:
        """Advance width of ``text`` in font units (1/1000 of the size). Additive: the
        units of ``a + b`` are those of ``a`` plus those of ``b``."""
        w, miss = self.widths, self.missing_width
        return sum(w[b - 32] if b >= 32 else miss for b in encode(text))

    def fit(self, text: str, size: float, room: float) -> int:
        """How many leading characters of ``text`` fit in ``room`` points at ``size``: one
        pass that stops at the first character that does not fit, so cutting a
        20,000-character title to a line costs a line, not 20,000 measurements."""
        total = 0
        for i, ch in enumerate(text):
            total += self.units(ch)
            if total * size / 1000 > room:
                return i
        return len(text)

    def string(self, text: str) -> bytes:
        """``text`` as a PDF literal string for this font's ``Tj``."""
        return pdf_literal(encode(text))


def encode(text: str) -> bytes:
    """``text`` in WinAnsi (cp1252), every character kept or replaced by its closest form."""
    try:
        return text.encode("cp1252")
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1252"))
            continue
        except UnicodeEncodeError:
            pass
        if ord(ch) in _SPACES:
            out.append(_SPACES[ord(ch)].encode("cp1252"))
            continue
        base = unicodedata.normalize("NFKD", ch).encode("cp1252", "ignore")
        out.append(base or b"?")
    return b"".join(out)


def exact(text: str) -> bool:
    """Whether ``text`` is drawn as written (every character in WinAnsi, spaces aside)."""
    try:
        text.translate(_EXACT_SPACES).encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


_EXACT_SPACES = {k: v for k, v in _SPACES.items() if v in ("\xa0", " ", "")}


def pdf_literal(raw: bytes) -> bytes:
    raw = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"\\r")
    return b"(" + raw + b")"


@lru_cache(maxsize=None)
def fonts() -> dict[str, WinAnsiFont]:
    """The three fonts by style: ``sans``, ``sans-bold``, ``serif``."""
    data = json.loads((FONTS_DIR / "winansi-metrics.json").read_text(encoding="utf-8"))
    return {
        style: WinAnsiFont(
            style=style,
            resource=RESOURCE_NAMES[style],
            base_font=m["base_font"],
            file=m["file"],
            widths=tuple(m["widths"]),
            missing_width=m["missing_width"],
            bbox=tuple(m["bbox"]),
            ascent=m["ascent"],
            descent=m["descent"],
            cap_height=m["cap_height"],
            stem_v=m["stem_v"],
            serif=m["serif"],
        )
        for style, m in data.items()
    }


def font(style: str) -> WinAnsiFont:
    return fonts()[style]


@lru_cache(maxsize=None)
def _font_program(file: str) -> tuple[bytes, int]:
    raw = (FONTS_DIR / file).read_bytes()
    return zlib.compress(raw, 9), len(raw)


def add_font_resources(writer):
    """Add the three fonts to a pypdf ``writer`` (each embedded once) and return a
    reference to a /Font resource dictionary naming them by :data:`RESOURCE_NAMES`."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        EncodedStreamObject,
        NameObject,
        NumberObject,
    )

    entries = DictionaryObject()
    for f in fonts().values():
        packed, length = _font_program(f.file)
        program = EncodedStreamObject()
        pdfapi.set_raw_data(program, packed)
        program[NameObject("/Filter")] = NameObject("/FlateDecode")
        program[NameObject("/Length1")] = NumberObject(length)
        descriptor = DictionaryObject({
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): NameObject("/" + f.base_font),
            # 32 nonsymbolic (+2 serif)
            NameObject("/Flags"): NumberObject(32 | (2 if f.serif else 0)),
            NameObject("/FontBBox"): ArrayObject(NumberObject(v) for v in f.bbox),
            NameObject("/ItalicAngle"): NumberObject(0),
            NameObject("/Ascent"): NumberObject(f.ascent),
            NameObject("/Descent"): NumberObject(f.descent),
            NameObject("/CapHeight"): NumberObject(f.cap_height),
            NameObject("/StemV"): NumberObject(f.stem_v),
            NameObject("/MissingWidth"): NumberObject(f.missing_width),
            NameObject("/FontFile2"): pdfapi.add_object(writer, program),
        })
        entries[NameObject(f.resource)] = pdfapi.add_object(writer, DictionaryObject({
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/TrueType"),
            NameObject("/BaseFont"): NameObject("/" + f.base_font),
            NameObject("/FirstChar"): NumberObject(32),
            NameObject("/LastChar"): NumberObject(255),
            NameObject("/Widths"): ArrayObject(NumberObject(w) for w in f.widths),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            NameObject("/FontDescriptor"): pdfapi.add_object(writer, descriptor),
        }))
    return pdfapi.add_object(writer, entries)
