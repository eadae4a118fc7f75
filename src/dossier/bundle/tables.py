"""The bordereau de pièces and the table of contents, drawn directly as PDF pages.

Both are long, regular lists (one row per exhibit), and their page numbers depend on their
own length, so they are laid out several times. Typesetting them with WeasyPrint cost
about 0.8 s for 80 exhibits, four times the cost of merging 300 pages of evidence; drawn
here with the embedded WinAnsi fonts (:mod:`dossier.render.winansi`) they take a few
milliseconds and look the same as the HTML templates they replace: A4 with the dossier
stylesheet's margins, a centred title and subtitle, rows with a hanging number, wrapped
descriptions, the date and page references at the right, group headings, a header row
repeated at the top of every bordereau page, a closing note and the signature.

A user who overrides ``dossiers/bordereau.html`` or ``dossiers/toc.html`` gets them laid
out by WeasyPrint instead (:mod:`dossier.bundle.layout`).

Every row links to the first page of its exhibit or section: one link over the number and
description, one over the page reference, as in the HTML version. Coordinates are
formatted with a fixed precision, so the same input gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from dossier.bundle.stamp import A4, MM, pdf_num
from dossier.fmt import date_long, date_short
from dossier.render.winansi import exact, font

# geometry of dossiers/dossier.css: @page { margin: 18mm 18mm 20mm 20mm }
LEFT = 20 * MM
RIGHT = A4[0] - 18 * MM
TOP = A4[1] - 18 * MM
BOTTOM = 20 * MM
WIDTH = RIGHT - LEFT

#: Liberation's hhea ascent and descent (em): where a baseline sits in its line box
ASCENT, DESCENT = 0.905, 0.212
LINE = 1.35  # line-height

BLACK = (0, 0, 0)
MUTED = (0.333, 0.333, 0.333)  # #555
GROUP = (0.2, 0.2, 0.2)  # #333
BLUE = (0.043, 0.239, 0.569)  # #0b3d91, links
RULE = 0.6  # #999 row rules
HEAD_BG = 0.925  # #ececec
SECTION_BG = 0.949  # #f2f2f2
PAD = 1.2 * MM  # row padding, top and bottom

Rect = tuple[float, float, float, float]
Link = tuple[Rect, int]


@dataclass(frozen=True)
class DrawnPage:
    """One page: its content stream (fonts by :data:`~dossier.render.winansi.RESOURCE_NAMES`)
    and its links (rectangle, 1-based target page)."""

    content: bytes
    links: tuple[Link, ...] = ()


@dataclass
class _Block:
    height: float
    draw: Callable[[float, list[bytes], list[Link]], None]  # (top y, ops, links)
    keep_with_next: bool = False
    in_table: bool = False
    space_before: float = 0.0


@dataclass
class _Page:
    ops: list[bytes] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def can_draw(ctx: dict) -> bool:
    """Whether every text of the bordereau and table of contents is in WinAnsi (French and
    western European text is); a name in another script ("Łódź", "Σοφία") is typeset by
    WeasyPrint instead, with fonts that have its glyphs."""

    c = ctx["creditor"]
    texts = [c.name, ctx["debtor"].name, ctx["case"].reference, c.address.city,
             c.signatory.name if c.signatory else ""]
    texts += [e.title for e in ctx["exhibits"]] + [s.title for s in ctx["sections"]]
    return all(exact(t or "") for t in texts)


# --------------------------------------------------------------------------- text


def wrap(text: str, style: str, size: float, width: float) -> list[str]:
    """Greedy line breaking at spaces; a word longer than the line is cut. Linear in the
    length of ``text``: each word is measured once (widths add up, no kerning)."""
    f = font(style)
    space = f.units(" ")
    lines: list[str] = []
    line, units = "", 0
    for word in text.split():
        wu = f.units(word)
        trial = units + space + wu if line else wu
        if trial * size / 1000 <= width:
            line, units = (f"{line} {word}" if line else word), trial
            continue
        if line:
            lines.append(line)
        while wu * size / 1000 > width:  # cut an overlong word
            cut = max(1, f.fit(word, size, width))
            lines.append(word[:cut])
            wu -= f.units(word[:cut])
            word = word[cut:]
        line, units = word, wu
    if line or not lines:
        lines.append(line)
    return lines


#: a row never runs past one page: longer descriptions end with "…" (the file name and
#: the exhibit itself are still there; a title of 30 lines is a data-entry accident)
MAX_ROW_LINES = 30


def _cap(lines: list[str], style: str, size: float, width: float) -> list[str]:
    if len(lines) <= MAX_ROW_LINES:
        return lines
    last = lines[MAX_ROW_LINES - 1]
    while last and font(style).width(last + " …", size) > width:
        last = last[:-1]
    return lines[:MAX_ROW_LINES - 1] + [last.rstrip() + " …"]


def _text(ops: list[bytes], x: float, y: float, text: str, style: str, size: float,
          color=BLACK, spacing: float = 0.0) -> None:
    f = font(style)
    op = b"BT %s %s %s rg %s %s Tf %s %s Td %s Tj ET" % (
        pdf_num(color[0]), pdf_num(color[1]), pdf_num(color[2]), f.resource.encode(), pdf_num(size), pdf_num(x), pdf_num(y), f.string(text))
    if spacing:  # character spacing is graphics state: kept inside q ... Q
        op = b"q %s Tc %s Q" % (pdf_num(spacing), op)
    ops.append(op)


def _right(ops, x_right, y, text, style, size, color=BLACK) -> float:
    """Text ending at ``x_right``; returns where it starts."""
    x = x_right - font(style).width(text, size)
    _text(ops, x, y, text, style, size, color)
    return x


def _baseline(top: float, size: float, line: int = 0) -> float:
    lh = size * LINE
    return top - line * lh - (lh - (ASCENT + DESCENT) * size) / 2 - ASCENT * size


def _rule(ops, y: float, width: float = 0.4, grey: float = RULE) -> None:
    ops.append(b"q %s w %s G %s %s m %s %s l S Q" % (pdf_num(width), pdf_num(grey), pdf_num(LEFT), pdf_num(y), pdf_num(RIGHT), pdf_num(y)))


def _fill(ops, x0, y0, x1, y1, grey) -> None:
    ops.append(b"q %s g %s %s %s %s re f Q" % (pdf_num(grey), pdf_num(x0), pdf_num(y0), pdf_num(x1 - x0), pdf_num(y1 - y0)))


# --------------------------------------------------------------------------- blocks


def _centred(text: str, style: str, size: float, after: float, color=BLACK) -> _Block:
    lines = wrap(text, style, size, WIDTH)

    def draw(top, ops, links):
        f = font(style)
        for i, line in enumerate(lines):
            _text(ops, LEFT + (WIDTH - f.width(line, size)) / 2, _baseline(top, size, i), line, style, size, color)

    return _Block(len(lines) * size * LINE + after, draw, keep_with_next=True)


def _paragraph(text: str, style: str, size: float, *, before: float = 0.0, indent: float = 0.0,
               color=BLACK, keep_with_next: bool = False) -> _Block:
    lines = wrap(text, style, size, WIDTH - indent)

    def draw(top, ops, links):
        for i, line in enumerate(lines):
            _text(ops, LEFT + indent, _baseline(top, size, i), line, style, size, color)

    return _Block(len(lines) * size * LINE, draw, keep_with_next=keep_with_next, space_before=before)


def _paginate(blocks: list[_Block], header: _Block | None = None) -> list[DrawnPage]:
    """Blocks top to bottom, a new page when the next one (with those it keeps with) does
    not fit; ``header`` is repeated at the top of a page that continues the table."""
    pages = [_Page()]
    y = TOP
    i = 0
    while i < len(blocks):
        b = blocks[i]
        need = b.space_before + b.height
        j = i
        while blocks[j].keep_with_next and j + 1 < len(blocks):  # keep a heading with its first row
            j += 1
            need += blocks[j].space_before + blocks[j].height
        at_top = y == TOP
        if not at_top and y - need < BOTTOM:
            pages.append(_Page())
            y = TOP
            at_top = True
            if header is not None and b.in_table and b is not header:
                header.draw(y, pages[-1].ops, pages[-1].links)
                y -= header.height
        if not at_top:
            y -= b.space_before
        b.draw(y, pages[-1].ops, pages[-1].links)
        y -= b.height
        i += 1
    return [DrawnPage(b"\n".join(p.ops) + b"\n", tuple(p.links)) for p in pages]


# --------------------------------------------------------------------------- bordereau

# columns (dossier.css .row): number hanging at 0.5 mm, description from 13 mm to 54 mm
# before the right edge, date in the 21 mm before the last 32 mm, pages flush right
B_NO = LEFT + 0.5 * MM
B_DESC = LEFT + 13 * MM
B_DESC_W = WIDTH - 13 * MM - 57 * MM  # a 4 mm gutter before the date column
B_DATE = RIGHT - 53 * MM
B_PG_RIGHT = RIGHT - 0.5 * MM


def bordereau(ctx: dict) -> list[DrawnPage]:
    """The bordereau de pièces: number, description, date and pages in the dossier of each
    exhibit, by group; ``ctx`` is :func:`dossier.bundle.layout.context`'s."""

    creditor, debtor, case, at = ctx["creditor"], ctx["debtor"], ctx["case"], ctx["at"]
    exhibits, total = ctx["exhibits"], ctx["total_pages"]
    purpose = ("à l'appui de la requête en injonction de payer (CPC art. 1407)" if ctx["purpose"] == "court" else
               "à l'appui de la demande de procédure simplifiée de recouvrement des petites créances")
    blocks = [
        _centred("Bordereau des pièces communiquées", "sans-bold", 15, 4 * MM - 2 * MM),
        _centred(purpose, "serif", 9.5, 0),
        _centred(f"{creditor.name} c/ {debtor.name} — réf.\u00a0: {case.reference}", "serif", 9.5, 6 * MM),
    ]
    header = _bordereau_header()
    blocks.append(header)
    size = 9.5
    lh = size * LINE
    previous_group = None
    for e in exhibits:
        if e.group != previous_group:
            blocks.append(_group_row(ctx["group_titles"][e.group]))
            previous_group = e.group
        lines = _cap(wrap(e.title, "serif", size, B_DESC_W), "serif", size, B_DESC_W)
        height = len(lines) * lh + 2 * PAD
        pages = f"p. {e.first_page}" if e.pages == 1 else f"p. {e.first_page} à {e.last_page}"
        when = date_short(e.date) if e.date else "—"

        def draw(top, ops, links, e=e, lines=lines, height=height, pages=pages, when=when):
            base = _baseline(top - PAD, size)
            _text(ops, B_NO, base, str(e.number), "sans-bold", size)
            for k, line in enumerate(lines):
                _text(ops, B_DESC, _baseline(top - PAD, size, k), line, "serif", size)
            _text(ops, B_DATE, base, when, "serif", size)
            count = f" ({e.pages} p.)"
            x_count = _right(ops, B_PG_RIGHT, base, count, "sans", 8.5, MUTED)
            x_pages = _right(ops, x_count, base, pages, "sans", size, BLUE)
            _rule(ops, top - height)
            links.append(((LEFT, top - height, B_DESC + B_DESC_W, top), e.first_page))
            links.append(((x_pages, top - height, x_count, top), e.first_page))

        blocks.append(_Block(height, draw, in_table=True))
    if not exhibits:
        blocks.append(_paragraph("Aucune pièce.", "serif", size, before=PAD))
    n = len(exhibits)
    blocks.append(_paragraph(
        f"{n} pièce{'s' if n > 1 else ''} ; dossier de {total} pages numérotées de 1 à {total}. "
        "Chaque page de pièce porte la mention « Pièce n° X — p. y/z ».", "serif", 8.5, before=3 * MM))
    signer = creditor.signatory.name if creditor.signatory else creditor.name
    blocks.append(_paragraph(f"Fait à {creditor.address.city}, le {date_long(at)}", "serif", 8.5,
                             before=8 * MM, indent=95 * MM, keep_with_next=True))
    blocks.append(_paragraph(signer, "serif", 8.5, indent=95 * MM))
    return _paginate(blocks, header)


def _bordereau_header() -> _Block:
    size = 8.5
    height = size * LINE + 2 * PAD

    def draw(top, ops, links):
        _fill(ops, LEFT, top - height, RIGHT, top, HEAD_BG)
        _rule(ops, top, 0.6, 0)
        _rule(ops, top - height)
        base = _baseline(top - PAD, size)
        _text(ops, B_NO, base, "N°", "sans-bold", size)
        _text(ops, B_DESC, base, "Désignation de la pièce", "sans-bold", size)
        _text(ops, B_DATE, base, "Date", "sans-bold", size)
        _right(ops, B_PG_RIGHT, base, "Pages du dossier", "sans-bold", size)

    return _Block(height, draw, keep_with_next=True, in_table=True)


def _group_row(title: str) -> _Block:
    size = 8
    top_pad, bottom_pad = 2.2 * MM, PAD
    height = size * LINE + top_pad + bottom_pad

    def draw(top, ops, links):
        _text(ops, B_NO, _baseline(top - top_pad, size), title.upper(), "sans-bold", size, GROUP, spacing=0.5)
        _rule(ops, top - height)

    return _Block(height, draw, keep_with_next=True, in_table=True)


# --------------------------------------------------------------------------- table of contents

T_NO = LEFT + 0.5 * MM
T_TITLE = LEFT + 22.5 * MM
T_TITLE_W = WIDTH - 22.5 * MM - 16 * MM
T_PG_RIGHT = RIGHT - 0.5 * MM


def toc(ctx: dict) -> list[DrawnPage]:
    """The table of contents: each section and exhibit with its first page; every line is
    a link to that page."""
    creditor, debtor, case = ctx["creditor"], ctx["debtor"], ctx["case"]
    size = 9.5
    lh = size * LINE
    blocks = [
        _centred("Sommaire", "sans-bold", 15, 4 * MM - 2 * MM),
        _centred(f"{creditor.name} c/ {debtor.name} — réf. {case.reference}", "serif", 9.5, 6 * MM),
    ]
    first_row = True
    for s in ctx["sections"]:
        lines = wrap(s.title, "sans-bold", size, WIDTH - 17 * MM)
        height = len(lines) * lh + 2 * PAD

        def draw(top, ops, links, s=s, lines=lines, height=height, first=first_row):
            _fill(ops, LEFT, top - height, RIGHT, top, SECTION_BG)
            if first:
                _rule(ops, top, 0.6, 0)
            for k, line in enumerate(lines):
                _text(ops, T_NO, _baseline(top - PAD, size, k), line, "sans-bold", size)
            x = _right(ops, T_PG_RIGHT, _baseline(top - PAD, size), str(s.first_page), "sans-bold", size, BLUE)
            _rule(ops, top - height)
            links.append(((LEFT, top - height, RIGHT - 17 * MM, top), s.first_page))
            links.append(((x, top - height, T_PG_RIGHT, top), s.first_page))

        blocks.append(_Block(height, draw, in_table=True))
        first_row = False
    for e in ctx["exhibits"]:
        lines = _cap(wrap(e.title, "serif", size, T_TITLE_W), "serif", size, T_TITLE_W)
        height = len(lines) * lh + 2 * PAD

        def draw(top, ops, links, e=e, lines=lines, height=height):
            base = _baseline(top - PAD, size)
            _text(ops, T_NO, base, f"Pièce n° {e.number}", "sans-bold", size)
            for k, line in enumerate(lines):
                _text(ops, T_TITLE, _baseline(top - PAD, size, k), line, "serif", size)
            x = _right(ops, T_PG_RIGHT, base, str(e.first_page), "sans", size, BLUE)
            _rule(ops, top - height)
            links.append(((LEFT, top - height, T_TITLE + T_TITLE_W, top), e.first_page))
            links.append(((x, top - height, T_PG_RIGHT, top), e.first_page))

        blocks.append(_Block(height, draw, in_table=True))
    total = ctx["total_pages"]
    blocks.append(_paragraph(
        f"Les numéros renvoient aux pages du dossier (« N / {total} » en bas de chaque page) ; "
        "chaque ligne est un lien.", "serif", 8.5, before=3 * MM, color=MUTED))
    return _paginate(blocks)
