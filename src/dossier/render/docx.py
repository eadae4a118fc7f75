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
from dossier.render.templates import environment, sandboxed_environment

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
    french_styles(tpl.docx)  # every style in French, for the spelling checker
    body_xml = _html_to_ooxml(tpl.docx, body_html, images or {})
    after_xml = _html_to_ooxml(tpl.docx, after_html, images or {}) if after_html else ""


    env = sandboxed_environment(autoescape=True, undefined=jinja2.StrictUndefined)  # no code from a template
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


def html_into_document(document, html: str, images: Mapping[str, bytes] | None = None, *, named_styles: bool = False) -> None:
    """Append the HTML fragment ``html`` to ``document`` (python-docx) as Word paragraphs and
    tables — the same conversion as the letters'. ``named_styles``: headings take the
    "Heading 1-3" styles, list items "List Bullet", tables "Table Grid", and an element of
    class ``addressee`` or ``signature`` the paragraph style of that name when the document
    has it; paragraphs inside an element of class ``keep`` are kept with the next one."""
    from docx.oxml import parse_xml
    from lxml import html as lhtml

    root = lhtml.fragment_fromstring(html or "<p></p>", create_parent="div")
    conv = _Converter(document, images or {}, named_styles=named_styles)
    conv.block(root)
    # each table was written as OOXML text behind an empty paragraph: put it in its place
    for marker in conv._markers:
        marker.addprevious(parse_xml(conv.tables[id(marker)]))
        marker.getparent().remove(marker)


def french_styles(document) -> None:
    """Every paragraph and character style of ``document`` in French (fr-FR), for the
    spelling checker and hyphenation."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn

    for style in document.styles:
        if style.type not in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER, WD_STYLE_TYPE.TABLE):
            continue
        rpr = style.element.get_or_add_rPr()
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:val"), "fr-FR")


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
    HEADINGS = {"h1": "Title", "h2": "Heading 1", "h3": "Heading 2", "h4": "Heading 3"}
    CLASS_STYLES = {"addressee": "Destinataire", "signature": "Signature"}

    def __init__(self, document, images: Mapping[str, bytes], *, named_styles: bool = False):
        self.doc = document
        self.images = images
        self.named = named_styles
        self.keep = 0
        self.style_names = {s.name for s in document.styles} if named_styles else set()
        self.class_style: str | None = None

        #: tables as OOXML text, keyed by the id of the empty paragraph holding their place
        #: in the body (a large table is never attached: detaching one costs seconds)
        self.tables: dict[int, str] = {}
        self._markers: list[Any] = []  # keeps the markers' proxies (and so their ids) alive

    def _para(self, style: str | None = None):
        p = self.doc.add_paragraph()
        style = style or self.class_style
        if style and style in self.style_names:
            p.style = self.doc.styles[style]
        if self.keep:
            p.paragraph_format.keep_with_next = True
        return p

    def block(self, el, list_prefix: str | None = None) -> None:
        classes = set((el.get("class") or "").split())
        if "no-docx" in classes:
            return
        keep = "keep" in classes and self.named
        style = next((self.CLASS_STYLES[c] for c in classes if c in self.CLASS_STYLES), None) if self.named else None
        saved = self.class_style
        self.keep += keep
        self.class_style = style or saved
        try:
            self._block(el, classes)
        finally:
            self.keep -= keep
            self.class_style = saved

    def _block(self, el, classes: set) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if "page-break" in classes:
            from docx.enum.text import WD_BREAK

            self._para().add_run().add_break(WD_BREAK.PAGE)
        if tag == "table":
            self.table(el)
            return
        if tag in ("ul", "ol"):
            self.items(el, tag, classes)
            return
        if any(isinstance(c.tag, str) and c.tag in self.BLOCKS for c in el):
            # mixed container: text before/between blocks becomes paragraphs
            if (el.text or "").strip():
                p = self._para()
                p.add_run(_norm(el.text))
            for c in el:
                if isinstance(c.tag, str) and (c.tag in self.BLOCKS or c.tag == "img"):
                    if c.tag == "img":
                        self.image(self._para(), c)
                    else:
                        self.block(c)
                elif isinstance(c.tag, str):
                    p = self._para()
                    self.inline(p, c, wrap=True)
                if (c.tail or "").strip():
                    p = self._para()
                    p.add_run(_norm(c.tail))
            return
        text = _norm(el.text_content())
        if not text and el.find(".//img") is None:
            return
        heading = tag in self.HEADINGS
        p = self._para(self.HEADINGS[tag] if heading and self.named else None)
        bold = (heading and not self.named) or "strong" in classes or "total-line" in classes
        italic = "words" in classes
        if heading:
            if not self.named:
                p.paragraph_format.space_before = _pt(8)
            p.paragraph_format.keep_with_next = True
        self.inline(p, el, bold=bold, italic=italic)

    def items(self, el, tag: str, classes: set) -> None:
        """A list: bulleted ("List Bullet" with named styles) or numbered, indented."""
        bullets = self.named and tag == "ul" and "List Bullet" in self.style_names
        for n, li in enumerate(el.findall("li"), start=1):
            if bullets:
                p = self._para("List Bullet")
            else:
                p = self._para()
                p.paragraph_format.left_indent = _mm(5)
                p.paragraph_format.first_line_indent = _mm(-4)
                p.add_run("•\u00a0" if tag == "ul" else f"{n}.\u00a0")
            self.inline(p, li, bold="strong" in classes)

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
            # header rows repeat on every page
            thead = tr.getparent() is not None and tr.getparent().tag == "thead"
            parts.append("<w:tr><w:trPr><w:tblHeader/></w:trPr>" if thead else "<w:tr>")
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
