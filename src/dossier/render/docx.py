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

    from dossier.render.templates import environment, sandboxed_environment

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
    cp.title = title
    cp.author = author or ""
    cp.last_modified_by = author or ""
    cp.subject = subject or ""
    cp.comments = ""
    buf = io.BytesIO()
    tpl.save(buf)
    return normalize_zip(buf.getvalue(), stamp)


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
    _Converter(document, images).block(root)
    new = [el for el in body if not any(el is b for b in before) and not el.tag.endswith("}sectPr")]
    for el in new:
        body.remove(el)
    return "".join(etree.tostring(el, encoding="unicode") for el in new)


class _Converter:
    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "ul", "ol", "table", "section"}

    def __init__(self, document, images: Mapping[str, bytes]):
        self.doc = document
        self.images = images

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
        rows = [tr for tr in el.iter("tr")]
        if not rows:
            return
        ncols = max(sum(int(c.get("colspan", 1)) for c in tr if c.tag in ("td", "th")) for tr in rows)
        t = self.doc.add_table(rows=len(rows), cols=ncols)
        try:
            t.style = "Table Grid"
        except Exception:  # noqa: BLE001 - a user template without that style
            pass
        for r, tr in enumerate(rows):
            col = 0
            total = "total" in (tr.get("class") or "")
            for c in tr:
                if c.tag not in ("td", "th"):
                    continue
                span = int(c.get("colspan", 1))
                cell = t.cell(r, col)
                if span > 1:
                    cell = cell.merge(t.cell(r, col + span - 1))
                p = cell.paragraphs[0]
                cls = set((c.get("class") or "").split())
                if "num" in cls:
                    from docx.enum.text import WD_ALIGN_PARAGRAPH

                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                self.inline(p, c, bold=c.tag == "th" or total or "strong" in cls)
                col += span


def _norm(s: str | None) -> str:
    return _WS.sub(" ", s or "").strip()


def _mm(x: float):
    from docx.shared import Mm

    return Mm(x)


def _pt(x: float):
    from docx.shared import Pt

    return Pt(x)
