"""The escalation letters, read back: text extracted from the PDFs and DOCX, figures equal
to the décompte, the recipient inside the envelope window, byte-identical renders."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossier import fmt
from dossier.errors import DossierError
from dossier.law.penalties import compute_statement
from dossier.letters import LetterOptions, Window, render_stage, write_all_stages
from dossier.model import (
    Address,
    Case,
    Invoice,
    Notice,
    Party,
    Payment,
    Terms,
)

from helpers import (  # noqa: F401
    AT,
    MM,
    STAGES,
    docx_text,
    make_case,
    pdf_text,
    state_of,  # noqa: E402
)
from helpers import squash as _norm


@pytest.fixture
def case(tmp_path):
    return make_case(tmp_path / "case")


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_renders_with_the_decompte_figures(case, rates, stage):
    st = compute_statement(case, AT, rates)
    r = render_stage(state_of(case, AT, rates), stage)
    assert set(r.files) >= {f"{stage}.pdf", f"{stage}.docx", f"{stage}.eml"}
    pdf = _norm(pdf_text(r.files[f"{stage}.pdf"]))
    docx = _norm(docx_text(r.files[f"{stage}.docx"]))
    for text in (pdf, docx):
        # HTML special characters render literally (autoescape in Jinja2 and docxtpl)
        assert "Dupont & Fils <Père>" in text
        assert "AM-2026-014" in text
        if stage != "echeancier":
            assert _norm(fmt.money(st.invoices[0].outstanding)) in text
    if stage in ("dernier-avis", "mise-en-demeure"):
        for text in (pdf, docx):
            assert _norm(fmt.money(st.total)) in text
            assert _norm(fmt.money(st.indemnities)) in text
            assert fmt.amount_in_words(st.total) in text
            for inv in st.invoices:
                assert _norm(fmt.money(inv.penalties)) in text and _norm(fmt.money(inv.indemnity)) in text
    if stage == "mise-en-demeure":
        for text in (pdf, docx):
            assert "mise en demeure" in text.lower()
            assert "1344" in text
            assert fmt.amount_in_words(st.total) in text
            for inv in st.invoices:
                assert _norm(fmt.money(inv.penalties)) in text
                assert _norm(fmt.money(inv.indemnity)) in text
                for p in inv.periods:
                    assert _norm(fmt.rate(p.rate)) in text
            assert "L441-10" in text and "D441-5" in text
            assert "injonction de payer" in text


def test_letter_frame_sender_mentions_date_refs_lrar_signature(case, rates):
    r = render_stage(state_of(case, AT, rates), "mise-en-demeure", options=LetterOptions(lrar_number="1A 123 456 7890 1"))
    text = _norm(pdf_text(r.files["mise-en-demeure.pdf"]))
    for needle in ("SARL au capital de 10 000 €", "RCS Lyon 732 829 320", "SIRET 73282932000017", "FR44732829320",
                   "Lyon, le 15 juin 2026", "Réf. :", "Objet :",
                   "Lettre recommandée avec accusé de réception n° 1A 123 456 7890 1",
                   "Claire Martin", "Gérante", "page 1/", "Pièces jointes"):
        assert needle in text, needle
    # deadline: 8 days from receipt of the letter (the ladder counts from receipt too)
    assert "dans un délai de huit jours à compter de la réception de la présente" in text


def test_deadline_moves_off_public_holiday(case, rates):
    at = date(2026, 4, 30)  # + 8 days = Friday 8 May (Victoire 1945), then the weekend
    r = render_stage(state_of(case, at, rates), "dernier-avis", formats=("pdf",))
    text = _norm(pdf_text(r.files["dernier-avis.pdf"]))
    assert "au plus tard le 11 mai 2026" in text
    r = render_stage(state_of(case, at, rates), "mise-en-demeure", formats=("pdf",))
    text = _norm(pdf_text(r.files["mise-en-demeure.pdf"]))
    # F2026-021 is not due yet: left out of the claim, and said so
    assert "F2026-021" in text and "non encore échue" in text


def _glyph_boxes(pdf: bytes, page: int = 0):
    """(text, x, y) of every text show operation on a page, y from the page's bottom."""
    reader = PdfReader(io.BytesIO(pdf))
    out = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            # position = text matrix transformed by the CTM
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            out.append((text.strip(), x, y, size * abs(tm[3] * cm[3] or 1)))

    reader.pages[page].extract_text(visitor_text=visit)
    return out


@pytest.mark.parametrize("window, six_lines", [(Window(), False), (Window(top=45, left=100, width=90, height=40), False),
                                                (Window(), True)])
def test_recipient_lies_inside_the_envelope_window(case, rates, window, six_lines):
    from dossier.letters.context import recipient_lines

    if six_lines:  # the longest postal block: name, attention, three street lines, city
        case = dataclasses.replace(case, debtor=dataclasses.replace(
            case.debtor, address=Address(("Zone artisanale des Glières", "Bâtiment C, 2e étage", "12 rue des Alpes"), "38000", "Grenoble")))
        assert len(recipient_lines(case)) == 6
    r = render_stage(state_of(case, AT, rates), "mise-en-demeure", options=LetterOptions(window=window), formats=("pdf",))
    boxes = _glyph_boxes(r.files["mise-en-demeure.pdf"])
    page_h = 297 * MM
    left, right = window.left * MM, (window.left + window.width) * MM
    top, bottom = page_h - window.top * MM, page_h - (window.top + window.height) * MM
    lines = recipient_lines(case)
    assert lines[0].startswith("Dupont & Fils <Père>") and lines[-1] == "38000 GRENOBLE"
    # the registered-letter mention fits in the window only for short blocks
    assert any(b[0] == "Lettre recommandée avec AR" for b in boxes) == (len(lines) <= 4)
    found = 0
    for line in lines:
        hits = [b for b in boxes if b[0] == line]
        assert hits, f"{line!r} not found as one text run"
        for text, x, y, size in hits:
            assert left <= x and x + 0.5 * size * len(text) * 0.55 <= right + 1, (line, x)
            # baseline and cap height inside the frame
            assert bottom <= y and y + size <= top, (line, y, bottom, top)
            found += 1
    assert found == len(lines)


def test_pdf_docx_eml_are_byte_identical_across_renders(case, rates):
    a = render_stage(state_of(case, AT, rates), "mise-en-demeure")
    b = render_stage(state_of(case, AT, rates), "mise-en-demeure")
    assert a.files == b.files
    c = render_stage(state_of(case, date(2026, 6, 16), rates), "mise-en-demeure")
    assert c.files["mise-en-demeure.pdf"] != a.files["mise-en-demeure.pdf"]
    # DOCX: core properties and zip timestamps come from --at
    z = zipfile.ZipFile(io.BytesIO(a.files["mise-en-demeure.docx"]))
    assert {i.date_time for i in z.infolist()} == {(2026, 6, 15, 0, 0, 0)}
    core = z.read("docProps/core.xml").decode()
    assert "2026-06-15T00:00:00Z" in core


def test_tone_first_late_payment_versus_chronic(tmp_path, rates):
    first = make_case(tmp_path / "a")
    text = _norm(pdf_text(render_stage(state_of(first, AT, rates), "relance-1", formats=("pdf",)).files["relance-1.pdf"]))
    assert "simple oubli" in text and "pas le premier retard" not in text
    assert "ne pas tenir compte" in text  # disregard it if payment has left
    broken = (Notice("relance-2", date(2026, 5, 20), "phone", promised_date=date(2026, 5, 30)),)
    chronic = make_case(tmp_path / "b", notices=broken)
    text = _norm(pdf_text(render_stage(state_of(chronic, AT, rates), "relance-1", formats=("pdf",)).files["relance-1.pdf"]))
    assert "pas le premier retard" in text and "engagement de paiement n’a pas été tenu" in text
    assert "simple oubli" not in text


def test_consumer_mise_en_demeure_has_legal_interest_and_no_indemnity(tmp_path, rates):
    c = make_case(tmp_path / "c", consumer=True, debtor_name="Mme Léa Durand")
    st = compute_statement(c, AT, rates)
    assert st.indemnities == 0
    text = _norm(pdf_text(render_stage(state_of(c, AT, rates), "mise-en-demeure", formats=("pdf",)).files["mise-en-demeure.pdf"]))
    assert "1231-6" in text and "taux légal" in text
    assert "40 €" not in text and "Indemnité forfaitaire" not in text
    assert fmt.amount_in_words(st.total) in text


def test_echeancier_schedule_clause_and_signature_blocks(case, rates):
    st = compute_statement(case, AT, rates)
    opts = LetterOptions(instalments=4, first_instalment=date(2026, 7, 31), plan_rate=D("4.5"))
    r = render_stage(state_of(case, AT, rates), "echeancier", options=opts)
    ctx = r.context
    sched = ctx["schedule"]
    assert len(sched) == 4 and sum(i.principal for i in sched) == ctx["plan_balance"] == st.total
    assert [i.due for i in sched] == [date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31)]
    for text in (_norm(pdf_text(r.files["echeancier.pdf"])), _norm(docx_text(r.files["echeancier.docx"]))):
        assert "Déchéance du terme" in text
        assert "Bon pour accord" in text
        assert _norm(fmt.money(sched[0].amount)) in text
        assert _norm(fmt.money(st.total)) in text


def test_relance_2_comes_with_a_phone_call_sheet(case, rates):
    r = render_stage(state_of(case, AT, rates), "relance-2", formats=("pdf",))
    sheet = _norm(pdf_text(r.files["relance-2-fiche-appel.pdf"]))
    assert "Fiche d’appel" in sheet and "Date de paiement promise" in sheet and "04 76 00 00 00" in sheet
    assert len(PdfReader(io.BytesIO(r.files["relance-2-fiche-appel.pdf"])).pages) == 1


def test_payment_block_iban_qr_link(case, rates):
    st = compute_statement(case, AT, rates)
    r = render_stage(state_of(case, AT, rates), "relance-1", formats=("pdf",))
    text = _norm(pdf_text(r.files["relance-1.pdf"]))
    assert "FR76 3000 6000 0112 3456 7890 189" in text and "AGRIFRPP" in text and "https://pay.example/abc" in text
    pay = r.context["payment"]
    assert pay.amount == st.outstanding and pay.qr_png.startswith(b"\x89PNG")
    # the EPC payload carries IBAN, amount and reference: same image as a code made from it
    import io as _io

    import segno.helpers

    qr = segno.helpers.make_epc_qr(name="Atelier Martin", iban="FR7630006000011234567890189", amount=pay.amount,
                                   text=pay.remittance, bic="AGRIFRPP")
    buf = _io.BytesIO()
    qr.save(buf, kind="png", scale=10, border=2)
    assert pay.qr_png == buf.getvalue()
    assert pay.remittance == "AM-2026-014 F2026-014 F2026-021"
    # and the QR image is in the PDF
    page = PdfReader(io.BytesIO(r.files["relance-1.pdf"])).pages[0]
    assert any(True for _ in page.images) or len(PdfReader(io.BytesIO(r.files["relance-1.pdf"])).pages[1].images) == 1


def test_user_templates_override_a_stage(case, rates, tmp_path):
    mine = tmp_path / "mine" / "letters"
    mine.mkdir(parents=True)
    (mine / "relance-1.html").write_text("<p>Texte maison pour {{ debtor.name }} : {{ claim.outstanding|money }}</p>", encoding="utf-8")
    st = compute_statement(case, AT, rates)
    r = render_stage(state_of(case, AT, rates), "relance-1", options=LetterOptions(templates=(str(tmp_path / "mine"),)), formats=("pdf", "docx"))
    text = _norm(pdf_text(r.files["relance-1.pdf"]))
    assert "Texte maison pour Dupont & Fils <Père> : " + _norm(fmt.money(st.outstanding)) in text
    assert "Atelier Martin" in text  # the shipped frame is still used
    assert "Texte maison" in docx_text(r.files["relance-1.docx"])


def test_portfolio_templates_folder(tmp_path, rates):
    """A templates/ folder next to the case folders applies to every case of the portfolio;
    the case's own setting and --templates come first."""
    c = make_case(tmp_path / "portfolio" / "case-1")
    shared = tmp_path / "portfolio" / "templates" / "letters"
    shared.mkdir(parents=True)
    (shared / "relance-1.html").write_text("<p>Modèle du portefeuille</p>", encoding="utf-8")
    text = _norm(pdf_text(render_stage(state_of(c, AT, rates), "relance-1", formats=("pdf",)).files["relance-1.pdf"]))
    assert "Modèle du portefeuille" in text
    own = tmp_path / "portfolio" / "own" / "letters"  # inside the portfolio folder
    own.mkdir(parents=True)
    (own / "relance-1.html").write_text("<p>Modèle du dossier</p>", encoding="utf-8")
    c2 = dataclasses.replace(c, templates=tmp_path / "portfolio" / "own")
    text = _norm(pdf_text(render_stage(state_of(c2, AT, rates), "relance-1", formats=("pdf",)).files["relance-1.pdf"]))
    assert "Modèle du dossier" in text and "portefeuille" not in text


def test_nothing_overdue_is_refused(tmp_path, rates):
    c = make_case(tmp_path / "p", payments=(Payment(date(2026, 4, 1), D("4800.00"), "F2026-014"),
                                             Payment(date(2026, 5, 10), D("1234.56"), "F2026-021")))
    with pytest.raises(DossierError, match="nothing to claim"):
        render_stage(state_of(c, AT, rates), "relance-1")


def test_write_all_stages(case, rates, tmp_path):
    paths = write_all_stages(state_of(case, AT, rates), tmp_path / "out")
    names = {p.name for p in paths}
    for s in STAGES:
        assert {f"{s}.pdf", f"{s}.docx", f"{s}.eml"} <= names
    assert "relance-2-fiche-appel.pdf" in names
    assert not (case.root / "journal.jsonl").exists()


def test_samples_letters_carry_compute_figures(rates):
    """The sample cases at the demo date: the mise en demeure shows `dossier compute`'s total."""
    from dossier.casefile import load_case

    root = Path(__file__).resolve().parent.parent / "samples"
    done = 0
    for folder in sorted(p for p in root.iterdir() if (p / "case.yaml").is_file()):
        c = load_case(folder, AT)
        st = compute_statement(c, AT, rates)
        r = render_stage(state_of(c, AT, rates), "mise-en-demeure", formats=("pdf",))
        text = _norm(pdf_text(r.files["mise-en-demeure.pdf"]))
        claim = r.context["claim"]
        assert _norm(fmt.money(claim.total)) in text
        assert fmt.amount_in_words(claim.total) in text
        if claim.complete:
            assert claim.total == st.total
        done += 1
    assert done >= 1


def test_byte_identical_across_processes(tmp_path, rates):
    """Hash randomisation differs per process: the files must not depend on it."""
    import hashlib
    import os
    import subprocess
    import sys

    case = make_case(tmp_path / "x")
    r = render_stage(state_of(case, AT, rates), "mise-en-demeure")
    here = {n: hashlib.sha256(d).hexdigest() for n, d in r.files.items()}
    script = (
        "import sys, hashlib, json; from pathlib import Path; sys.path.insert(0, sys.argv[2]);"
        "from helpers import make_case, state_of; from dossier.letters import render_stage;"
        "c = make_case(Path(sys.argv[1])); r = render_stage(state_of(c), 'mise-en-demeure');"
        "print(json.dumps({n: hashlib.sha256(d).hexdigest() for n, d in r.files.items()}))"
    )
    import json

    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "x"), str(Path(__file__).parent)],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        assert json.loads(out) == here


def test_echeancier_marked_sent_journals_its_schedule(case, rates):
    from dossier import journal
    from dossier.letters import write_stage

    opts = LetterOptions(instalments=2, first_instalment=date(2026, 6, 30))
    w = write_stage(state_of(case, AT, rates), "echeancier", formats=("pdf",), options=opts, mark_sent=True)
    (e,) = journal.read_journal(case)
    assert (e.status, e.channel) == ("sent", "letter")
    assert [d for d, _ in e.schedule] == [date(2026, 6, 30), date(2026, 7, 31)]
    assert sum(D(a) for _, a in e.schedule) == D(e.amount)
    assert w.paths == (case.root / "out" / "echeancier.pdf",)


def test_case_envelope_window_is_used_unless_the_option_names_one(case, rates):
    """``envelope_window:`` in case.yaml places the recipient; LetterOptions.window (the
    --window flag) wins over it."""
    from dossier.letters.context import recipient_lines

    mine = dataclasses.replace(case, envelope_window=(40.0, 20.0, 90.0, 35.0))
    first = recipient_lines(case)[0]

    def x_y(c, options):
        r = render_stage(state_of(c, AT, rates), "relance-1", options=options, formats=("pdf",))
        (hit,) = [b for b in _glyph_boxes(r.files["relance-1.pdf"]) if b[0] == first]
        return hit[1] / MM, 297 - hit[2] / MM

    x, y = x_y(mine, LetterOptions())
    assert 20 <= x <= 25 and 40 < y < 75, (x, y)  # the left-hand window of the case
    x, y = x_y(mine, LetterOptions(window=Window()))
    assert 110 <= x <= 115 and 55 < y < 88, (x, y)  # the flag wins
    x, y = x_y(case, LetterOptions())
    assert 110 <= x <= 115, x  # no setting: the DL default


@pytest.mark.parametrize("window", [Window(), Window(top=45, left=100, width=90, height=40)])
def test_docx_recipient_in_a_page_anchored_frame_at_the_window(case, rates, window):
    import re

    r = render_stage(state_of(case, AT, rates), "relance-1", formats=("docx",),
                     options=LetterOptions(window=window))
    xml = zipfile.ZipFile(io.BytesIO(r.files["relance-1.docx"])).read("word/document.xml").decode()
    frame = re.search(r"<w:framePr ([^>]*)/>", xml).group(1)
    attrs = dict(re.findall(r'w:(\w+)="([^"]*)"', frame))
    tw = lambda mm: round(mm * 1440 / 25.4)  # noqa: E731
    assert attrs["hAnchor"] == attrs["vAnchor"] == "page"
    assert int(attrs["x"]) == tw(window.left) and int(attrs["y"]) == tw(window.top + 3)
    assert int(attrs["w"]) == tw(window.width) and int(attrs["h"]) == tw(window.height - 3)
    # the framed paragraph is the recipient block (escaped, so "&" and "<" survive)
    para = xml[xml.index("<w:framePr"):]
    para = para[: para.index("</w:p>")]
    assert "Dupont &amp; Fils &lt;Père&gt;" in para and "38000 GRENOBLE" in para


@pytest.mark.parametrize("stage", STAGES)
def test_minimal_case_every_stage_renders(tmp_path, rates, stage):
    """Optional fields absent (no bank, phone, signatory, legal form, invoice file,
    exhibits, emails): every template still renders under StrictUndefined."""
    root = tmp_path / "m"
    root.mkdir()
    creditor = Party(name="Jean Martin", address=Address(("1 rue A",), "69001", "Lyon"))
    debtor = Party(name="Société X", address=Address(("2 rue B",), "75001", "Paris"))
    c = Case(reference="M-1", root=root, creditor=creditor, debtor=debtor, terms=Terms(),
             invoices=(Invoice("F1", date(2026, 3, 1), date(2026, 4, 1), D("1000.00")),))
    r = render_stage(state_of(c, AT, rates), stage, formats=("pdf", "docx"))
    text = _norm(pdf_text(r.files[f"{stage}.pdf"]))
    assert "Société X" in text and "Jean Martin" in text
    assert r.context["payment"] is None and "IBAN" not in text
    assert "par chèque à l’ordre de Jean Martin, adressé à 1 rue A, 69001 LYON" in text
    with pytest.raises(DossierError, match="debtor.email"):
        render_stage(state_of(c, AT, rates), stage, formats=("eml",))
