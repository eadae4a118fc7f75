"""The requête en injonction de payer as a Word document, for users who adapt it before
filing (or file the Cerfa and copy from it).

Built with python-docx from the same context as the PDF requête, so both show the same
identities, figures and bases. Deterministic: the core properties carry the ``--at`` date
and every ZIP entry a fixed timestamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import re
from datetime import datetime


def _fmt():
    from dossier import fmt

    return fmt


def _identity(p, role: str) -> str:
    """Plain-text identity, the same wording as ``dossiers/_macros.html``."""
    f = _fmt()
    addr = ", ".join(p.address.as_lines())
    form = (p.legal_form or "").upper()
    if p.kind == "company" and form not in ("EI", "EIRL", "ME", ""):
        s = f"{p.name}, {p.legal_form}"
        if p.capital:
            s += f" au capital de {f.money(p.capital)}"
        if p.siren:
            s += ", immatriculée " + (f"au RCS de {p.rcs_city} " if p.rcs_city else "") + f"sous le numéro {_siren(p.siren)}"
        s += f", dont le siège social est situé {addr}"
        if role == "creditor" and p.signatory:
            s += f", représentée par {p.signatory.name}" + (f", {p.signatory.title}" if p.signatory.title else "") + ", son représentant légal"
        elif role == "debtor" and p.representative:
            s += f", prise en la personne de son représentant légal, {p.representative.name}" + (
                f", {p.representative.title}" if p.representative.title else "")
        else:
            s += ", prise en la personne de son représentant légal"
        return s
    if p.kind == "company":
        s = p.name + (f", entrepreneur individuel ({p.legal_form})" if p.legal_form else "")
        if p.siren:
            s += f", SIREN {_siren(p.siren)}" + (f" (RCS {p.rcs_city})" if p.rcs_city else "")
        return s + f", exerçant {addr}"
    return f"{p.name}, demeurant {addr}"


def _person_mentions(p) -> str:
    """CPC art. 54 and 1407 mentions of a natural-person party, blanks where unknown."""
    f = _fmt()
    s = f"Profession : {p.profession} ; " if p.profession else ""
    s += f"Nationalité : {p.nationality or '………'} ; né(e) le {f.date_long(p.birth_date) if p.birth_date else '………'}"
    s += f" à {p.birth_place or '………'}"
    if not (p.nationality and p.birth_date and p.birth_place):
        s += " (mentions requises pour une personne physique, CPC art. 54 et 1407 : à compléter)"
    return s + "."


def _siren(s: str) -> str:
    return f"{s[0:3]} {s[3:6]} {s[6:9]}" if s and len(s) == 9 else s


def requete_docx(ctx: dict) -> bytes:
    """The requête of ``ctx`` (the dossier template context) as DOCX bytes."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    f = _fmt()
    st, court, cr, de, at = ctx["statement"], ctx["court"], ctx["creditor"], ctx["debtor"], ctx["at"]
    b2b = st.regime == "b2b"
    pen_label = "Pénalités de retard" if b2b else "Intérêts au taux légal"
    doc = Document()
    _house_style(doc)

    t = doc.add_heading("Requête en injonction de payer", level=0)
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph("Articles 1405 et suivants du code de procédure civile")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph().add_run(court.addressee).bold = True
    if court.check:
        doc.add_paragraph().add_run(f"Juridiction à vérifier. {court.check}").italic = True

    doc.add_heading("Le requérant", level=1)
    doc.add_paragraph(_identity(cr, "creditor") + ".")
    if ctx.get("creditor_is_person"):
        doc.add_paragraph(_person_mentions(cr))
    doc.add_heading("Contre le débiteur", level=1)
    doc.add_paragraph(_identity(de, "debtor") + ".")

    doc.add_heading("Exposé de la créance", level=1)
    doc.add_paragraph(
        f"{cr.name} a facturé à {de.name} les prestations ou fournitures objet des factures ci-dessous, établies en "
        "exécution des documents contractuels produits (voir bordereau). Ces factures, échues, demeurent impayées en "
        "tout ou partie à la date de la présente requête. La créance est de nature contractuelle et son montant est "
        "déterminé ; elle entre dans le champ de l'article 1405 du code de procédure civile.")

    doc.add_heading("Montant de la créance et décompte", level=1)
    doc.add_heading("a) Principal restant dû", level=2)
    inv_ex = ctx.get("invoice_exhibit", {})
    rows = [("Facture", "Émise le", "Échéance", "Montant TTC", "Avoirs", "Règlements", "Reste dû")]
    for inv in st.invoices:
        ref = f"n° {inv.number}" + (f" (pièce n° {inv_ex[inv.number]})" if inv.number in inv_ex else "")
        rows.append((ref, f.date_short(inv.issued), f.date_short(inv.due_date), f.money(inv.amount),
                     f.money(inv.credited), f.money(inv.paid), f.money(inv.outstanding)))
    rows.append(("Total", "", "", f.money(st.principal), f.money(st.credited), f.money(st.paid), f.money(st.outstanding)))
    _table(doc, rows, widths=(3.5, 2.0, 2.0, 2.4, 2.0, 2.3, 2.4))

    doc.add_heading(f"b) {pen_label} arrêtés au {f.date_long(at)}", level=2)
    # each distinct basis once, as a numbered note the rate cites (as in the PDF)
    bases: list[str] = []
    rows = [("Facture", "Période", "Jours", "Base", "Taux annuel", "Montant")]
    for inv in st.invoices:
        for per in inv.periods:
            if per.basis not in bases:
                bases.append(per.basis)
            rows.append((f"n° {inv.number}", f"du {f.date_short(per.start)} au {f.date_short(per.end)}", str(per.days),
                         f.money(per.base), f"{f.rate(per.rate)} ({bases.index(per.basis) + 1})", f.money(per.amount)))
    rows.append(("Total", "", "", "", "", f.money(st.penalties)))
    _table(doc, rows, widths=(2.8, 4.4, 1.4, 2.8, 2.6, 2.6))
    if bases:
        doc.add_paragraph("Fondement des taux :")
        for k, basis in enumerate(bases, start=1):
            doc.add_paragraph(f"({k}) {basis}")
    if b2b:
        doc.add_heading("c) Indemnités forfaitaires pour frais de recouvrement", level=2)
        rows = [("Facture", "Fondement", "Montant")]
        for inv in st.invoices:
            if inv.indemnity > 0:
                rows.append((f"n° {inv.number}", "C. com. art. L441-10 II et D441-5", f.money(inv.indemnity)))
        rows.append(("Total", "", f.money(st.indemnities)))
        _table(doc, rows, widths=(3.0, 10.6, 3.0))
    doc.add_heading(("d)" if b2b else "c)") + " Récapitulatif", level=2)
    rows = [("Principal restant dû", f.money(st.outstanding)), (f"{pen_label} au {f.date_short(at)}", f.money(st.penalties))]
    if b2b:
        rows.append(("Indemnités forfaitaires pour frais de recouvrement", f.money(st.indemnities)))
    rows.append((f"Total de la créance au {f.date_short(at)}", f.money(st.total)))
    _table(doc, rows, header=False, widths=(12.6, 4.0))
    doc.add_paragraph(f"Soit {f.amount_in_words(st.total)}.")

    doc.add_heading("Fondement de chacun des éléments de la créance", level=1)
    doc.add_paragraph("Principal : obligation contractuelle de paiement du prix (C. civ. art. 1103 et 1231-1), justifiée "
                      "par les factures et documents contractuels produits.", style="List Bullet")
    for b in st.bases:
        doc.add_paragraph(b, style="List Bullet")

    doc.add_heading("Démarches amiables préalables", level=1)
    notices = ctx.get("notices") or []
    if notices:
        doc.add_paragraph("Le débiteur a été relancé à plusieurs reprises, sans succès :")
        for n in notices:
            line = n["title"]
            if n.get("received"):
                line += f", reçue le {f.date_short(n['received'])}"
            if n.get("refs"):
                line += f" ({n['refs']})"
            doc.add_paragraph(line + ".", style="List Bullet")
    else:
        doc.add_paragraph("Aucune relance n'est enregistrée au dossier.")

    doc.add_heading("Par ces motifs", level=1)
    doc.add_paragraph(f"Le requérant demande qu'il plaise à Madame, Monsieur le Président de rendre une ordonnance portant "
                      f"injonction de payer, enjoignant à {de.name} de payer à {cr.name} :")
    items = [f"la somme de {f.money(st.outstanding)} en principal ;"]
    if st.penalties > 0:
        items.append(f"la somme de {f.money(st.penalties)} au titre des {pen_label.lower()} arrêtés au {f.date_long(at)} ;")
    if st.indemnities > 0:
        items.append(f"la somme de {f.money(st.indemnities)} au titre des indemnités forfaitaires pour frais de "
                     "recouvrement (C. com. art. L441-10 et D441-5) ;")
    items.append(f"soit au total {f.money(st.total)} ({f.amount_in_words(st.total)}) ;")
    items.append(("outre les pénalités de retard au même taux" if b2b else "outre les intérêts au taux légal")
                 + f" à compter du {f.date_long(ctx['next_day'])} jusqu'à parfait paiement ;")
    items.append("ainsi que les dépens.")
    for it in items:
        doc.add_paragraph(it, style="List Bullet")

    doc.add_heading("Pièces produites", level=1)
    exhibits = ctx.get("exhibits") or []
    doc.add_paragraph(f"Les pièces justificatives sont énumérées au bordereau ci-dessous ({len(exhibits)} pièce"
                      f"{'s' if len(exhibits) > 1 else ''}).")
    rows = [("N°", "Désignation de la pièce", "Date")]
    for e in exhibits:
        rows.append((str(e.number), e.title, f.date_short(e.date) if e.date else "—"))
    _table(doc, rows, widths=(1.3, 12.5, 2.8))

    sig = doc.add_paragraph()
    sig.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    sig.add_run(f"Fait à {cr.address.city}, le {f.date_long(at)}\nPour {cr.name}")
    if cr.signatory:
        sig.add_run(f",\n{cr.signatory.name}" + (f", {cr.signatory.title}" if cr.signatory.title else ""))
    sig.add_run("\n\n\n(signature)")

    from dossier.render.docx import cap_property

    stamp = datetime(at.year, at.month, at.day)
    cp = doc.core_properties
    cp.title = cap_property(f"Requête en injonction de payer — {cr.name} c/ {de.name}")
    cp.author = cap_property(cr.name)
    cp.last_modified_by = cap_property(cr.name)
    cp.subject = cap_property(f"Dossier {ctx['case'].reference}")
    cp.created = stamp
    cp.modified = stamp
    cp.last_printed = stamp
    cp.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    from dossier.render.docx import normalize_zip

    return normalize_zip(buf.getvalue(), stamp)


FONT = "Liberation Serif"  # metric-compatible with Times New Roman where Word lacks it
FIGURE = re.compile(r"^[\d\s\u00a0.,]+(?:€|%)?$|€$|%$")


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
    doc.styles["Heading 1"].paragraph_format.space_before = Pt(12)
    doc.styles["Heading 2"].paragraph_format.space_before = Pt(8)
    doc.styles["Normal"].paragraph_format.space_after = Pt(4)


def _table(doc, rows, header: bool = True, widths: tuple[float, ...] | None = None) -> None:
    """A bordered table in 9 pt, figures right-aligned, header and total rows bold;
    ``widths`` in cm (Word reads the cell widths, LibreOffice the grid)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    if widths:
        table.autofit = False
        for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
            col.set(qn("w:w"), str(int(Cm(w).twips)))
    # row by row: table.cell(i, j) rebuilds the whole grid on each call (quadratic)
    for i, (row, trow) in enumerate(zip(rows, table.rows, strict=True)):
        bold = (header and i == 0) or (i == len(rows) - 1 and str(row[0]).startswith("Total"))
        cells = trow.cells
        for j, text in enumerate(row):
            cell = cells[j]
            if widths:
                cell.width = Cm(widths[j])
            para = cell.paragraphs[0]
            run = para.add_run(text)
            run.font.size = Pt(9)
            run.bold = bold
            if j > 0 and text and FIGURE.search(text) and not (header and i == 0):
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
