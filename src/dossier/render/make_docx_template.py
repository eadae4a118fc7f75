"""Build the shipped ``templates/letters/letter.docx`` (docxtpl tags) with python-docx.

Run ``python -m dossier.render.make_docx_template`` after changing this file; the result is
committed. A user customises the letter by copying ``letter.docx`` into their templates
folder (as ``letters/letter.docx``, or ``letters/<stage>.docx`` for one stage) and editing
it in Word or LibreOffice, keeping the ``{{ … }}`` tags.

Variables: everything of the letter context (``creditor``, ``debtor``, ``subject``,
``reference``, ``place``, ``at``, ``lrar``, ``lrar_number``, ``attachments``…), plus
``sender_lines``, ``recipient_block`` (multi-line), ``body`` and ``after`` (the stage
content, as Word paragraphs: use them with ``{{p body }}`` and ``{{p after }}``).
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "templates" / "letters" / "letter.docx"


def _field(paragraph, instr: str) -> None:
    """Append a simple field (PAGE, NUMPAGES) to ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    paragraph._p.append(fld)


def _frame(paragraph) -> None:
    """Position ``paragraph`` absolutely on the page (w:framePr), from docxtpl variables."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    fr = OxmlElement("w:framePr")
    for attr, value in (("w:w", "{{ docx_window.w }}"), ("w:h", "{{ docx_window.h }}"), ("w:hRule", "exact"),
                        ("w:wrap", "around"), ("w:vAnchor", "page"), ("w:hAnchor", "page"),
                        ("w:x", "{{ docx_window.x }}"), ("w:y", "{{ docx_window.y }}")):
        fr.set(qn(attr), value)
    pstyle = ppr.find(qn("w:pStyle"))
    if pstyle is not None:  # schema order: pStyle, keepNext, keepLines, pageBreakBefore, framePr…
        pstyle.addnext(fr)
    else:
        ppr.insert(0, fr)
    from docx.shared import Mm

    paragraph.paragraph_format.left_indent = Mm(4)  # inner margin, as the PDF
    paragraph.paragraph_format.right_indent = Mm(2)


def build(path: Path = OUT) -> Path:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt, RGBColor

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(18), Mm(24)
    sec.left_margin, sec.right_margin = Mm(20), Mm(18)
    sec.footer_distance = Mm(10)

    normal = doc.styles["Normal"]
    normal.font.name = "Liberation Serif"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(4)
    rpr = normal.element.get_or_add_rPr()
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), "Liberation Serif")

    def para(text: str = "", *, bold=False, size=None, align=None, indent=None, before=None, after=None, color=None):
        p = doc.add_paragraph()
        if text:
            r = p.add_run(text)
            r.bold = bold or None
            if size:
                r.font.size = Pt(size)
            if color:
                r.font.color.rgb = RGBColor.from_string(color)
        if align:
            p.alignment = align
        if indent is not None:
            p.paragraph_format.left_indent = Mm(indent)
        if before is not None:
            p.paragraph_format.space_before = Mm(before)
        if after is not None:
            p.paragraph_format.space_after = Mm(after)
        return p

    # sender block
    para("{{ creditor.name }}", bold=True, size=13, after=0.5)
    para("{{ sender_lines }}", size=8.5, after=0)
    # recipient block: a paragraph frame anchored to the page, at the envelope window
    # (positions in twips, filled from the letter's window setting)
    p = para("{{ recipient_block }}", after=0)
    _frame(p)
    para("", before=42)  # room under the sender block down to the date line
    para("{{ place }}, le {{ at|date_long }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=4)
    para("{%p if lrar %}")
    para("Lettre recommandée avec accusé de réception n° {{ lrar_number or '…………………………' }}", bold=True, after=1)
    para("{%p if debtor.email %}")
    para("Copie par courriel à {{ debtor.email }}", after=1)
    para("{%p endif %}")
    para("{%p elif stage == 'dernier-avis' %}")
    para("Par courrier{{ (' et par courriel (' ~ debtor.email ~ ')') if debtor.email else '' }}", after=1)
    para("{%p endif %}")
    p = para("Réf.\u00a0: {{ reference }}", after=0.5)
    p = doc.add_paragraph()
    p.add_run("Objet\u00a0: ")
    r = p.add_run("{{ subject }}")
    r.bold = True
    p.paragraph_format.space_after = Mm(5)
    para("{{p body }}")
    para("Pour {{ creditor.name }},", indent=95, before=6, after=14)
    para("{{ creditor.person or '' }}", bold=True, indent=95, after=0)
    para("{{ creditor.person_title or '' }}", indent=95)
    para("{%p if attachments %}")
    para("Pièces jointes\u00a0:", bold=True, before=4, after=0.5, size=9)
    para("{%p for a in attachments %}")
    para("• {{ a }}", size=9, indent=4, after=0)
    para("{%p endfor %}")
    para("{%p endif %}")
    para("{{p after }}")

    # footer: legal mentions, page x/n
    footer = sec.footer.paragraphs[0]
    footer.paragraph_format.tab_stops.add_tab_stop(Mm(172), WD_TAB_ALIGNMENT.RIGHT)
    r = footer.add_run("{{ creditor.legal_line }}\t")
    r.font.size = Pt(7)
    r = footer.add_run("page ")
    r.font.size = Pt(8)
    _field(footer, "PAGE")
    r = footer.add_run("/")
    r.font.size = Pt(8)
    _field(footer, "NUMPAGES")

    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
