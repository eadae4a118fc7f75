"""Page geometry and the stamps drawn on every page of the dossier.

Every page of the dossier is a fresh A4 sheet (portrait, or landscape for a landscape
exhibit) onto which the exhibit page is drawn as a form XObject:

- its ``/Rotate`` and crop box are folded into the placement matrix, so what the clerk
  sees is upright and nothing relies on the viewer honouring ``/Rotate``;
- it is scaled (never enlarged) to fit the area between a **top band** that carries the
  exhibit stamp "Pièce n° X — p. y/z" and a **bottom band** that carries the dossier page
  number "N / M". The bands are outside the exhibit's drawing, so a stamp can never hide
  content: a page with no margin of its own is simply shrunk a little (an A4 page to
  about 93 %).

The stamps are plain text in embedded fonts (Liberation Sans cut to WinAnsi, see
:mod:`dossier.render.winansi`), so that they print the same everywhere and text
extraction, search and screen readers find "Pièce n° 3 — p. 1/2" on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from dossier.render.winansi import encode, pdf_literal
from dossier.render.winansi import font as get

MM = 72 / 25.4
A4 = (595.276, 841.890)  # points
TOP_BAND = 12 * MM
BOTTOM_BAND = 10 * MM
SIDE = 5 * MM

#: resource names of the stamp fonts on every page (see :mod:`dossier.render.winansi`)
FONT_REGULAR = "/DsSans"
FONT_BOLD = "/DsSansB"

def text_width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points in one of the embedded WinAnsi fonts (``sans``,
    ``sans-bold``, ``serif``)."""

    return get(font).width(text, size)


def pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252) encoding, escaped. Characters WinAnsi lacks
    lose their accents if they can ("ő" -> "o"), else become "?"."""

    return pdf_literal(encode(text))


def pdf_num(x: float) -> bytes:
    """A number for a content stream: 3 decimals, no trailing zeros (deterministic)."""
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return (s if s not in ("-0", "") else "0").encode()


def matrix_bytes(m: tuple[float, ...]) -> bytes:
    return b" ".join(pdf_num(v) for v in m)


# --------------------------------------------------------------------------- placement


@dataclass(frozen=True)
class Placement:
    """Where a source page goes: the sheet size and the matrix from the source page's user
    space to the sheet (rotation, scale, offset)."""

    sheet: tuple[float, float]
    matrix: tuple[float, float, float, float, float, float]
    #: the rectangle the page occupies on the sheet (x0, y0, x1, y1)
    frame: tuple[float, float, float, float]
    scale: float


def rotation_matrix(box: tuple[float, float, float, float], rotate: int) -> tuple[tuple[float, ...], float, float]:
    """Matrix from a page's user space to its upright displayed space (origin bottom-left),
    and the displayed width and height. ``rotate`` is the page's /Rotate (clockwise)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    r = rotate % 360
    if r == 90:
        return (0, -1, 1, 0, -y0, x1), h, w
    if r == 180:
        return (-1, 0, 0, -1, x1, y1), w, h
    if r == 270:
        return (0, 1, -1, 0, y1, -x0), h, w
    return (1, 0, 0, 1, -x0, -y0), w, h


def multiply(m1: tuple[float, ...], m2: tuple[float, ...]) -> tuple[float, ...]:
    """m1 then m2 (PDF row-vector convention: p' = p × m1 × m2)."""
    a1, b1, c1, d1, e1, f1 = m1
    a2, b2, c2, d2, e2, f2 = m2
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


def sheet_for(width: float, height: float) -> tuple[float, float]:
    """A4 in the orientation of the content."""
    return (A4[1], A4[0]) if width > height else A4


def place(box: tuple[float, float, float, float], rotate: int = 0, *, fit: bool = True) -> Placement:
    """Placement of a page with crop box ``box`` and ``/Rotate`` ``rotate`` on an A4 sheet,
    scaled (never enlarged) into the area between the stamp bands and centred."""
    rot, w, h = rotation_matrix(box, rotate)
    if w <= 0 or h <= 0:
        raise ValueError("empty page box")
    sheet = sheet_for(w, h)
    if not fit:
        return Placement(sheet, rot, (0, 0, w, h), 1.0)
    area_w = sheet[0] - 2 * SIDE
    area_h = sheet[1] - TOP_BAND - BOTTOM_BAND
    s = min(area_w / w, area_h / h, 1.0)
    dw, dh = w * s, h * s
    tx = (sheet[0] - dw) / 2
    ty = BOTTOM_BAND + (area_h - dh) / 2
    m = multiply(rot, (s, 0, 0, s, tx, ty))
    return Placement(sheet, m, (tx, ty, tx + dw, ty + dh), s)


# --------------------------------------------------------------------------- stamps


def exhibit_stamp(sheet: tuple[float, float], number: int, page: int, pages: int, header: str = "") -> bytes:
    """The framed "Pièce n° X — p. y/z" at the top right, and an optional small header
    (case reference, parties) at the top left, both inside the top band."""
    label = f"Pièce n° {number} — p. {page}/{pages}"
    size = 9.5
    tw = text_width(label, "sans-bold", size)
    pad = 4.0
    right = sheet[0] - SIDE
    top = sheet[1] - 2.2 * MM
    bh = size + 2 * pad - 1
    bx, by = right - tw - 2 * pad, top - bh
    out = [
        b"q 0.7 w 0 0 0 RG 1 1 1 rg",
        b"%s %s %s %s re B" % (pdf_num(bx), pdf_num(by), pdf_num(tw + 2 * pad), pdf_num(bh)),
        b"0 0 0 rg BT %s %s Tf %s %s Td %s Tj ET" % (
            FONT_BOLD.encode(), pdf_num(size), pdf_num(bx + pad), pdf_num(by + pad + 0.6), pdf_string(label)),
    ]
    if header:
        hsize = 7.0
        room = bx - SIDE - 6
        header = _fit(header, "sans", hsize, room)
        if header:
            out.append(b"0.35 g BT %s %s Tf %s %s Td %s Tj ET" % (
                FONT_REGULAR.encode(), pdf_num(hsize), pdf_num(SIDE), pdf_num(by + pad + 0.6), pdf_string(header)))
    out.append(b"Q")
    return b"\n".join(out) + b"\n"


def page_number(sheet: tuple[float, float], n: int, total: int, footer: str = "") -> bytes:
    """The dossier page number "N / M", centred in the bottom band, with an optional small
    footer text at the bottom left."""
    label = f"{n} / {total}"
    size = 9.0
    tw = text_width(label, "sans", size)
    y = BOTTOM_BAND / 2 - size / 3
    out = [b"q 0 g BT %s %s Tf %s %s Td %s Tj ET" % (
        FONT_REGULAR.encode(), pdf_num(size), pdf_num((sheet[0] - tw) / 2), pdf_num(y), pdf_string(label))]
    if footer:
        fsize = 6.5
        room = (sheet[0] - tw) / 2 - SIDE - 12
        footer = _fit(footer, "sans", fsize, room)
        if footer:
            out.append(b"0.4 g BT %s %s Tf %s %s Td %s Tj ET" % (
                FONT_REGULAR.encode(), pdf_num(fsize), pdf_num(SIDE), pdf_num(y), pdf_string(footer)))
    out.append(b"Q")
    return b"\n".join(out) + b"\n"


def blank_notice(sheet: tuple[float, float]) -> bytes:
    """The mention on a page left blank for duplex printing."""
    label = "Page laissée intentionnellement blanche"
    size = 8.0
    tw = text_width(label, "sans", size)
    return b"q 0.45 g BT %s %s Tf %s %s Td %s Tj ET Q\n" % (
        FONT_REGULAR.encode(), pdf_num(size), pdf_num((sheet[0] - tw) / 2), pdf_num(sheet[1] / 2), pdf_string(label))


def frame(rect: tuple[float, float, float, float]) -> bytes:
    """A hairline grey frame around a placed exhibit page (shows where the evidence ends
    and the dossier's own marks begin)."""
    x0, y0, x1, y1 = rect
    return b"q 0.4 w 0.6 G %s %s %s %s re S Q\n" % (pdf_num(x0), pdf_num(y0), pdf_num(x1 - x0), pdf_num(y1 - y0))


def _fit(text: str, font: str, size: float, room: float) -> str:
    """``text`` cut to ``room`` points with an ellipsis; linear in what is drawn, whatever
    the length of ``text``."""

    if room <= 20:
        return ""
    f = get(font)
    if f.fit(text, size, room) == len(text):
        return text
    n = f.fit(text, size, room - f.width("…", size))
    return (text[:n].rstrip() + "…") if n else ""
