"""Court and bailiff documents as an avocat, a commissaire de justice and the greffe read
them: the court named, identities, grounds, what is claimed, the mandate, the DOCX.

Fast: the requête and the petites-créances letter are rendered from the dossier context
(HTML, or the DOCX) without assembling the exhibits; one test lays out the PDF front."""

from __future__ import annotations

import dataclasses
import io
import re
import time
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from dossier.bundle import build_bundle
from dossier.bundle.collect import collect_exhibits
from dossier.bundle.docx import requete_docx
from dossier.bundle.layout import context, head_exhibits, render_head
from dossier.casefile import load_case
from dossier.errors import DossierError
from dossier.law.courts import court_for_case
from dossier.law.penalties import compute_statement
from dossier.law.statement import due_part
from dossier.model import (
    Address,
    Bailiff,
    Exhibit,
    Invoice,
    Mandate,
    OptionalClaims,
    Party,
    Person,
    Terms,
)
from dossier.render.templates import render
from dossier.render.text import html_to_text

from helpers import (
    AT,
    SAMPLES,
    make_case,
    pdf_text,
    squash,
    state_of,  # noqa: E402
)

PARIS = Address(("10 rue de Rivoli",), "75004", "Paris")
VOIRON = Address(("3 cours Becquart-Castelbon",), "38500", "Voiron")
NBSP = "\u00a0"


def ctx_of(case, rates, purpose="court", at=AT):
    st = due_part(compute_statement(case, at, rates))
    exhibits = head_exhibits(collect_exhibits(case, ()))
    return context(case, at, st, court_for_case(case, at), purpose, [], exhibits, 0)


def html_of(case, rates, purpose="court", at=AT) -> str:
    name = "dossiers/requete.html" if purpose == "court" else "dossiers/petites-creances.html"
    return render(name, ctx_of(case, rates, purpose, at))


def text_of(case, rates, purpose="court", at=AT) -> str:
    return squash(html_to_text(html_of(case, rates, purpose, at)))


def docx_xml(data: bytes, name: str = "word/document.xml") -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode()


def docx_plain(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append(" | ".join(dict.fromkeys(c.text for c in row.cells)))
    return squash("\n".join(parts))


def ei_case(tmp_path, **kw):
    case = load_case(SAMPLES / "consumer-renovation", AT)
    return dataclasses.replace(case, **kw) if kw else case


def with_debtor_address(case, address):
    return dataclasses.replace(case, court=None, debtor=dataclasses.replace(case.debtor, address=address))


# ----------------------------------------------------------------------------- 1. the court


def test_requete_names_the_only_court_of_the_departement_as_a_tae(tmp_path, rates):
    case = with_debtor_address(make_case(tmp_path / "c"), PARIS)
    text = text_of(case, rates)
    assert "À Madame la Présidente ou Monsieur le Président du tribunal des activités économiques de Paris" in text
    assert "dans le ressort duquel" not in text and "à vérifier" not in text.lower()
    assert "court:" not in text  # hints go to the terminal, never into the pleading


def test_tae_names_follow_the_dates_of_the_experiment(tmp_path, rates):
    case = with_debtor_address(make_case(tmp_path / "c"), PARIS)
    assert court_for_case(case, date(2026, 6, 15)).name == "Tribunal des activités économiques de Paris"
    assert court_for_case(case, date(2029, 1, 2)).name == "Tribunal de commerce de Paris"
    named = dataclasses.replace(case, court="Tribunal de commerce de Lyon")
    assert court_for_case(named, date(2026, 6, 15)).name == "Tribunal des activités économiques de Lyon"


def test_several_courts_stop_the_bundle_with_the_list_and_the_key(tmp_path, rates):
    case = with_debtor_address(make_case(tmp_path / "c"), VOIRON)
    with pytest.raises(DossierError) as e:
        build_bundle(state_of(case, AT, rates))
    msg = str(e.value)
    assert "Tribunal de commerce de Grenoble" in msg and "Tribunal de commerce de Vienne" in msg
    assert "court:" in msg and "54" in msg


def test_check_warns_about_the_court_to_choose_and_stops_once_the_requete_is_due(tmp_path):
    from helpers import invoke

    root = tmp_path / "sg"
    import shutil

    shutil.copytree(SAMPLES / "studio-graphique", root)
    yml = root / "case.yaml"
    without_court = re.sub(r"(?m)^court:.*\n", "", yml.read_text())
    # before the mise en demeure the court can wait: a warning says which key to set
    yml.write_text(re.sub(r"(?m)^  - \{stage: mise-en-demeure.*\n.*\n", "", without_court))
    code, out, err = invoke("check", root, "--at", "2026-06-15")
    assert code == 0, err
    assert "court:" in out + err and "Tribunal de commerce de Libourne" in out + err
    # the requête is what the case needs next: check stops with the list and the key
    yml.write_text(without_court)
    code, out, err = invoke("check", root, "--at", "2026-06-15")
    assert code == 2
    assert "court:" in err and "Tribunal de commerce de Libourne" in err


def test_cover_addresses_the_court_by_name(tmp_path, rates):
    case = load_case(SAMPLES / "atelier-martin", AT)
    st = due_part(compute_statement(case, AT, rates))
    from dossier.bundle.assemble import metadata

    specs = collect_exhibits(case, ())
    pdf, n_cover, n_app = render_head(case, AT, st, court_for_case(case, AT), "court", specs,
                                      metadata(case, AT, st, "court"))
    text = squash(pdf_text(pdf))
    assert "À l’attention du tribunal de commerce de Grenoble" in text
    assert "Juridiction à vérifier" not in text and "À vérifier" not in text
    assert n_cover == 1 and n_app >= 2


def test_public_body_gets_no_injonction_de_payer(tmp_path, rates):
    case = make_case(tmp_path / "c")
    case = dataclasses.replace(case, debtor=dataclasses.replace(case.debtor, kind="public", legal_form=None))
    for purpose in ("court", "bailiff"):
        with pytest.raises(DossierError, match="personne publique.*référé-provision"):
            build_bundle(state_of(case, AT, rates), purpose=purpose)


# ----------------------------------------------------------------------------- 2. sole trader


def test_sole_trader_creditor_is_a_natural_person(tmp_path, rates):
    case = ei_case(tmp_path)
    text = text_of(case, rates)
    assert ("M. Marc Durand, entrepreneur individuel exerçant sous le nom commercial « Marc Durand Rénovation »"
            in text)
    assert "demeurant 31 chemin de la Valette" in text
    assert "nationalité : française ; né le 17 avril 1979 à Marseille" in text
    html = html_of(case, rates)
    mentions = re.search(r"<p[^>]*>[^<]*nationalité", html).group(0)
    assert "small" not in mentions  # normal type
    docx = docx_plain(requete_docx(ctx_of(case, rates)))
    assert "M. Marc Durand, entrepreneur individuel exerçant sous le nom commercial « Marc Durand Rénovation »" in docx
    assert "né le 17 avril 1979" in docx


def test_one_sole_trader_test_in_the_code():
    src = Path(__file__).resolve().parent.parent / "src" / "dossier"
    copies = [p for p in src.rglob("*") if p.suffix in (".py", ".html")
              and re.search(r"""["']EIRL["']""", p.read_text(encoding="utf-8"))]
    assert [p.name for p in copies] == ["model.py"]


# ----------------------------------------------------------------------------- 3. grounds


def test_contract_rate_cites_its_exhibit_and_clause_and_runs_at_the_same_rate(rates):
    text = text_of(load_case(SAMPLES / "atelier-martin", AT), rates)
    assert "taux contractuel de 12,00 % l’an (conditions générales de vente, pièce n° 3, article 7)" in text
    assert "outre les pénalités de retard au taux de 12,00 % l’an à compter du 16 juin 2026" in text
    assert "produits aux débats" not in text
    assert "des trois factures ci-dessous" in text and "Ces factures, échues, demeurent impayées" in text


def test_default_rate_is_not_called_the_same_rate_and_one_invoice_is_singular(tmp_path, rates):
    case = make_case(tmp_path / "c", payments=(), invoices=(
        Invoice("F1", date(2026, 3, 2), date(2026, 4, 1), D("4800.00")),))
    case = with_debtor_address(case, PARIS)
    text = text_of(case, rates)
    assert "au même taux" not in text and "au taux de 12" not in text
    assert "révisé" in text or "fixé pour chaque semestre" in text
    assert "objet de la facture ci-dessous" in text and "Cette facture, échue, demeure impayée" in text
    assert "factures, échues" not in text


def test_optional_claims_each_with_its_basis(tmp_path, rates):
    case = with_debtor_address(make_case(tmp_path / "c"), PARIS)
    plain = text_of(case, rates)
    assert "article 700" not in plain and "1343-2" not in plain
    claims = OptionalClaims(article_700=D("800.00"), capitalisation=True, additional_indemnity=D("350.00"),
                            additional_indemnity_proof="facture du cabinet de recouvrement (pièce n° 2)")
    text = text_of(dataclasses.replace(case, claims=claims), rates)
    assert "la somme de 800,00 € au titre de l’article 700 du Code de procédure civile" in text
    assert "la capitalisation des intérêts dus pour une année entière (C. civ. art. 1343-2)" in text
    assert "la somme de 350,00 € à titre d’indemnité complémentaire pour frais de recouvrement" in text
    assert "L441-10 II" in text and "facture du cabinet de recouvrement" in text


# ----------------------------------------------------------------------------- 4. petites créances


def test_petites_creances_file_is_addressed_and_gives_a_usable_mandate(tmp_path, rates):
    case = ei_case(tmp_path)
    blank = text_of(case, rates, "bailiff")
    assert "Maître ……" in blank  # a visible blank to fill in
    assert "Cour d’appel d’Aix-en-Provence".lower() in blank.lower()
    assert "durée maximale : ……… mois" in blank
    bailiff = Bailiff("SELARL Huissiers Réunis, Maître Jeanne Roux", Address(("4 cours Mirabeau",), "13100", "Aix-en-Provence"))
    mandate = Mandate(max_months=6, min_instalment=D("300.00"), waive_penalties=True, accept_fees=True)
    text = text_of(dataclasses.replace(case, bailiff=bailiff, mandate=mandate), rates, "bailiff")
    assert "SELARL Huissiers Réunis, Maître Jeanne Roux" in text and "4 cours Mirabeau" in text
    assert "en 6 mensualités au plus, chacune d’au moins 300,00 €" in text
    assert "remise possible de tout ou partie des intérêts" in text
    assert "FR76 1027 8089 0000 0215 6730 241" in text and "CMCIFR2A" in text
    assert "J’accepte que les frais de la procédure soient à ma charge" in text


# ----------------------------------------------------------------------------- only what is due


def test_not_yet_due_invoices_are_listed_apart_not_claimed(tmp_path, rates):
    at = date(2026, 4, 30)  # F2026-021 falls due on 10 May
    case = with_debtor_address(make_case(tmp_path / "c"), PARIS)
    full = compute_statement(case, at, rates)
    claimed = due_part(full)
    assert [i.number for i in claimed.invoices] == ["F2026-014"]
    assert claimed.outstanding == D("3800.00") and claimed.total < full.total
    for purpose in ("court", "bailiff"):
        text = text_of(case, rates, purpose, at)
        assert "F2026-021 (échéance du 10 mai 2026), non encore échue" in text
        assert "1 234,56" not in text  # not in the décompte
        assert "3 800,00 €" in text


def test_petites_creances_ceiling_is_tested_on_what_is_claimed(tmp_path, rates):
    at = date(2026, 4, 30)
    invoices = (Invoice("F1", date(2026, 3, 2), date(2026, 4, 1), D("3000.00")),
                Invoice("F2", date(2026, 4, 10), date(2026, 6, 10), D("4000.00")))
    case = with_debtor_address(make_case(tmp_path / "c", invoices=invoices, payments=()), PARIS)
    result = build_bundle(state_of(case, at, rates), purpose="bailiff", with_docx=False)
    text = squash(pdf_text(result.pdf))
    assert "F2 (échéance du 10 juin 2026), non encore échue" in text


# ----------------------------------------------------------------------------- 12. no-break spaces


def test_court_documents_keep_dates_siren_and_punctuation_together(rates):
    html = html_of(load_case(SAMPLES / "atelier-martin", AT), rates)
    assert f"15{NBSP}juin{NBSP}2026" in html
    assert f"732{NBSP}829{NBSP}320" in html
    assert f"{NBSP}: " in html.replace("&nbsp;", NBSP) and " :" not in re.sub(r"<[^>]+>", "", html).replace("&nbsp;", NBSP)
    ei = html_of(ei_case(None), rates).replace("&nbsp;", NBSP)
    assert f"«{NBSP}Marc Durand Rénovation{NBSP}»" in ei


# ----------------------------------------------------------------------------- 14. the DOCX


def test_requete_docx_is_the_same_wording_with_styles_page_numbers_and_imputations(rates):
    case = load_case(SAMPLES / "atelier-martin", AT)
    ctx = ctx_of(case, rates)
    data = requete_docx(ctx)
    text = docx_plain(data)
    pdf_wording = text_of(case, rates)
    for needle in ("Atelier Martin, SARL au capital de 10 000,00 €, immatriculée au RCS de Lyon",
                   "À Madame la Présidente ou Monsieur le Président du tribunal de commerce de Grenoble",
                   "Imputation des règlements non affectés",
                   "taux contractuel de 12,00 % l’an (conditions générales de vente, pièce n° 3, article 7)"):
        assert needle in text and needle in pdf_wording, needle
    assert "Règlement du 10/03/2026" in text  # the imputation rows of the décompte
    assert "Juridiction à vérifier" not in text and "à compléter" not in text
    doc = docx_xml(data)
    assert 'w:pStyle w:val="Heading1"' in doc and 'w:pStyle w:val="Signature"' in doc
    assert "<w:keepNext/>" in doc
    footers = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("word/footer")]
    assert footers and any("PAGE" in docx_xml(data, n) for n in footers)
    styles = docx_xml(data, "word/styles.xml")
    n_styles = styles.count("<w:style ")
    assert styles.count('w:lang w:val="fr-FR"') >= n_styles - styles.count('w:type="numbering"')
    assert requete_docx(ctx) == data  # deterministic


def test_requete_docx_is_linear_in_the_number_of_exhibits(tmp_path, rates):
    case = with_debtor_address(make_case(tmp_path / "c"), PARIS)
    ctx = ctx_of(case, rates)
    from dossier.bundle.layout import BundleExhibit

    many = [BundleExhibit(n, f"Pièce {n}", "autre", date(2026, 1, 1), Path(f"/x/{n}.pdf"), "exhibits", 0, 0, "")
            for n in range(1, 3001)]
    t0 = time.perf_counter()
    data = requete_docx({**ctx, "exhibits": many})
    elapsed = time.perf_counter() - t0
    assert "Pièce 3000" in docx_plain(data)
    assert elapsed < 20, elapsed


# a Person is imported for readers adapting these tests to a signatory of their own
_ = (Person, Party, Terms, Exhibit)


def test_one_siren_formatter_and_one_slug_helper():
    src = Path(__file__).resolve().parent.parent / "src" / "dossier"
    # the sample evidence generator draws fake scans: not a document of the tool
    grouped = sorted(p.name for p in src.rglob("*") if p.suffix in (".py", ".html") and p.name != "make_evidence.py"
                     and "[3:6]" in p.read_text(encoding="utf-8"))
    assert grouped == ["fmt.py"], grouped
    slugs = [p.name for p in src.rglob("*.py") if 'normalize("NFKD"' in p.read_text(encoding="utf-8")
             and "[^A-Za-z0-9]+" in p.read_text(encoding="utf-8")]
    assert slugs == ["fmt.py"], slugs


def test_petites_creances_file_also_as_docx(tmp_path, rates):
    from dossier.bundle.docx import application_docx

    case = ei_case(tmp_path)
    mandate = Mandate(max_months=6, min_instalment=D("300.00"))
    data = application_docx(ctx_of(dataclasses.replace(case, mandate=mandate), rates, "bailiff"), "bailiff")
    text = docx_plain(data)
    assert "procédure simplifiée de recouvrement des petites créances" in text
    assert "en 6 mensualités au plus, chacune d’au moins 300,00 €" in text
    assert "Cour d’appel d’Aix-en-Provence".lower() in text.lower()
    assert "Procès-verbal de réception des travaux" in text  # the bordereau


def test_bundle_writes_the_petites_creances_docx(tmp_path):
    import shutil

    from helpers import invoke

    root = tmp_path / "cr"
    shutil.copytree(SAMPLES / "consumer-renovation", root)
    code, out, err = invoke("bundle", root, "--at", "2026-06-15", "--for", "bailiff", "-o", tmp_path / "pc.pdf")
    assert code == 0, err
    assert (tmp_path / "pc-petites-creances.docx").is_file() and not (tmp_path / "pc-requete.docx").exists()
    assert "letter to the commissaire de justice as DOCX" in out + err


def test_bordereau_has_a_gutter_between_description_and_date():
    from dossier.bundle import tables

    assert tables.B_DATE - (tables.B_DESC + tables.B_DESC_W) >= 3 * tables.MM


def test_bordereau_prints_its_date_once(rates):
    from pypdf import PdfReader

    case = load_case(SAMPLES / "studio-graphique", AT)
    r = build_bundle(state_of(case, AT, rates), with_docx=False)
    s = next(s for s in r.sections if s.title.startswith("Bordereau"))
    page = squash(PdfReader(io.BytesIO(r.pdf)).pages[s.first_page - 1].extract_text())
    assert page.count("15 juin 2026") == 1, page
    assert "Fait à Bordeaux, le 15 juin 2026" in page
