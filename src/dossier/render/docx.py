"""DOCX output with docxtpl: the same letter as the PDF, editable in a word processor.

The ``.docx`` template (``letters/letter.docx``, or ``letters/<stage>.docx`` in a user's
folder) holds the letter's frame — sender block, recipient, place and date, references,
signature, footer with "page 1/2" — as docxtpl tags, rendered with **autoescape on** (without
it "Dupont & Fils" breaks the XML or loses the "&"). The stage's content is the *same* HTML
fragment as the PDF's (``letters/<stage>.html``), converted here to Word paragraphs and
tables and inserted at the ``{{p body }}`` tag: the PDF and the DOCX cannot drift apart.

Determinism: core properties (created, modified, last printed) are set from the ``--at``
date, the revision to 1, and the zip is rewritten with fixed entry timestamps, so the same
case and date give byte-identical files.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping

from dossier.errors import TemplateError

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_WS = re.compile(r"\s+")


class _Raw(str):
    """OOXML inserted as is by Jinja (autoescape leaves objects with __html__ alone)."""

    def __html__(self) -> str:
        return str(self)


def render_docx(
    template: Path,
    context: Mapping[str, Any],
    *,
    body_html: str,
    after_html: str = "",
    at: date,
    title: str,
    author: str | None = None,
    subject: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> bytes:
    """Render ``template`` with ``context``; ``body_html`` fills the ``{{p body }}`` tag.
    ``after_html`` fills ``{{p after }}`` (content after the signature: the échéancier's
    "bon pour accord" blocks, the mise en demeure's annexed décompte). ``images`` maps an
    ``<img src>`` value to PNG bytes to embed in its place."""
    import jinja2
    from docxtpl import DocxTemplate

    try:
        tpl = DocxTemplate(str(template))
        tpl.init_docx()
    except Exception as e:  # noqa: BLE001 - python-docx raises assorted errors on bad files
        raise TemplateError(f"{template}: not a usable .docx template: {e}") from e
    body_xml = _html_to_ooxml(tpl.docx, body_html, images or {})
    after_xml = _html_to_ooxml(tpl.docx, after_html, images or {}) if after_html else ""

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    from dossier.render.templates import environment

    env.filters.update({k: v for k, v in environment().filters.items() if k in ("money", "date_long", "date_short", "rate", "words")})
    ctx = dict(context)
    ctx["body"] = _Raw(body_xml)
    ctx["after"] = _Raw(after_xml)
    try:
        tpl.render(ctx, jinja_env=env, autoescape=True)
    except jinja2.TemplateError as e:
        raise TemplateError(f"{template}: {e}") from None

    stamp = datetime(at.year, at.month, at.day)
    cp = tpl.docx.core_properties
    cp.created = stamp
    cp.modified = stamp
    cp.last_printed = stamp
    cp.revision = 1
    cp.title = cap_property(title)
    cp.author = cap_property(author or "")
    cp.last_modified_by = cap_property(author or "")
    cp.subject = cap_property(subject or "")
    cp.comments = ""
    buf = io.BytesIO()
    tpl.save(buf)
    return normalize_zip(buf.getvalue(), stamp)


#: the longest core property (title, subject, author…) Word and python-docx accept
CORE_PROPERTY_MAX = 255


def cap_property(text: str, limit: int = CORE_PROPERTY_MAX) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis: a DOCX core
    property is at most 255 characters (the full text stays in the document's body).

    >>> cap_property("Relance — factures " + ", ".join(f"F{n:04d}" for n in range(100)))[-12:]
    'F0032, F003…'
    >>> len(cap_property("x" * 20_000))
    255
    """
    one_line = " ".join(text.split())
    if len(one_line) <= limit:
        return one_line
    return one_line[: limit - 1] + "…"


def normalize_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite a zip (DOCX) with fixed timestamps and attributes, entries in their order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    when = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=when)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


# -- HTML fragment -> Word paragraphs and tables --------------------------------------------


def _html_to_ooxml(document, html: str, images: Mapping[str, bytes]) -> str:
    """Convert the stage's HTML fragment into OOXML body elements, built with python-docx
    on ``document`` (so styles and image relationships belong to it), then detached."""
    from lxml import etree
    from lxml import html as lhtml

    root = lhtml.fragment_fromstring(html or "<p></p>", create_parent="div")
    body = document.element.body
    before = list(body)  # keep the proxies alive: lxml element identity is stable only then
    seen = {id(b) for b in before}
    conv = _Converter(document, images)
    conv.block(root)
    new = [el for el in body if id(el) not in seen and not el.tag.endswith("}sectPr")]
    out = [conv.tables.get(id(el)) or etree.tostring(el, encoding="unicode") for el in new]
    for el in new:
        body.remove(el)
    # namespace declarations the template's root already makes are dropped from each
    # element: repeated on every one, they made docxtpl's final tree graft superlinear
    root_ns = {p: u for p, u in document.element.nsmap.items() if p}
    return "".join(_drop_root_ns(x, root_ns) for x in out)


_NS_DECL = re.compile(r' xmlns:([A-Za-z0-9_.-]+)="([^"]*)"')


def _drop_root_ns(xml: str, root_ns: Mapping[str, str]) -> str:
    """``xml`` without the ``xmlns:p="uri"`` of its first tag that ``root_ns`` declares."""
    end = xml.find(">")
    if end < 0:
        return xml
    head = _NS_DECL.sub(lambda m: "" if root_ns.get(m.group(1)) == m.group(2) else m.group(0), xml[:end])
    return head + xml[end:]


class _Converter:
    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "ul", "ol", "table", "section"}

    def __init__(self, document, images: Mapping[str, bytes]):
        self.doc = document
        self.images = images
        #: tables as OOXML text, keyed by the id of the empty paragraph holding their place
        #: in the body (a large table is never attached: detaching one costs seconds)
        self.tables: dict[int, str] = {}
        self._markers: list[Any] = []  # keeps the markers' proxies (and so their ids) alive

    def block(self, el, list_prefix: str | None = None) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        classes = set((el.get("class") or "").split())
        if "no-docx" in classes:
            return
        if "page-break" in classes:
            from docx.enum.text import WD_BREAK

            self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        if tag == "table":
            self.table(el)
            return
        if tag in ("ul", "ol"):
            for n, li in enumerate(el.findall("li"), start=1):
                prefix = "•\u00a0" if tag == "ul" else f"{n}.\u00a0"
                p = self.doc.add_paragraph()
                p.paragraph_format.left_indent = _mm(5)
                p.paragraph_format.first_line_indent = _mm(-4)
                p.add_run(prefix)
                self.inline(p, li, bold="strong" in classes)
            return
        if any(isinstance(c.tag, str) and c.tag in self.BLOCKS for c in el):
            # mixed container: text before/between blocks becomes paragraphs
            if (el.text or "").strip():
                p = self.doc.add_paragraph()
                p.add_run(_norm(el.text))
            for c in el:
                if isinstance(c.tag, str) and (c.tag in self.BLOCKS or c.tag == "img"):
                    if c.tag == "img":
                        self.image(self.doc.add_paragraph(), c)
                    else:
                        self.block(c)
                elif isinstance(c.tag, str):
                    p = self.doc.add_paragraph()
                    self.inline(p, c, wrap=True)
                if (c.tail or "").strip():
                    p = self.doc.add_paragraph()
                    p.add_run(_norm(c.tail))
            return
        text = _norm(el.text_content())
        if not text and el.find(".//img") is None:
            return
        p = self.doc.add_paragraph()
        bold = tag in ("h1", "h2", "h3", "h4") or "strong" in classes or "total-line" in classes
        italic = "words" in classes
        if tag in ("h1", "h2", "h3", "h4"):
            p.paragraph_format.space_before = _pt(8)
            p.paragraph_format.keep_with_next = True
        self.inline(p, el, bold=bold, italic=italic)

    def inline(self, p, el, bold=False, italic=False, wrap=False) -> None:
        """Runs for ``el``'s text and inline children (b/strong, i/em, br, img, span)."""
        def walk(node, b, i, include_tail):
            tag = node.tag if isinstance(node.tag, str) else ""
            cls = set((node.get("class") or "").split())
            nb = b or tag in ("b", "strong") or "strong" in cls
            ni = i or tag in ("i", "em") or "words" in cls
            if tag == "br":
                p.add_run().add_break()
            elif tag == "img":
                self.image(p, node)
            elif tag in ("ul", "ol", "table"):
                pass
            else:
                if node.text:
                    self._run(p, node.text, nb, ni)
                for c in node:
                    walk(c, nb, ni, True)
            if include_tail and node.tail:
                self._run(p, node.tail, b, i)

        walk(el, bold, italic, wrap)

    def _run(self, p, text: str, bold: bool, italic: bool) -> None:
        t = _WS.sub(" ", text)
        if not p.runs and not p.text:
            t = t.lstrip()
        if not t:
            return
        r = p.add_run(t)
        r.bold = bold or None
        r.italic = italic or None

    def image(self, p, img) -> None:
        data = self.images.get(img.get("src") or "")
        if data:
            p.add_run().add_picture(io.BytesIO(data), width=_mm(30))

    def table(self, el) -> None:
        """One Word table, its rows written as OOXML in a single pass and parsed once
        (a ``colspan`` becomes ``gridSpan``). python-docx's ``cell(r, c)`` and ``merge``
        rebuild the whole grid on every call, and its per-cell element API costs
        milliseconds a cell: a 1,000-invoice décompte took minutes."""
        from docx.oxml.ns import qn
        from lxml import etree

        rows = [tr for tr in el.iter("tr")]
        if not rows:
            return
        ncols = max(sum(_span(c) for c in tr if c.tag in ("td", "th")) for tr in rows)
        t = self.doc.add_table(rows=0, cols=ncols)
        try:
            t.style = "Table Grid"
        except Exception:  # noqa: BLE001 - a user template without that style
            pass
        tbl = t._tbl
        widths = [int(g.get(qn("w:w")) or 0) for g in tbl.tblGrid.gridCol_lst]
        tbl.getparent().remove(tbl)  # still empty: cheap to detach
        frame = etree.tostring(tbl, encoding="unicode")
        parts: list[str] = []
        for tr in rows:
            parts.append("<w:tr>")
            col = 0
            total = "total" in (tr.get("class") or "")
            for c in tr:
                if c.tag not in ("td", "th") or col >= ncols:
                    continue
                span = min(_span(c), ncols - col)
                cls = set((c.get("class") or "").split())
                parts.append(_tc_xml(sum(widths[col:col + span]), span, "num" in cls,
                                     _runs(c, c.tag == "th" or total or "strong" in cls)))
                col += span
            for k in range(col, ncols):  # a short row: empty cells complete the grid
                parts.append(_tc_xml(widths[k] if k < len(widths) else 0, 1, False, ""))
            parts.append("</w:tr>")
        marker = self.doc.add_paragraph()._p
        self._markers.append(marker)
        self.tables[id(marker)] = frame.replace("</w:tbl>", "".join(parts) + "</w:tbl>") if frame.endswith("</w:tbl>") else frame


_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _span(cell) -> int:
    try:
        return max(1, min(int(cell.get("colspan", 1)), 64))
    except ValueError:
        return 1


def _tc_xml(width: int, span: int, right: bool, runs: str) -> str:
    pr = f'<w:tcW w:w="{width}" w:type="dxa"/>' + (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "")
    ppr = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
    return f"<w:tc><w:tcPr>{pr}</w:tcPr><w:p>{ppr}{runs}</w:p></w:tc>"


def _runs(el, bold: bool) -> str:
    """The runs of a table cell as OOXML: text with bold (b, strong) and italic (i, em,
    class "words"), line breaks; whitespace collapsed, none leading the paragraph — as
    :meth:`_Converter.inline` does with python-docx objects."""
    from xml.sax.saxutils import escape

    out: list[str] = []
    started = False

    def run(text: str, b: bool, i: bool) -> None:
        nonlocal started
        t = _XML_INVALID.sub("", _WS.sub(" ", text))
        if not started:
            t = t.lstrip()
        if not t:
            return
        started = True
        rpr = ("<w:b/>" if b else "") + ("<w:i/>" if i else "")
        out.append(f'<w:r>{f"<w:rPr>{rpr}</w:rPr>" if rpr else ""}<w:t xml:space="preserve">{escape(t)}</w:t></w:r>')

    def walk(node, b: bool, i: bool, include_tail: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        cls = set((node.get("class") or "").split())
        nb = b or tag in ("b", "strong") or "strong" in cls
        ni = i or tag in ("i", "em") or "words" in cls
        if tag == "br":
            out.append("<w:r><w:br/></w:r>")
        elif tag not in ("ul", "ol", "table", "img"):
            if node.text:
                run(node.text, nb, ni)
            for c in node:
                walk(c, nb, ni, True)
        if include_tail and node.tail:
            run(node.tail, b, i)

    walk(el, bold, False, False)
    return "".join(out)


def _norm(s: str | None) -> str:
    return _WS.sub(" ", s or "").strip()


def _mm(x: float):
    from docx.shared import Mm

    return Mm(x)


def _pt(x: float):
    from docx.shared import Pt

    return Pt(x)
