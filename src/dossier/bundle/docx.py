"""The requête en injonction de payer as a Word document, for users who adapt it before
filing (or file the Cerfa and copy from it).

Made from the same template as the PDF requête (``dossiers/requete.html``, rendered with
``docx`` true so that it also carries the bordereau as a table), converted by the letters'
HTML→DOCX path (:func:`dossier.render.docx.html_into_document`): one wording of the parties'
identities, figures and bases, in both files. Named styles (headings, "Destinataire",
"Signature", "List Bullet", "Table Grid"), French on every style, page numbers in the footer,
headings and the closing block kept with what follows. Linear in the number of invoices and
exhibits. Deterministic: the core properties carry the ``--at`` date and every ZIP entry a
fixed timestamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from datetime import datetime

from dossier.render.docx import cap_property, french_styles, html_into_document, normalize_zip
from dossier.render.templates import render


def requete_docx(ctx: dict) -> bytes:
    """The requête of ``ctx`` (the dossier template context) as DOCX bytes."""
    return application_docx(ctx, "court")


def application_docx(ctx: dict, purpose: str = "court") -> bytes:
    """The requête (``court``) or the letter to the commissaire de justice (``bailiff``,
    ``dossiers/petites-creances.html``) of ``ctx`` as DOCX bytes."""
    from docx import Document


    case, at, cr, de = ctx["case"], ctx["at"], ctx["creditor"], ctx["debtor"]
    name = "dossiers/requete.html" if purpose == "court" else "dossiers/petites-creances.html"
    html = render(name, {**ctx, "docx": True}, [case.templates] if case.templates else ())
    doc = Document()
    _house_style(doc)
    html_into_document(doc, html, named_styles=True)
    _footer_page_numbers(doc)
    french_styles(doc)


    stamp = datetime(at.year, at.month, at.day)
    cp = doc.core_properties
    what = "Requête en injonction de payer" if purpose == "court" else "Procédure simplifiée de recouvrement des petites créances"
    cp.title = cap_property(f"{what} — {cr.name} c/ {de.name}")
    cp.author = cap_property(cr.name)
    cp.last_modified_by = cap_property(cr.name)
    cp.subject = cap_property(f"Dossier {case.reference}")
    cp.created = stamp
    cp.modified = stamp
    cp.last_printed = stamp
    cp.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return normalize_zip(buf.getvalue(), stamp)


def _footer_page_numbers(doc) -> None:
    """"page N / M" centred in the footer of every section (PAGE and NUMPAGES fields)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for section in doc.sections:
        p = section.footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run("page ")
        for n, instr in enumerate(("PAGE", "NUMPAGES")):
            if n:
                p.add_run(" / ")
            fld = OxmlElement("w:fldSimple")
            fld.set(qn("w:instr"), instr)
            r = OxmlElement("w:r")
            t = OxmlElement("w:t")
            t.text = "1"
            r.append(t)
            fld.append(r)
            p._p.append(fld)


FONT = "Liberation Serif"  # metric-compatible with Times New Roman where Word lacks it


def _house_style(doc) -> None:
    """A4, 2 cm margins, one serif font named explicitly (no theme fonts), black
    headings, French language for the spelling checker."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    for section in doc.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    sizes = {"Normal": 10.5, "Title": 16, "Heading 1": 11.5, "Heading 2": 10.5, "List Bullet": 10.5}
    for name, size in sizes.items():
        style = doc.styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            if fonts is not None and fonts.get(qn(attr)) is not None:
                del fonts.attrib[qn(attr)]
        if fonts is not None:
            fonts.set(qn("w:cs"), FONT)
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        lang.set(qn("w:val"), "fr-FR")
        if name != "Normal":
            style.font.bold = name != "List Bullet"
            style.font.italic = False
    title = doc.styles["Title"]
    ppr = title.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))  # the default template underlines titles in blue
    if border is not None:
        ppr.remove(border)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    from docx.enum.style import WD_STYLE_TYPE

    for name, bold, align in (("Destinataire", True, WD_ALIGN_PARAGRAPH.LEFT), ("Signature", False, WD_ALIGN_PARAGRAPH.LEFT)):
        if name not in [st.name for st in doc.styles]:
            st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            st.base_style = doc.styles["Normal"]
            st.font.bold = bold
            st.paragraph_format.alignment = align
            st.paragraph_format.keep_with_next = True
            if name == "Signature":
                st.paragraph_format.left_indent = Cm(9)
    doc.styles["Heading 1"].paragraph_format.space_before = Pt(12)
    doc.styles["Heading 2"].paragraph_format.space_before = Pt(8)
    doc.styles["Normal"].paragraph_format.space_after = Pt(4)
