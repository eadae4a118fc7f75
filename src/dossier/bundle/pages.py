"""Dossier pages in the PDF writer: each page a fresh sheet onto which a front-matter or
exhibit page is drawn as a form XObject (or a scan as an image), then stamped.

Drawing the source page as an XObject, rather than merging its content into another
page, keeps its content stream untouched (copied encoded, never parsed), folds its
``/Rotate`` and crop box into one matrix (see :mod:`dossier.bundle.stamp`), and leaves no
way for its graphics state to leak into the stamps. Resources are cloned once per source
file, so fonts and images shared by an exhibit's pages are stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dossier.bundle import stamp as st
from dossier.bundle.annotations import GS_HIGHLIGHT, flatten
from dossier.bundle.exhibits import LoadedExhibit
from dossier.errors import EvidenceError
from dossier.render import pdfapi
from dossier.render.winansi import add_font_resources


def stamp_fonts(w):
    """The /Font resource dictionary of the stamps and of the pages dossier draws itself
    (embedded WinAnsi Liberation Sans, Sans Bold and Serif), added to ``w`` once and
    shared by every page."""

    return add_font_resources(w)


@dataclass
class Placed:
    """A dossier page in the writer whose content stream is written once its page number
    is known (:meth:`finish`): exhibits are placed and stamped before the front matter's
    length — hence their page numbers — is."""

    page: Any
    sheet: tuple[float, float]
    ops: bytes

    def finish(self, w, n: int, total: int, footer: str = "") -> None:
        set_content(w, self.page, self.ops + st.page_number(self.sheet, n, total, footer))


def place_exhibit(w, ex: LoadedExhibit, number: int, fonts_ref, header: str = "") -> list[Placed]:
    """Add the pages of exhibit ``number`` to writer ``w``, normalised and stamped "Pièce
    n° X — p. y/z" (the dossier page numbers come later, :meth:`Placed.finish`). Any
    failure to copy a page is an :class:`EvidenceError` naming the exhibit."""
    placed = []
    k = len(ex.pages)
    for i, sp in enumerate(ex.pages, start=1):
        try:
            if sp.image is not None:
                placed.append(_place_image(w, sp.image, fonts_ref, (number, i, k), header))
            else:
                placed.append(place_page(w, sp.page, fonts_ref, fit=True, exhibit=(number, i, k), header=header))
        except Exception as e:  # noqa: BLE001 - a damaged object deep in the file
            raise EvidenceError(
                f"{ex.spec.where()}: page {i} cannot be copied into the dossier ({type(e).__name__}: {e}); "
                "print the document to a new PDF and use that"
            ) from None
    return placed


def num(v: float):
    from pypdf.generic import FloatObject

    return FloatObject(round(float(v), 3))


def _box(page) -> tuple[float, float, float, float]:
    box = page.cropbox
    x0, y0, x1, y1 = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    if x1 - x0 <= 1 or y1 - y0 <= 1:
        box = page.mediabox
        x0, y0, x1, y1 = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def place_page(w, src, fonts_ref, *, fit, exhibit=None, header="", index=None) -> Placed:
    """A new sheet with ``src`` drawn on it (as a form XObject), its annotations with an
    appearance flattened into it, and the exhibit stamp; at the end of the document or at
    page ``index`` (0-based)."""
    from pypdf.generic import DictionaryObject, NameObject

    box = _box(src)
    rotate = int(src.get("/Rotate", 0) or 0)
    pl = st.place(box, rotate, fit=fit)
    xobjects = DictionaryObject()
    xobjects[NameObject("/Pg")] = _form_xobject(w, src, box)
    ops = [b"q " + st.matrix_bytes(pl.matrix) + b" cm /Pg Do"]
    uses_gs = False
    if fit and "/Annots" in src:  # exhibits: what the sender saw, burnt in

        marks, drawing, uses_gs = flatten(w, src, True)
        for name, ref in marks:
            xobjects[NameObject(name)] = ref
        if drawing:
            ops.append(drawing)
    ops.append(b"Q\n")
    if fit:
        ops.append(st.frame(pl.frame))
    if exhibit is not None:
        ops.append(st.exhibit_stamp(pl.sheet, *exhibit, header=header))
    page = new_page(w, pl.sheet, xobjects, fonts_ref, None, highlight=uses_gs, index=index)
    return Placed(page, pl.sheet, b"\n".join(ops))


def _place_image(w, img, fonts_ref, exhibit, header) -> Placed:
    from pypdf.generic import DictionaryObject, NameObject

    pl = st.place((0, 0, img.natural_size[0], img.natural_size[1]), 0, fit=True)
    x0, y0, x1, y1 = pl.frame
    xobjects = DictionaryObject({NameObject("/Im"): _image_xobject(w, img)})
    ops = [
        b"q %s 0 0 %s %s %s cm /Im Do Q\n" % (st.pdf_num(x1 - x0), st.pdf_num(y1 - y0), st.pdf_num(x0), st.pdf_num(y0)),
        st.frame(pl.frame),
        st.exhibit_stamp(pl.sheet, *exhibit, header=header),
    ]
    return Placed(new_page(w, pl.sheet, xobjects, fonts_ref, None), pl.sheet, b"".join(ops))


def new_page(w, sheet, xobjects, fonts_ref, content: bytes | None, highlight: bool = False, index: int | None = None):
    """A blank page with the dossier's resources, appended (or inserted at ``index``), with
    ``content`` as its content stream unless None (then :func:`set_content` later)."""
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject

    if index is None:
        page = w.add_blank_page(round(sheet[0], 3), round(sheet[1], 3))
    else:  # (PdfWriter.insert_blank_page returns the page before it is cloned into the tree)
        from pypdf import PageObject

        page = w.insert_page(PageObject.create_blank_page(w, round(sheet[0], 3), round(sheet[1], 3)), index)
    resources = DictionaryObject({
        NameObject("/Font"): fonts_ref,
        NameObject("/XObject"): xobjects,
        NameObject("/ProcSet"): ArrayObject([NameObject("/PDF"), NameObject("/Text"), NameObject("/ImageB"),
                                             NameObject("/ImageC")]),
    })
    if highlight:

        resources[NameObject("/ExtGState")] = DictionaryObject({NameObject(GS_HIGHLIGHT): DictionaryObject({
            NameObject("/Type"): NameObject("/ExtGState"), NameObject("/ca"): FloatObject(0.4),
            NameObject("/CA"): FloatObject(0.4), NameObject("/BM"): NameObject("/Multiply")})})
    page[NameObject("/Resources")] = resources
    if content is not None:
        set_content(w, page, content)
    return page


def set_content(w, page, content: bytes) -> None:
    from pypdf.generic import DecodedStreamObject, NameObject

    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = pdfapi.add_object(w, stream.flate_encode())


def _form_xobject(w, src, box):
    """``src`` as a form XObject in ``w``: its content stream (kept encoded when it is one
    stream), its resources (cloned once per source file), its crop box as /BBox."""
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        EncodedStreamObject,
        NameObject,
    )

    raw = src.raw_get("/Contents") if "/Contents" in src else None
    obj = raw.get_object() if raw is not None else None
    if isinstance(obj, EncodedStreamObject):
        xo = EncodedStreamObject()
        pdfapi.set_raw_data(xo, pdfapi.raw_data(obj))
        for key in ("/Filter", "/DecodeParms"):
            if key in obj:
                xo[NameObject(key)] = obj[key].clone(w)
    else:
        contents = src.get_contents()
        data = contents.get_data() if contents is not None else b""
        plain = DecodedStreamObject()
        plain.set_data(data)
        xo = plain.flate_encode()
    xo[NameObject("/Type")] = NameObject("/XObject")
    xo[NameObject("/Subtype")] = NameObject("/Form")
    xo[NameObject("/BBox")] = ArrayObject(num(v) for v in box)
    if "/Resources" in src:
        xo[NameObject("/Resources")] = src.raw_get("/Resources").clone(w)
    else:
        xo[NameObject("/Resources")] = DictionaryObject()
    if "/Group" in src:
        xo[NameObject("/Group")] = src.raw_get("/Group").clone(w)
    return pdfapi.add_object(w, xo)


def _image_xobject(w, img):
    from pypdf.generic import EncodedStreamObject, NameObject, NumberObject

    xo = EncodedStreamObject()
    pdfapi.set_raw_data(xo, img.data)
    xo[NameObject("/Type")] = NameObject("/XObject")
    xo[NameObject("/Subtype")] = NameObject("/Image")
    xo[NameObject("/Width")] = NumberObject(img.width)
    xo[NameObject("/Height")] = NumberObject(img.height)
    xo[NameObject("/ColorSpace")] = NameObject(img.colorspace)
    xo[NameObject("/BitsPerComponent")] = NumberObject(img.bits)
    xo[NameObject("/Filter")] = NameObject(img.filter)
    return pdfapi.add_object(w, xo)
