"""Where a letter's first page puts its text: the check that the address sits in the
envelope window and that the page keeps its clear margins.

The glyph positions come from the PDF itself (pypdf's ``extract_text(visitor_text=…)``,
text matrix × CTM), not from the layout we asked for. Decoding a whole letter page takes
pypdf 60–70 ms, too slow for a 1,000-letter job, so a first pass reads only the content
stream's structure (``q``/``Q``/``cm`` and the text objects' ``Tm`` origins, one regular
expression) and hands pypdf the few text objects that start near the window; when that
does not find the address (a template that draws text otherwise), the whole page is
decoded as a fallback, so the fast path can never accept a letter the full read would
refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dossier.bundle.stamp import matrix_bytes
from dossier.render.winansi import font

MM = 72 / 25.4

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

_NUM = rb"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
# the operators that matter, as whole tokens; a text object runs from BT to its ET
_STRUCTURE = re.compile(rb"(?<!\S)(?:(q|Q)|(cm)|BT(?!\S)(.*?)(?<!\S)ET)(?!\S)", re.S)
_TM = re.compile(rb"(?<!\S)((?:" + _NUM + rb"\s+){6})Tm\b")
_TF = re.compile(rb"/([^\s/\[\]<>()]+)\s+" + _NUM + rb"\s+Tf\b")
_TD = re.compile(rb"\b(?:Td|TD|T\*)\b")


@dataclass(frozen=True)
class Rect:
    """A rectangle in PDF points, origin at the page's bottom-left corner."""

    left: float
    bottom: float
    right: float
    top: float

    @classmethod
    def from_window_mm(cls, window: tuple[float, float, float, float], page_height: float) -> "Rect":
        """An envelope window given as (top, left, width, height) in mm from the top-left corner."""
        top, left, width, height = window
        return cls(left * MM, page_height - (top + height) * MM, (left + width) * MM, page_height - top * MM)

    def grown(self, d: float) -> "Rect":
        return Rect(self.left - d, self.bottom - d, self.right + d, self.top + d)

    def holds_point(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.bottom <= y <= self.top


@dataclass(frozen=True)
class TextLine:
    """One visual line of text: its runs joined left to right, baseline origin and size."""

    text: str
    x: float
    y: float
    right: float
    size: float


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """m × n (apply m, then n), PDF row-vector convention."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _floats(raw: bytes) -> Matrix:
    v = [float(x) for x in raw.split()]
    return (v[0], v[1], v[2], v[3], v[4], v[5])


@dataclass(frozen=True)
class TextObject:
    """A piece of a BT … ET object: from one ``Tm`` to the next (or the whole object when
    it also moves relatively: Td, TD, T*), the font selected for it, the CTM in force and
    its origins in page space."""

    body: bytes
    font_op: bytes
    ctm: Matrix
    origins: tuple[tuple[float, float], ...]
    relative: bool


def _pieces(body: bytes, ctm: Matrix) -> list[TextObject]:
    tms = list(_TM.finditer(body))
    if not tms or _TD.search(body):
        pts = tuple(_origin(tm, ctm) for tm in tms)
        return [TextObject(body, b"", ctm, pts, True)]
    out = []
    font_op = b""
    fonts = list(_TF.finditer(body))
    f = 0  # fonts[:f] are selected before the current piece (one walk: linear)
    for k, tm in enumerate(tms):
        end = tms[k + 1].start() if k + 1 < len(tms) else len(body)
        while f < len(fonts) and fonts[f].start() < tm.start():
            font_op = fonts[f].group(0)
            f += 1
        out.append(TextObject(body[tm.start(): end], font_op, ctm, (_origin(tm, ctm),), False))
    return out


def _origin(tm: re.Match, ctm: Matrix) -> tuple[float, float]:
    t = _mul(_floats(tm.group(1)), ctm)
    return (t[4], t[5])


def scan(content: bytes) -> list[TextObject]:
    """One pass over a content stream (q, Q, cm and the text objects; nothing is decoded)."""
    stack: list[Matrix] = []
    ctm: Matrix = IDENTITY
    out: list[TextObject] = []
    for m in _STRUCTURE.finditer(content):
        op, body = m.group(1), m.group(3)
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            ctm = stack.pop() if stack else IDENTITY
        elif m.group(2) is not None:
            try:
                ctm = _mul(_floats(b" ".join(content[max(0, m.start() - 160): m.start()].split()[-6:])), ctm)
            except (ValueError, IndexError):
                pass
        else:
            out.extend(_pieces(body, ctm))
    return out


def _only(objects: list[TextObject]) -> bytes:
    """A content stream drawing only ``objects``, each under its own CTM."""

    out = []
    for o in objects:
        out.append(b"q " + matrix_bytes(o.ctm) + b" cm\nBT\n" + o.font_op + b"\n" + o.body + b"\nET\nQ")
    return b"\n".join(out)


def read_lines(page: Any, near: Rect | None = None, objects: list[TextObject] | None = None) -> list[TextLine]:
    """The visual lines of a pypdf page (runs grouped by baseline). With ``near``, only
    the text objects starting inside that rectangle are decoded (fast path)."""
    runs: list[tuple[float, float, float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font_dict: Any, size: float) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
            runs.append((y, x, size * scale, text))

    if near is None:
        page.extract_text(visitor_text=visit)
    else:
        from pypdf import PageObject
        from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

        if objects is None:
            objects = scan(_content(page))
        keep = [o for o in objects if o.relative or any(near.holds_point(x, y) for x, y in o.origins)]
        direct = _decode_direct(page, keep)
        if direct is not None:
            return _group(direct)
        clone = PageObject(pdf=page.pdf)
        clone.update({k: v for k, v in page.items() if k not in ("/Contents", "/Resources")})
        # only the fonts the kept objects use: pypdf decodes every font of /Resources
        used = {m.group(1).decode("latin-1") for o in keep for m in _TF.finditer(o.font_op + b" " + o.body)}
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else DictionaryObject()
        fonts = resources.get("/Font")
        fonts = fonts.get_object() if fonts is not None else DictionaryObject()
        clone[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject(k): v for k, v in fonts.items() if k[1:] in used})})
        stream = DecodedStreamObject()
        stream.set_data(_only(keep))
        clone[NameObject("/Contents")] = stream
        clone.extract_text(visitor_text=visit)
    return _group(runs)


_HEX_PAIR = re.compile(rb"<([0-9A-Fa-f\s]+)>\s*<([0-9A-Fa-f\s]+)>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(?:<([0-9A-Fa-f\s]+)>|\[([^\]]*)\])")
_SECTION = re.compile(rb"beginbf(char|range)(.*?)endbf(?:char|range)", re.S)
_SHOW = re.compile(rb"<([0-9A-Fa-f\s]*)>|(\()|(Tj|TJ|')(?!\S)|/([^\s/\[\]<>()]+)\s+(" + _NUM + rb")\s+Tf\b")
_TF_SIZE = re.compile(rb"/([^\s/\[\]<>()]+)\s+(" + _NUM + rb")\s+Tf\b")


def _utf16(hexdigits: bytes) -> str:
    return bytes.fromhex(hexdigits.decode("ascii")).decode("utf-16-be", "replace")  # fromhex skips spaces


def _cmap(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap's bfchar and bfrange entries: code → text."""
    out: dict[int, str] = {}
    for kind, body in _SECTION.findall(data):
        if kind == b"char":
            for src, dst in _HEX_PAIR.findall(body):
                out[int(src, 16)] = _utf16(dst)
        else:
            for lo, hi, dst, array in _RANGE.findall(body):
                a, b = int(lo, 16), int(hi, 16)
                if b - a > 0xFFFF:
                    continue
                if array:
                    for k, item in enumerate(re.findall(rb"<([0-9A-Fa-f\s]+)>", array)):
                        out[a + k] = _utf16(item)
                elif dst:
                    base = _utf16(dst)
                    for k in range(b - a + 1):
                        out[a + k] = base[:-1] + chr(ord(base[-1]) + k) if base else ""
    return out


def _fonts(page: Any) -> dict[str, tuple[int, dict[int, str]]] | None:
    """Font resource name → (bytes per code, ToUnicode map) of a pypdf page, or None when
    a font has no map."""
    resources = page.get("/Resources")
    fonts = resources.get_object().get("/Font") if resources is not None else None
    if fonts is None:
        return {}
    out = {}
    for name, ref in fonts.get_object().items():
        f = ref.get_object()
        tu = f.get("/ToUnicode")
        if tu is None:
            return None
        width = 2 if f.get("/Subtype") == "/Type0" else 1
        out[name[1:]] = (width, _cmap(tu.get_object().get_data()))
    return out


def _fonts_pikepdf(page: Any) -> dict[str, tuple[int, dict[int, str]]] | None:
    """The same for a pikepdf page; each font's map is parsed when first used."""
    resources = page.obj.get("/Resources")
    fonts = resources.get("/Font") if resources is not None else None
    if fonts is None:
        return {}
    return _LazyFonts({str(name)[1:]: fonts[name] for name in fonts.keys()})


class _LazyFonts(dict):
    """Font name → (bytes per code, ToUnicode map), parsed on first access; a font
    without a map reads as absent (the caller then falls back to pypdf)."""

    def __init__(self, objects: dict[str, Any]):
        super().__init__()
        self._objects = objects

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get(self, name: str, default: Any = None) -> Any:
        if not dict.__contains__(self, name):
            f = self._objects.get(name)
            tu = f.get("/ToUnicode") if f is not None else None
            dict.__setitem__(self, name, None if tu is None else (
                2 if str(f.get("/Subtype")) == "/Type0" else 1, _cmap(tu.read_bytes())))
        value = dict.__getitem__(self, name)
        return default if value is None else value

    def __getitem__(self, name: str) -> Any:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value


def _decode_direct(page: Any, objects: list[TextObject],
                   fonts: dict[str, tuple[int, dict[int, str]]] | None = None) -> list[tuple[float, float, float, str]] | None:
    """Runs (y, x, size, text) of ``objects`` decoded with their fonts' ToUnicode maps;
    None when something needs pypdf (relative moves, literal strings, a font without map)."""
    if any(o.relative for o in objects):
        return None
    fonts = _fonts(page) if fonts is None else fonts
    if fonts is None:
        return None
    runs = []
    for o in objects:
        tm = _TM.search(o.body)
        if tm is None:
            return None
        m = _mul(_floats(tm.group(1)), o.ctm)
        scale = abs(m[3]) or abs(m[0]) or 1.0
        current = _TF_SIZE.search(o.font_op)
        name = current.group(1).decode("latin-1") if current else None
        size = float(current.group(2)) if current else 0.0
        parts = []
        for show in _SHOW.finditer(o.body[tm.end():]):
            if show.group(2):  # a literal string: leave it to pypdf
                return None
            if show.group(4) is not None:  # Tf
                name, size = show.group(4).decode("latin-1"), float(show.group(5))
                continue
            if show.group(1) is None:
                continue
            if name not in fonts:
                return None
            width, cmap = fonts[name]
            raw = bytes.fromhex(show.group(1).decode("ascii"))
            for k in range(0, len(raw) - width + 1, width):
                code = int.from_bytes(raw[k: k + width], "big")
                if code not in cmap:
                    return None
                parts.append(cmap[code])
        text = "".join(parts)
        if text.strip():
            runs.append((m[5], m[4], size * scale, text))
    return runs


def _content(page: Any) -> bytes:
    contents = page.get_contents()
    return contents.get_data() if contents is not None else b""


def _group(runs: list[tuple[float, float, float, str]]) -> list[TextLine]:
    bold = font("sans-bold")
    by_line: dict[int, list[tuple[float, float, str]]] = {}
    for y, x, size, text in runs:
        by_line.setdefault(round(y * 2), []).append((x, size, text))
    out = []
    for key, items in sorted(by_line.items(), reverse=True):
        items.sort()
        text = re.sub(r"[\s\u00a0\u202f]+", " ", "".join(t for _, _, t in items)).strip()
        x0, size = items[0][0], max(s for _, s, _ in items)
        # the right edge: the last run's start plus its width in the (wider) bold face
        last_x, last_size, last_text = items[-1]
        right = last_x + bold.width(last_text.strip(), last_size)
        out.append(TextLine(text, x0, key / 2, right, size))
    return out


def _norm(s: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", s).strip()


def window_problems(lines: list[TextLine], window: Rect, address: tuple[str, ...]) -> list[str]:
    """Why ``address`` is not wholly inside ``window`` on a page of ``lines`` (empty: it is)."""
    out = []
    for wanted in address:
        w = _norm(wanted)
        hits = [ln for ln in lines if ln.text == w]
        if not hits:
            out.append(f"address line '{wanted}' not found on the first page")
            continue
        inside = [ln for ln in hits if ln.x >= window.left - 0.5 and ln.right <= window.right + 0.5
                  and ln.y >= window.bottom - 0.5 and ln.y + 0.72 * ln.size <= window.top + 0.5]
        if not inside:
            ln = hits[0]
            out.append(f"address line '{wanted}' lies outside the envelope window "
                       f"(at {ln.x / MM:.1f} mm from the left, {ln.y / MM:.1f} mm from the bottom)")
    return out


def check_first_page(page: Any, window: Rect, address: tuple[str, ...], margin: float) -> list[str]:
    """Problems of a letter's first page: the address outside the window, or text closer
    than ``margin`` points to an edge. Fast path first, full decode when it fails."""
    box = page.mediabox
    width, height = float(box.width), float(box.height)
    objects = scan(_content(page))
    out = []
    close = [(x, y) for o in objects for x, y in o.origins
             if not (margin <= x <= width - margin and margin <= y <= height - margin)]
    if close:
        x, y = close[0]
        out.append(f"text at {x / MM:.1f} mm from the left, {y / MM:.1f} mm from the bottom: "
                   f"inside the {margin / MM:.0f} mm clear margin printers ask for")
    problems = window_problems(read_lines(page, window.grown(12 * MM), objects), window, address)
    if problems:
        problems = window_problems(read_lines(page), window, address)
    return out + problems


def check_letter(data: bytes, pdf: Any, window_mm: tuple[float, float, float, float], address: tuple[str, ...],
                 margin: float) -> list[str]:
    """:func:`check_first_page` for a letter opened with pikepdf (``pdf``; ``data`` its
    bytes): the structure scan and the decoding of the pieces near the window read
    pikepdf's objects; anything else falls back to pypdf's full decode of the page."""
    page = pdf.pages[0]
    box = [float(v) for v in page.mediabox]
    width, height = box[2] - box[0], box[3] - box[1]
    window = Rect.from_window_mm(window_mm, height)
    contents = page.obj.get("/Contents")
    if contents is None:
        content = b""
    elif hasattr(contents, "read_bytes"):
        content = contents.read_bytes()
    else:
        content = b"\n".join(c.read_bytes() for c in contents)
    objects = scan(content)
    out = []
    close = [(x, y) for o in objects for x, y in o.origins
             if not (margin <= x <= width - margin and margin <= y <= height - margin)]
    if close:
        x, y = close[0]
        out.append(f"text at {x / MM:.1f} mm from the left, {y / MM:.1f} mm from the bottom: "
                   f"inside the {margin / MM:.0f} mm clear margin printers ask for")
    near = window.grown(12 * MM)
    keep = [o for o in objects if o.relative or any(near.holds_point(x, y) for x, y in o.origins)]
    fonts = _fonts_pikepdf(page)
    runs = _decode_direct(None, keep, fonts) if fonts is not None else None
    problems = window_problems(_group(runs), window, address) if runs is not None else ["undecoded"]
    if problems:
        import io

        from pypdf import PdfReader

        problems = window_problems(read_lines(PdfReader(io.BytesIO(data)).pages[0]), window, address)
    return out + problems

