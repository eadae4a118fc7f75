"""Annotations of an exhibit page, burnt into the dossier page ("flattened").

A dossier is read on paper or in any viewer, and its pages are new sheets: interactive
annotations cannot survive as such (their links point into the original file, form fields
from several exhibits would clash in one AcroForm). What the sender *saw* must survive:

- an annotation with a normal appearance stream (``/AP /N``) is drawn from it, mapped
  onto its ``/Rect`` as the PDF specification describes (§12.5.5);
- form fields saved with ``/NeedAppearances`` and empty appearances (LibreOffice does
  this) have their value (``/V``) written in their box;
- markup annotations without an appearance (highlights, underlines, ink, shapes, notes)
  get a simple drawn one, in their colour;
- links and pop-ups are dropped; hidden annotations too.
"""

from __future__ import annotations

import re
from typing import Any

from dossier.bundle import stamp as st
from dossier.render import pdfapi

#: ExtGState resource name for translucent highlights
GS_HIGHLIGHT = "/DsHl"


def flatten(w, page, need_appearances: bool) -> tuple[list[tuple[str, Any]], bytes, bool]:
    """Drawing operations (in the page's own user space) reproducing the visible
    annotations of ``page``: (xobjects to register, content bytes, needs the highlight
    graphics state)."""
    xobjects: list[tuple[str, Any]] = []
    ops: list[bytes] = []
    uses_gs = False
    for ref in page.get("/Annots") or []:
        try:
            a = ref.get_object()
            sub = a.get("/Subtype")
            if sub in (None, "/Link", "/Popup"):
                continue
            flags = int(a.get("/F", 0) or 0)
            if flags & (2 | 32):  # Hidden, NoView
                continue
            rect = _rect(a["/Rect"])
            drawn = _from_appearance(w, a, rect, len(xobjects), sub == "/Widget" and bool(_value(a)))
            if drawn is not None:
                name, xref, op = drawn
                xobjects.append((name, xref))
                ops.append(op)
                continue
            if sub == "/Widget":
                op = _widget_border(a, rect) + _widget_value(a, rect)
            else:
                op, gs = _markup(a, rect, sub)
                uses_gs = uses_gs or gs
            if op:
                ops.append(op)
        except Exception:  # noqa: BLE001 - a broken annotation is skipped, the page stays
            continue
    return xobjects, b"".join(ops), uses_gs


def _rect(r) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in r)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _from_appearance(w, a, rect, index, has_value=False):
    """(name, xobject ref, drawing op) from the annotation's /AP /N, or None — also None
    for a field with a value whose appearance paints nothing (``/NeedAppearances``)."""
    ap = a.get("/AP")
    if ap is None:
        return None
    ap = ap.get_object()
    if "/N" not in ap:
        return None
    n_raw = ap.raw_get("/N")
    n_obj = n_raw.get_object()
    if not hasattr(n_obj, "get_data"):  # a dictionary of states (check boxes, radios)
        state = a.get("/AS")
        if state is None or state not in n_obj:
            return None
        n_raw = n_obj.raw_get(state)
        n_obj = n_raw.get_object()
    if has_value and _blank(n_obj):
        return None
    bbox = [float(v) for v in n_obj["/BBox"]]
    mat = [float(v) for v in n_obj.get("/Matrix", [1, 0, 0, 1, 0, 0])]
    xs, ys = [], []
    for x, y in ((bbox[0], bbox[1]), (bbox[2], bbox[1]), (bbox[0], bbox[3]), (bbox[2], bbox[3])):
        xs.append(mat[0] * x + mat[2] * y + mat[4])
        ys.append(mat[1] * x + mat[3] * y + mat[5])
    bw, bh = max(xs) - min(xs), max(ys) - min(ys)
    rx0, ry0, rx1, ry1 = rect
    if bw <= 0 or bh <= 0 or rx1 <= rx0 or ry1 <= ry0:
        return None
    sx, sy = (rx1 - rx0) / bw, (ry1 - ry0) / bh
    m = (sx, 0, 0, sy, rx0 - sx * min(xs), ry0 - sy * min(ys))
    clone = n_raw.clone(w) if hasattr(n_raw, "idnum") else pdfapi.add_object(w, n_obj.clone(w))
    name = f"/An{index}"
    return name, clone, b"q " + st.matrix_bytes(m) + b" cm " + name.encode() + b" Do Q\n"


_PAINT = re.compile(rb"(?<![A-Za-z])(Tj|TJ|'|\"|f\*?|F|B\*?|b\*?|S|s|Do|sh|BI)(?![A-Za-z])")


def _blank(stream) -> bool:
    """An appearance that paints nothing (``/Tx BMC EMC``)."""
    try:
        return not _PAINT.search(stream.get_data())
    except Exception:  # noqa: BLE001
        return False


def _inherited(a, key):
    node, depth = a, 0
    while node is not None and depth < 20:
        if key in node:
            return node[key]
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
        depth += 1
    return None


def _value(a) -> str:
    v = _inherited(a, "/V")
    if v is None:
        return ""
    if isinstance(v, list):
        v = ", ".join(str(x) for x in v)
    s = str(v)
    return "" if s.startswith("/") else s  # a name is a button state, not text


def _widget_border(a, rect) -> bytes:
    """The field's border colour (/MK /BC), as viewers draw it for fields without an
    appearance."""
    mk = a.get("/MK")
    bc = mk.get("/BC") if mk is not None else None
    if not bc:
        return b""
    r, g, b = _rgb({"/C": bc}, default=(0, 0, 0))
    x0, y0, x1, y1 = rect
    w = _width(a) if ("/BS" in a or "/Border" in a) else 1.0
    return b"q %s w %s %s %s RG %s %s %s %s re S Q\n" % (
        st.pdf_num(w), st.pdf_num(r), st.pdf_num(g), st.pdf_num(b), st.pdf_num(x0 + w / 2), st.pdf_num(y0 + w / 2), st.pdf_num(x1 - x0 - w), st.pdf_num(y1 - y0 - w))


def _widget_value(a, rect) -> bytes:
    """A text or choice field's value written in its box (the embedded sans font, the field's colour
    and size from /DA; size 0 means "fit the box")."""
    ft = _inherited(a, "/FT")
    if ft not in ("/Tx", "/Ch"):
        return b""
    text = _value(a)
    if not text:
        return b""
    da = str(_inherited(a, "/DA") or "")
    m = re.search(r"([\d.]+)\s+Tf", da)
    size = float(m.group(1)) if m else 0.0
    x0, y0, x1, y1 = rect
    h = y1 - y0
    if size <= 0 or size > h:
        size = max(4.0, min(12.0, h * 0.75))
    color = _da_color(da)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    multiline = len(lines) > 1 or (int(_inherited(a, "/Ff") or 0) & 4096)
    out = [b"q %s %s %s %s re W n %s BT %s %s Tf" % (st.pdf_num(x0), st.pdf_num(y0), st.pdf_num(x1 - x0), st.pdf_num(h), color,
                                                    st.FONT_REGULAR.encode(), st.pdf_num(size))]
    if multiline:
        y = y1 - size - 1
        for line in lines:
            out.append(b"1 0 0 1 %s %s Tm %s Tj" % (st.pdf_num(x0 + 2), st.pdf_num(y), st.pdf_string(line)))
            y -= size * 1.15
    else:
        out.append(b"1 0 0 1 %s %s Tm %s Tj" % (st.pdf_num(x0 + 2), st.pdf_num(y0 + (h - size) / 2 + size * 0.22),
                                                st.pdf_string(lines[0])))
    out.append(b"ET Q\n")
    return b" ".join(out)


def _da_color(da: str) -> bytes:
    m = re.search(r"([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+rg", da)
    if m:
        return b"%s %s %s rg" % tuple(st.pdf_num(float(v)) for v in m.groups())
    m = re.search(r"([\d.]+)\s+g\b", da)
    if m:
        return b"%s g" % st.pdf_num(float(m.group(1)))
    return b"0 g"


def _rgb(a, default=(1.0, 0.85, 0.0)) -> tuple[float, float, float]:
    c = a.get("/C")
    try:
        c = [float(v) for v in c] if c is not None else []
    except (TypeError, ValueError):
        c = []
    if len(c) == 3:
        return tuple(c)  # type: ignore[return-value]
    if len(c) == 1:
        return (c[0], c[0], c[0])
    if len(c) == 4:
        k = c[3]
        return tuple((1 - min(1.0, v + k)) for v in c[:3])  # type: ignore[return-value]
    return default


def _width(a) -> float:
    bs = a.get("/BS")
    if bs is not None and "/W" in bs:
        return float(bs["/W"])
    border = a.get("/Border")
    if border is not None and len(border) >= 3:
        return float(border[2])
    return 1.0


def _markup(a, rect, sub) -> tuple[bytes, bool]:
    """The appearance of a markup annotation drawn from its own geometry: (content stream
    bytes, whether it needs the highlight graphics state)."""
    r, g, b = _rgb(a)
    col = b"%s %s %s" % (st.pdf_num(r), st.pdf_num(g), st.pdf_num(b))
    if sub in ("/Highlight", "/Underline", "/StrikeOut", "/Squiggly"):
        return _text_markup(a, rect, sub, col)
    draw = _MARKUP.get(sub)
    return (draw(a, rect, sub, col), False) if draw else (b"", False)


def _text_markup(a, rect, sub, col) -> tuple[bytes, bool]:
    x0, y0, x1, y1 = rect
    q = [float(v) for v in a.get("/QuadPoints") or []]
    quads = [q[i:i + 8] for i in range(0, len(q) - 7, 8)] or [[x0, y1, x1, y1, x0, y0, x1, y0]]
    out = []
    for qd in quads:
        xs, ys = qd[0::2], qd[1::2]
        qx0, qx1, qy0, qy1 = min(xs), max(xs), min(ys), max(ys)
        if sub == "/Highlight":
            out.append(b"%s %s %s %s re f" % (st.pdf_num(qx0), st.pdf_num(qy0), st.pdf_num(qx1 - qx0), st.pdf_num(qy1 - qy0)))
        else:
            y = qy0 + (qy1 - qy0) * (0.5 if sub == "/StrikeOut" else 0.08)
            out.append(b"%s %s m %s %s l S" % (st.pdf_num(qx0), st.pdf_num(y), st.pdf_num(qx1), st.pdf_num(y)))
    if sub == "/Highlight":
        return b"q " + GS_HIGHLIGHT.encode() + b" gs " + col + b" rg " + b" ".join(out) + b" Q\n", True
    return b"q 1 w " + col + b" RG " + b" ".join(out) + b" Q\n", False


def _ink(a, rect, sub, col) -> bytes:
    out = []
    for path in a.get("/InkList") or []:
        pts = [float(v) for v in path]
        if len(pts) < 4:
            continue
        seg = [b"%s %s m" % (st.pdf_num(pts[0]), st.pdf_num(pts[1]))]
        seg += [b"%s %s l" % (st.pdf_num(pts[i]), st.pdf_num(pts[i + 1])) for i in range(2, len(pts) - 1, 2)]
        out.append(b" ".join(seg) + b" S")
    lw = st.pdf_num(_width(a))
    return (b"q 1 J 1 j " + lw + b" w " + col + b" RG " + b" ".join(out) + b" Q\n") if out else b""


def _shape(a, rect, sub, col) -> bytes:
    x0, y0, x1, y1 = rect
    inset = _width(a) / 2
    rx0, ry0, rx1, ry1 = x0 + inset, y0 + inset, x1 - inset, y1 - inset
    if sub == "/Square":
        path = b"%s %s %s %s re" % (st.pdf_num(rx0), st.pdf_num(ry0), st.pdf_num(rx1 - rx0), st.pdf_num(ry1 - ry0))
    else:
        path = _ellipse(rx0, ry0, rx1, ry1)
    return b"q " + st.pdf_num(_width(a)) + b" w " + col + b" RG " + path + b" S Q\n"


def _poly(a, rect, sub, col) -> bytes:
    pts = [float(v) for v in (a.get("/L") if sub == "/Line" else a.get("/Vertices")) or []]
    if len(pts) < 4:
        return b""
    seg = [b"%s %s m" % (st.pdf_num(pts[0]), st.pdf_num(pts[1]))]
    seg += [b"%s %s l" % (st.pdf_num(pts[i]), st.pdf_num(pts[i + 1])) for i in range(2, len(pts) - 1, 2)]
    close = b" s" if sub == "/Polygon" else b" S"
    return b"q " + st.pdf_num(_width(a)) + b" w " + col + b" RG " + b" ".join(seg) + close + b" Q\n"


def _note(a, rect, sub, col) -> bytes:
    """A sticky note: a small note icon where it was placed."""
    x0, _, _, y1 = rect
    s = 12.0
    nx, ny = x0, y1 - s
    return b"q 0.5 w 0 G " + col + b" rg %s %s %s %s re B 0 g %s %s m %s %s l %s %s m %s %s l %s %s m %s %s l S Q\n" % (
        st.pdf_num(nx), st.pdf_num(ny), st.pdf_num(s), st.pdf_num(s),
        st.pdf_num(nx + 2.5), st.pdf_num(ny + 8.5), st.pdf_num(nx + 9.5), st.pdf_num(ny + 8.5),
        st.pdf_num(nx + 2.5), st.pdf_num(ny + 6), st.pdf_num(nx + 9.5), st.pdf_num(ny + 6),
        st.pdf_num(nx + 2.5), st.pdf_num(ny + 3.5), st.pdf_num(nx + 7.5), st.pdf_num(ny + 3.5))


def _free_text(a, rect, sub, col) -> bytes:
    x0, _, _, y1 = rect
    text = str(a.get("/Contents") or "")
    if not text:
        return b""
    da = str(a.get("/DA") or "")
    m = re.search(r"([\d.]+)\s+Tf", da)
    size = float(m.group(1)) if m and float(m.group(1)) > 0 else 10.0
    y = y1 - size - 1
    out = [b"q " + _da_color(da) + b" BT " + st.FONT_REGULAR.encode() + b" " + st.pdf_num(size) + b" Tf"]
    for line in text.replace("\r", "\n").split("\n"):
        out.append(b"1 0 0 1 %s %s Tm %s Tj" % (st.pdf_num(x0 + 2), st.pdf_num(y), st.pdf_string(line)))
        y -= size * 1.15
    out.append(b"ET Q\n")
    return b" ".join(out)


_MARKUP = {"/Ink": _ink, "/Square": _shape, "/Circle": _shape, "/Polygon": _poly, "/PolyLine": _poly,
           "/Line": _poly, "/Text": _note, "/FreeText": _free_text}


def _ellipse(x0, y0, x1, y1) -> bytes:
    k = 0.5523
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    n = st.pdf_num
    return b" ".join([
        b"%s %s m" % (n(cx + rx), n(cy)),
        b"%s %s %s %s %s %s c" % (n(cx + rx), n(cy + k * ry), n(cx + k * rx), n(cy + ry), n(cx), n(cy + ry)),
        b"%s %s %s %s %s %s c" % (n(cx - k * rx), n(cy + ry), n(cx - rx), n(cy + k * ry), n(cx - rx), n(cy)),
        b"%s %s %s %s %s %s c" % (n(cx - rx), n(cy - k * ry), n(cx - k * rx), n(cy - ry), n(cx), n(cy - ry)),
        b"%s %s %s %s %s %s c" % (n(cx + k * rx), n(cy - ry), n(cx + rx), n(cy - k * ry), n(cx + rx), n(cy)),
    ]) + b" h"
