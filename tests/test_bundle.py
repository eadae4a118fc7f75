"""The court and bailiff dossier (issue #4): read the PDF back and check what a clerk and a
judge rely on — page numbers, stamps, links, outline, figures, refusals."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from helpers import (  # noqa: F401
    AT,
    CASE_YAML,
    GOOD,
    SAMPLES,
    cli,
    lines_of,
    make_awkward,
    norm,
    reader_of,
    sample_copy,
    state_of,  # noqa: E402
    write_case,
)

# --------------------------------------------------------------------------- structure


def test_page_count_is_front_matter_plus_exhibit_pages(built):
    case, r = built
    expected_exhibit_pages = 2 + sum(n for *_, n in GOOD) + (1 + 2)  # invoice, exhibits, eml + PDF attachment
    assert sum(e.pages for e in r.exhibits) == expected_exhibit_pages
    assert r.pages == r.front_pages + expected_exhibit_pages
    assert len(reader_of(r).pages) == r.pages
    assert [s.title for s in r.sections] == ["Page de garde", "Requête en injonction de payer",
                                             "Bordereau des pièces communiquées", "Sommaire"]


def test_every_page_carries_its_dossier_page_number_and_exhibit_pages_their_stamp(built):
    _, r = built
    reader = reader_of(r)
    total = r.pages
    for i, page in enumerate(reader.pages, start=1):
        assert f"{i} / {total}" in norm(page.extract_text()), f"page {i} lacks its number"
    for e in r.exhibits:
        for k in range(1, e.pages + 1):
            text = norm(reader.pages[e.first_page - 1 + k - 1].extract_text())
            assert f"Pièce n° {e.number} — p. {k}/{e.pages}" in text


def test_exhibit_content_lands_on_the_stamped_pages(built):
    _, r = built
    reader = reader_of(r)
    by_file = {Path(e.file).name: e for e in r.exhibits}
    for name, marker in [("rotated.pdf", "MARK-ROTATED"), ("a3.pdf", "MARK-A3"), ("landscape.pdf", "MARK-LANDSCAPE"),
                         ("encrypted.pdf", "MARK-ENCRYPTED"), ("offset-box.pdf", "MARK-OFFSET")]:
        e = by_file[name]
        assert marker in reader.pages[e.first_page - 1].extract_text()
    mail = by_file["mail.eml"]
    texts = [norm(reader.pages[mail.first_page - 1 + k].extract_text()) for k in range(mail.pages)]
    assert "MARK-EML Relance facture F-1" in texts[0] and "facture-F-1.pdf" in texts[0]
    assert "releve.csv (non reproduite)" in texts[0]
    assert "MARK-ATTACHED-1" in texts[1] and "MARK-ATTACHED-2" in texts[2]


def test_pages_are_normalised_upright_a4_without_rotate(built):
    _, r = built
    reader = reader_of(r)
    by_file = {Path(e.file).name: e for e in r.exhibits}

    def size(name):
        p = reader.pages[by_file[name].first_page - 1]
        assert "/Rotate" not in p or p["/Rotate"] == 0
        return round(float(p.mediabox.width)), round(float(p.mediabox.height))

    assert size("a3.pdf") == (595, 842)  # A3 shrunk onto A4
    assert size("landscape.pdf") == (842, 595)  # landscape kept landscape
    assert size("rotated.pdf") == (842, 595)  # portrait page shown rotated 90° = landscape
    assert size("rotated180.pdf") == (595, 842)
    assert size("scan-exif.jpg") == (595, 842)  # stored 400×200, EXIF says portrait
    xobj = reader.pages[by_file["scan-exif.jpg"].first_page - 1]["/Resources"]["/XObject"]["/Im"]
    assert (xobj["/Width"], xobj["/Height"]) == (200, 400)


def test_rotated_page_is_drawn_upright():
    """/Rotate 90 folded into the matrix: the page's top-left corner must land top-right
    when shown (clockwise rotation), and the whole page inside the area between the bands."""
    from dossier.bundle import stamp

    pl = stamp.place((0, 0, 595.276, 841.89), 90)
    a, b, c, d, e, f = pl.matrix
    x, y = 0, 841.89  # top-left of the source page
    tx, ty = a * x + c * y + e, b * x + d * y + f
    assert tx == pytest.approx(pl.frame[2]) and ty == pytest.approx(pl.frame[3])
    assert pl.frame[3] <= pl.sheet[1] - stamp.TOP_BAND + 1e-6 and pl.frame[1] >= stamp.BOTTOM_BAND - 1e-6


def test_stamp_band_is_outside_the_exhibit_frame():
    """The stamp can never hide content: the placed page stays below the top band and above
    the bottom band, whatever its size; small pages are not enlarged."""
    from dossier.bundle import stamp

    for box in [(0, 0, 595.276, 841.89), (0, 0, 841.89, 1190.55), (0, 0, 842, 595), (100, 50, 600, 750)]:
        for rot in (0, 90, 180, 270):
            pl = stamp.place(box, rot)
            x0, y0, x1, y1 = pl.frame
            assert y1 <= pl.sheet[1] - stamp.TOP_BAND + 1e-6
            assert y0 >= stamp.BOTTOM_BAND - 1e-6
            assert x0 >= 0 and x1 <= pl.sheet[0]
    assert stamp.place((0, 0, 300, 400)).scale == 1.0


def _toc_page(r):
    s = next(s for s in r.sections if s.title == "Sommaire")
    return s.first_page - 1


def test_table_of_contents_links_and_printed_numbers_are_the_real_pages(built):
    _, r = built
    reader = reader_of(r)
    toc = reader.pages[_toc_page(r)]
    text = "\n".join(lines_of(toc))
    for e in r.exhibits:
        m = re.search(rf"^Pièce n° {e.number} {re.escape(norm(e.title))} (\d+)$", text, re.M)
        assert m and int(m.group(1)) == e.first_page, (e.number, text)
        assert f"Pièce n° {e.number} — p. 1/{e.pages}" in norm(reader.pages[int(m.group(1)) - 1].extract_text())
    targets = []
    for ref in toc.get("/Annots", []):
        a = ref.get_object()
        if a.get("/Subtype") == "/Link" and "/Dest" in a:
            targets.append(reader.get_page_number(a["/Dest"][0].get_object()) + 1)
    wanted = {s.first_page for s in r.sections} | {e.first_page for e in r.exhibits}
    assert set(targets) == wanted
    assert not any("/URI" in (ref.get_object().get("/A") or {}) for ref in toc.get("/Annots", []))


def test_bordereau_lists_number_description_date_and_pages(built):
    _, r = built
    reader = reader_of(r)
    s = next(s for s in r.sections if s.title.startswith("Bordereau"))
    text = "\n".join(line for k in range(s.pages) for line in lines_of(reader.pages[s.first_page - 1 + k]))
    for e in r.exhibits:
        pages = f"p. {e.first_page}" if e.pages == 1 else f"p. {e.first_page} à {e.last_page}"
        date = e.date.strftime("%d/%m/%Y")
        line = rf"^{e.number} {re.escape(norm(e.title))} {date} {pages} \({e.pages} p\.\)$"
        assert re.search(line, text, re.M), (line, text)


def test_outline_has_one_entry_per_section_and_exhibit(built):
    _, r = built
    reader = reader_of(r)
    top = [o for o in reader.outline if not isinstance(o, list)]
    assert [o.title for o in top[:4]] == [s.title for s in r.sections]
    ex_items = top[4:]
    assert len(ex_items) == len(r.exhibits)
    for o, e in zip(ex_items, r.exhibits):
        assert o.title.startswith(f"Pièce n° {e.number} — ")
        assert reader.get_destination_page_number(o) == e.first_page - 1


def test_metadata_and_viewer_settings(built):
    case, r = built
    reader = reader_of(r)
    meta = reader.metadata
    assert meta.title.startswith("Requête en injonction de payer — Atelier Test c/ Client Difficile")
    assert meta.author == "Atelier Test"
    assert "AWK-2026-001" in meta.subject
    assert meta["/CreationDate"] == "D:20260615000000Z"
    assert reader.trailer["/Root"]["/PageMode"] == "/UseOutlines"


def test_exhibits_come_in_legal_order(built):
    _, r = built
    kinds = [e.kind for e in r.exhibits]
    order = {"contrat": 0, "devis": 0, "cgv": 0, "bon-de-commande": 0, "bon-de-livraison": 1, "facture": 2,
             "correspondance": 3, "notice": 3, "autre": 4}
    groups = [order[k] if not r.exhibits[i].title.startswith("Accusé") else 5 for i, k in enumerate(kinds)]
    assert groups == sorted(groups)
    assert kinds[:4] == ["contrat", "devis", "bon-de-commande", "cgv"]
    assert r.exhibits[-1].title.startswith("Accusé de réception")


def test_two_runs_are_byte_identical(awkward_case, rates, built):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    case = load_case(awkward_case, AT)
    again = build_bundle(state_of(case, AT, rates))
    assert again.pdf == built[1].pdf
    assert again.docx == built[1].docx
    later = build_bundle(state_of(case, date(2026, 6, 16), rates), with_docx=False)
    assert later.pdf != built[1].pdf  # the date is an input


def test_same_case_in_another_folder_gives_the_same_bytes(awkward_case, rates, built, tmp_path):
    import shutil

    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    moved = tmp_path / "elsewhere" / "deeper" / "awk"
    shutil.copytree(awkward_case, moved)
    assert build_bundle(state_of(load_case(moved, AT), AT, rates)).pdf == built[1].pdf


# --------------------------------------------------------------------------- the requête


def _front_text(r, title_prefix):
    reader = reader_of(r)
    s = next(s for s in r.sections if s.title.startswith(title_prefix))
    return norm(" ".join(reader.pages[s.first_page - 1 + k].extract_text() for k in range(s.pages)))


@pytest.mark.parametrize("sample", ["atelier-martin", "studio-graphique", "consumer-renovation"])
def test_requete_figures_equal_dossier_compute(sample, tmp_path):
    proc = cli("compute", SAMPLES / sample, "--at", "2026-06-15", "--json")
    assert proc.returncode == 0, proc.stderr
    computed = json.loads(proc.stdout)
    out = tmp_path / "d.pdf"
    proc = cli("bundle", sample_copy(sample, tmp_path), "--at", "2026-06-15", "-o", out)
    assert proc.returncode == 0, proc.stderr
    reader = PdfReader(out)
    from dossier.fmt import money

    text = norm(" ".join(p.extract_text() for p in reader.pages[1:5]))
    for key in ("outstanding", "penalties", "total", "principal", "paid"):
        assert norm(money(Decimal(computed[key]))) in text, key
    if Decimal(computed["indemnities"]):
        assert norm(money(Decimal(computed["indemnities"]))) in text
    for inv in computed["invoices"]:
        assert f"n° {inv['number']}" in text
        assert norm(money(Decimal(inv["outstanding"]))) in text
        for p in inv["periods"]:
            assert norm(money(Decimal(p["amount"]))) in text
            assert str(p["days"]) in text
    assert f"{len(reader.pages)} / {len(reader.pages)}" in norm(reader.pages[-1].extract_text())


def test_requete_has_every_article_1407_mention(built):
    case, r = built
    text = _front_text(r, "Requête")
    from dossier.fmt import amount_in_words, money

    st = r.statement
    # creditor: form, name, registered office, representative
    assert "Atelier Test, SARL au capital de 10 000,00 €" in text
    assert "immatriculée au RCS de Lyon sous le numéro 732 829 320" in text
    assert "dont le siège social est situé 12 rue de la Paix, 69002 LYON" in text
    assert "représentée par Claire Test, Gérante, son représentant légal" in text
    # debtor: name and seat
    assert "Client Difficile, SAS" in text and "5 place Grenette, 38000 GRENOBLE" in text
    # exact amount, breakdown and basis of each component
    assert norm(money(st.total)) in text and norm(amount_in_words(st.total)) in text
    assert "Principal restant dû" in text and "Pénalités de retard" in text and "Indemnités forfaitaires" in text
    assert "L441-10" in text and "D441-5" in text and "Fondement" in text
    for b in st.bases:
        assert norm(b)[:40] in text
    # bordereau, amicable steps, court, date and signature
    assert "bordereau" in text.lower()
    assert "Relance (1er rappel) du 10 février 2026 (courriel)" in text
    assert "président du tribunal de commerce de grenoble" in text.lower()  # named (CPC 54 1°)
    assert "Fait à Lyon, le 15 juin 2026" in text


def test_named_court_is_used_and_no_check_note(tmp_path, awkward, rates):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    root = write_case(tmp_path / "c", [], court="Tribunal de commerce de Grenoble",
                      files={"portrait.pdf": awkward["portrait.pdf"], "mail.eml": awkward["mail.eml"]})
    r = build_bundle(state_of(load_case(root, AT), AT, rates), with_docx=False)
    text = _front_text(r, "Requête")
    assert "Madame la Présidente ou Monsieur le Président du tribunal de commerce de Grenoble" in text
    assert "Juridiction à vérifier" not in text


def test_docx_requete_has_the_same_total(built):
    from docx import Document

    from dossier.fmt import money

    _, r = built
    doc = Document(io.BytesIO(r.docx))
    body = norm("\n".join(p.text for p in doc.paragraphs) + "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells))
    assert norm(money(r.statement.total)) in body
    assert "Requête en injonction de payer" in body and "Client Difficile" in body
    assert all(f"{e.number} " in body for e in r.exhibits)


# --------------------------------------------------------------------------- bailiff


def test_bailiff_file_for_a_small_claim(tmp_path):
    out = tmp_path / "pc.pdf"
    proc = cli("bundle", sample_copy("consumer-renovation", tmp_path), "--at", "2026-06-15", "--for", "bailiff",
                   "-o", out)
    assert proc.returncode == 0, proc.stderr
    reader = PdfReader(out)
    text = norm(" ".join(p.extract_text() for p in reader.pages[:3]))
    assert "petites créances" in text and "Commissaire de justice" in text
    assert "L125-1" in text and "DÉCOMPTE DE LA CRÉANCE" in text and "Mandat de négociation".upper() in text
    assert not (tmp_path / "pc-requete.docx").exists()


def test_bailiff_refused_above_5000(tmp_path):
    out = tmp_path / "pc.pdf"
    proc = cli("bundle", sample_copy("atelier-martin", tmp_path), "--at", "2026-06-15", "--for", "bailiff",
                   "-o", out)
    assert proc.returncode == 2
    assert "5 000,00 €" in norm(proc.stderr) and "--for court" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("bad, words", [
    ("encrypted.pdf", "password-protected"),
    ("truncated.pdf", "truncated"),
    ("empty.pdf", "empty"),
    ("notes.xyz", "unsupported file type"),
    ("contract.docx", "LibreOffice"),
])
def test_bad_evidence_exit_2_names_exhibit_and_file_and_writes_nothing(bad, words, tmp_path, awkward, monkeypatch):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no soffice here, whatever the machine has
    exhibits = [("devis", "Devis", "landscape.pdf"), ("contrat", "Pièce fautive", bad)]
    root = write_case(tmp_path / "bad", exhibits, files=awkward)
    out = tmp_path / "out" / "d.pdf"
    proc = cli("bundle", root, "--at", "2026-06-15", "-o", out, env={"PATH": str(Path(sys.executable).parent)})
    assert proc.returncode == 2, proc.stderr
    assert "exhibits[1].file" in proc.stderr and bad in proc.stderr and words in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_wrong_password_is_refused(tmp_path, awkward, rates):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case
    from dossier.errors import EvidenceError

    root = write_case(tmp_path / "pw", [("contrat", "Contrat", "encrypted.pdf", "wrong")], files=awkward)
    with pytest.raises(EvidenceError, match=r"exhibits\[0\]\.password does not open"):
        build_bundle(state_of(load_case(root, AT), AT, rates))


def test_failed_run_leaves_previous_output_untouched(tmp_path, awkward, rates):
    from dossier.bundle import write_bundle
    from dossier.casefile import load_case
    from dossier.errors import EvidenceError

    root = write_case(tmp_path / "c", [("contrat", "Contrat", "landscape.pdf")], files=awkward)
    out = tmp_path / "d.pdf"
    result, path, docx = write_bundle(state_of(load_case(root, AT), AT, rates), output=out)
    before = out.read_bytes()
    assert path == out and docx == tmp_path / "d-requete.docx" and before == result.pdf
    (root / "pieces" / "landscape.pdf").write_bytes(b"%PDF-1.7\n1 0 obj garbage")
    with pytest.raises(EvidenceError):
        write_bundle(state_of(load_case(root, AT), AT, rates), output=out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "d-requete.docx", "d.pdf"]


# --------------------------------------------------------------------------- size


def test_max_size_downsamples_oversized_scans(tmp_path, awkward, rates):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case
    from dossier.errors import DossierError

    (tmp_path / "noise.png").write_bytes(make_awkward.noisy_png())
    (tmp_path / "scan.pdf").write_bytes(make_awkward.scanned_pdf())
    files = dict(awkward, **{"noise.png": tmp_path / "noise.png", "scan.pdf": tmp_path / "scan.pdf"})
    root = write_case(tmp_path / "big", [("bon-de-commande", "Scan lourd", "noise.png"),
                                         ("contrat", "Contrat scanné", "scan.pdf")], files=files)
    case = load_case(root, AT)
    full = build_bundle(state_of(case, AT, rates), with_docx=False)
    assert full.size > 15_000_000 and full.downsampled_to_dpi is None
    small = build_bundle(state_of(case, AT, rates), max_size=4_000_000, with_docx=False)
    assert small.size <= 4_000_000 and small.downsampled_to_dpi in (200, 150, 110)
    assert small.pages == full.pages
    assert any("scan.pdf" in w and "reduced to" in w for w in small.warnings)
    assert build_bundle(state_of(case, AT, rates), max_size=4_000_000, with_docx=False).pdf == small.pdf  # deterministic
    with pytest.raises(DossierError, match="--max-size"):
        build_bundle(state_of(case, AT, rates), max_size=200_000, with_docx=False)


def test_cli_prints_size_and_page_count(tmp_path):
    out = tmp_path / "d.pdf"
    proc = cli("bundle", sample_copy("studio-graphique", tmp_path), "--at", "2026-06-15", "-o", out)
    assert proc.returncode == 0, proc.stderr
    n = len(PdfReader(out).pages)
    assert re.search(rf"d\.pdf: {n} pages, \d+ KB, \d+ exhibits", proc.stdout)
    assert (tmp_path / "d-requete.docx").is_file()


# --------------------------------------------------------------------------- journal


def test_notices_sent_by_the_tool_come_from_the_journal(tmp_path, awkward, rates):
    import hashlib

    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    root = write_case(tmp_path / "j", [("devis", "Devis", "landscape.pdf")], files=awkward)
    (root / "out").mkdir()
    sent = root / "out" / "mise-en-demeure.pdf"
    sent.write_bytes(make_awkward.pdf_pages([(make_awkward.A4, "MARK-MED-SENT")]))
    draft = root / "out" / "dernier-avis.pdf"
    draft.write_bytes(make_awkward.pdf_pages([(make_awkward.A4, "MARK-DRAFT")]))
    changed = root / "out" / "relance-2.pdf"
    changed.write_bytes(make_awkward.pdf_pages([(make_awkward.A4, "MARK-CHANGED")]))

    def line(stage, when, status, path, sha=None, **extra):
        rel = path.relative_to(root).as_posix()
        sha = sha or hashlib.sha256(path.read_bytes()).hexdigest()
        return json.dumps({"stage": stage, "date": when, "channel": "lrar" if stage == "mise-en-demeure" else "email",
                           "status": status, "files": [{"path": rel, "sha256": sha}], "recorded_at": "", **extra}) + "\n"

    (root / "journal.jsonl").write_text(
        line("relance-2", "2026-03-01", "sent", changed, sha="0" * 64)
        + line("dernier-avis", "2026-03-20", "generated", draft)
        + line("mise-en-demeure", "2026-04-02", "sent", sent, lrar_number="1A 000 111 2223 3"),
        encoding="utf-8")
    r = build_bundle(state_of(load_case(root, AT), AT, rates), with_docx=False)
    titles = [e.title for e in r.exhibits]
    assert "Mise en demeure du 2 avril 2026 (lettre recommandée avec accusé de réception n° 1A 000 111 2223 3)" in titles
    assert not any("Dernier avis" in t for t in titles)  # generated, never sent: not a notice
    assert titles.index("Relance (1er rappel) du 10 février 2026 (courriel)") < titles.index(
        "Deuxième relance du 1er mars 2026 (courriel)") < len(titles) - 1
    assert any("relance-2.pdf" in w and "changed since the journal recorded it" in w for w in r.warnings)
    text = _front_text(r, "Requête")
    assert "Mise en demeure du 2 avril 2026" in text


# --------------------------------------------------------------------------- samples


@pytest.mark.parametrize("sample, purpose", [("atelier-martin", "court"), ("studio-graphique", "court"),
                                             ("consumer-renovation", "court"), ("consumer-renovation", "bailiff")])
def test_sample_dossiers(sample, purpose, rates):
    from dossier.bundle import build_bundle
    from dossier.bundle.exhibits import sniff
    from dossier.casefile import load_case

    case = load_case(SAMPLES / sample, AT)
    r = build_bundle(state_of(case, AT, rates), purpose=purpose, with_docx=False)
    reader = reader_of(r)
    assert len(reader.pages) == r.pages == r.front_pages + sum(e.pages for e in r.exhibits)
    cited = {Path(x.file).resolve() for x in (*case.exhibits, *case.invoices, *case.credit_notes, *case.notices) if x.file}
    cited |= {Path(n.receipt_file).resolve() for n in case.notices if n.receipt_file}
    assert {Path(e.file).resolve() for e in r.exhibits} == cited  # every evidence file, once
    for e in r.exhibits:
        page = reader.pages[e.first_page - 1]
        assert f"Pièce n° {e.number} — p. 1/{e.pages}" in norm(page.extract_text())
        if sniff(Path(e.file).read_bytes()[:2048], Path(e.file)) == "eml":
            assert e.pages >= 1 and "Objet" in norm(page.extract_text())
    assert len([o for o in reader.outline if not isinstance(o, list)]) == 4 + len(r.exhibits)


def test_missing_evidence_is_warned_and_output_folder_accepted(tmp_path):
    root = tmp_path / "noev"
    root.mkdir()
    (root / "case.yaml").write_text(
        CASE_YAML.format(exhibits="  []\n", court="").replace(", file: pieces/portrait.pdf", "")
        .replace("  - {stage: relance-1, date: 2026-02-10, channel: email, file: pieces/mail.eml}\n", "  []\n"),
        encoding="utf-8")
    proc = cli("bundle", root, "--at", "2026-06-15", "-o", f"{tmp_path / 'dest'}/")
    assert proc.returncode == 0, proc.stderr
    assert "no evidence file at all" in proc.stderr and "invoice F-1 has no `file:`" in proc.stderr
    assert "no mise en demeure recorded" in proc.stderr and "no contractual document" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == [
        "awk-2026-001-dossier-injonction-de-payer.pdf", "awk-2026-001-requete.docx"]
    assert "0 exhibits" in proc.stdout


def test_long_toc_and_bordereau_over_several_pages_link_to_the_printed_pages(tmp_path, rates):
    """60 exhibits: the bordereau and table of contents run over several pages; on every
    page, each link's target is the page number printed on the same line."""
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    files, exhibits = {}, []
    for i in range(60):
        p = tmp_path / f"src-{i:02d}.pdf"
        p.write_bytes(make_awkward.pdf_pages([(make_awkward.A4, f"MARK-{i}")] * (1 + i % 3)))
        files[p.name] = p
        exhibits.append(("correspondance", f"Courrier numéro {i} — objet assez long pour tenir une ligne", p.name))
    files["portrait.pdf"] = tmp_path / "portrait.pdf"
    files["portrait.pdf"].write_bytes(make_awkward.pdf_pages([(make_awkward.A4, "MARK-INV")]))
    files["mail.eml"] = tmp_path / "mail.eml"
    files["mail.eml"].write_bytes(make_awkward.eml_with_pdf(make_awkward.pdf_pages([(make_awkward.A4, "MARK-ATT")])))
    root = write_case(tmp_path / "long", exhibits, files=files)
    r = build_bundle(state_of(load_case(root, AT), AT, rates), with_docx=False)
    reader = reader_of(r)
    bord = next(s for s in r.sections if s.title.startswith("Bordereau"))
    toc = next(s for s in r.sections if s.title == "Sommaire")
    assert bord.pages >= 2 and toc.pages >= 2
    starts = {e.first_page for e in r.exhibits} | {s.first_page for s in r.sections}
    checked = 0
    for index in range(bord.first_page - 1, toc.first_page - 1 + toc.pages):
        page = reader.pages[index]
        frags: list = []
        page.extract_text(visitor_text=lambda t, cm, tm, f, s, frags=frags: frags.append(
            (tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5], t)) if t.strip() else None)
        for ref in page.get("/Annots", []):
            a = ref.get_object()
            target = reader.get_page_number(a["/Dest"][0].get_object()) + 1
            r0, r1, r2, r3 = (float(v) for v in a["/Rect"])
            x0, y0, x1, y1 = min(r0, r2), min(r1, r3), max(r0, r2), max(r1, r3)
            inside = norm(" ".join(t for x, y, t in sorted(frags, key=lambda f: f[0])
                                   if x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1)).strip()
            numbers = [int(n) for n in re.findall(r"\b\d+\b", inside)]
            assert target in starts
            is_toc = index >= toc.first_page - 1
            page_link = (re.fullmatch(r"\d+", inside) and x0 > 300) if is_toc else inside.startswith("p. ")
            if page_link:  # the links printed as page numbers
                assert numbers and numbers[0] == target, (index + 1, inside, target)
                checked += 1
    assert checked == 2 * len(r.exhibits) + len(r.sections)


def test_duplex_starts_every_section_and_exhibit_on_a_right_hand_page(awkward_case, rates):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    r = build_bundle(state_of(load_case(awkward_case, AT), AT, rates), with_docx=False, duplex=True)
    reader = reader_of(r)
    assert all(s.first_page % 2 == 1 for s in r.sections)
    assert all(e.first_page % 2 == 1 for e in r.exhibits)
    assert r.blank_pages and len(reader.pages) == r.front_pages + sum(e.pages for e in r.exhibits) + len(r.blank_pages)
    for n in r.blank_pages:
        text = norm(reader.pages[n - 1].extract_text())
        assert "Page laissée intentionnellement blanche" in text and f"{n} / {r.pages}" in text
    toc = "\n".join(lines_of(reader.pages[_toc_page(r)]))
    for e in r.exhibits:
        assert re.search(rf"^Pièce n° {e.number} .* {e.first_page}$", toc, re.M)
        assert f"Pièce n° {e.number} — p. 1/{e.pages}" in norm(reader.pages[e.first_page - 1].extract_text())


def test_cli_records_the_dossier_in_the_journal_and_never_overwrites_a_filed_one(tmp_path):
    import hashlib

    case = sample_copy("studio-graphique", tmp_path)
    proc = cli("bundle", case, "--at", "2026-06-15")
    assert proc.returncode == 0, proc.stderr
    pdf = case / "out" / "sgo-2025-014-dossier-injonction-de-payer.pdf"
    lines = [json.loads(x) for x in (case / "journal.jsonl").read_text().splitlines()]
    entry = lines[-1]
    assert (entry["stage"], entry["status"], entry["channel"], entry["date"]) == (
        "injonction-de-payer", "generated", "court", "2026-06-15")
    assert entry["files"][0] == {"path": "out/sgo-2025-014-dossier-injonction-de-payer.pdf",
                                 "sha256": hashlib.sha256(pdf.read_bytes()).hexdigest()}
    assert entry["files"][1]["path"] == "out/sgo-2025-014-requete.docx"
    # the user files it and records it as sent: it is evidence now
    sent = dict(entry, status="sent", recorded_at="2026-06-16T10:00:00+00:00")
    with open(case / "journal.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(sent) + "\n")
    before = pdf.read_bytes()
    proc = cli("bundle", case, "--at", "2026-06-20")
    assert proc.returncode == 2 and "recorded as sent" in proc.stderr
    assert pdf.read_bytes() == before
    proc = cli("bundle", case, "--at", "2026-06-20", "--force")
    assert proc.returncode == 0, proc.stderr
    v2 = case / "out" / "sgo-2025-014-dossier-injonction-de-payer.v2.pdf"
    assert v2.is_file() and pdf.read_bytes() == before
    # the filed dossier is neither an exhibit nor an amicable step of the new one
    assert len(PdfReader(v2).pages) == len(PdfReader(pdf).pages)
    assert "greffe" not in " ".join(p.extract_text() for p in PdfReader(v2).pages[:6])


def test_requete_counts_a_mise_en_demeure_recorded_only_in_the_journal(tmp_path):
    from dossier import journal

    folder = sample_copy("consumer-renovation", tmp_path)
    text = (folder / "case.yaml").read_text()
    start = text.index("  - {stage: mise-en-demeure")
    end = text.index("}", text.index("received:", start)) + 2
    (folder / "case.yaml").write_text(text[:start] + text[end:])
    journal.record(folder, journal.JournalEntry(stage="mise-en-demeure", date=date(2025, 12, 1), channel="lrar",
                                                status="sent", lrar_number="1A 000 000 0000 0"))
    computed = json.loads(cli("compute", folder, "--at", "2026-06-15", "--json").stdout)
    assert Decimal(computed["penalties"]) > 0
    out = tmp_path / "d.pdf"
    proc = cli("bundle", folder, "--at", "2026-06-15", "-o", out)
    assert proc.returncode == 0, proc.stderr
    from dossier.fmt import money

    text = norm(" ".join(p.extract_text() for p in PdfReader(out).pages[1:5]))
    assert norm(money(Decimal(computed["penalties"]))) in text
    assert norm(money(Decimal(computed["total"]))) in text


@pytest.mark.skipif(not (__import__("shutil").which("soffice") or __import__("shutil").which("libreoffice")),
                    reason="LibreOffice not installed: DOCX evidence is refused with a message instead")
def test_docx_evidence_is_converted_with_libreoffice(tmp_path, awkward):
    from docx import Document

    root = write_case(tmp_path / "docx", [("contrat", "Contrat (DOCX)", "contract.docx")], files=awkward)
    expected = " ".join(p.text for p in Document(root / "pieces" / "contract.docx").paragraphs if p.text.strip())
    out = tmp_path / "d.pdf"
    proc = cli("bundle", root, "--at", "2026-06-15", "-o", out, "--no-docx")
    assert proc.returncode == 0, proc.stderr
    reader = PdfReader(out)
    text = norm(" ".join(p.extract_text() for p in reader.pages))
    assert "Pièce n° 1 — p. 1/" in text
    assert norm(expected.split(".")[0]) in text


def test_requete_docx_is_a4_with_an_explicit_font_and_no_theme_fonts(tmp_path):
    from docx import Document

    out = tmp_path / "d.pdf"
    proc = cli("bundle", sample_copy("studio-graphique", tmp_path), "--at", "2026-06-15", "-o", out)
    assert proc.returncode == 0, proc.stderr
    docx_path = next(tmp_path.glob("*requete.docx"))
    doc = Document(docx_path)
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    from docx.oxml.ns import qn

    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet"):
        style = doc.styles[name]
        assert style.font.name == "Liberation Serif", name
        fonts = style.element.rPr.find(qn("w:rFonts"))
        themed = [a for a in ("w:asciiTheme", "w:hAnsiTheme") if fonts.get(qn(a)) is not None]
        assert themed == [], name  # a theme font would override the named one
        assert style.element.rPr.find(qn("w:lang")).get(qn("w:val")) == "fr-FR"
    used = {p.style.name for p in doc.paragraphs}
    assert used <= {"Normal", "Title", "Heading 1", "Heading 2", "List Bullet", "Destinataire", "Signature"}, used


def test_sole_trader_creditor_identity_mentions(tmp_path):
    """CPC art. 54 and 1407: a natural-person creditor's nationality, birth and profession
    appear in the requête when the case file gives them, blanks to complete otherwise."""
    folder = sample_copy("consumer-renovation", tmp_path)
    out = tmp_path / "full.pdf"
    assert cli("bundle", folder, "--at", "2026-06-15", "-o", out).returncode == 0
    text = norm(" ".join(p.extract_text() for p in PdfReader(out).pages[1:3]))
    assert "nationalité : française ; né le 17 avril 1979 à Marseille (Bouches-du-Rhône)" in text
    assert "Profession : artisan du bâtiment" in text and "……" not in text
    yml = folder / "case.yaml"
    yml.write_text("\n".join(l for l in yml.read_text().splitlines() if not l.strip().startswith(("nationality:", "birth_date:"))) + "\n")
    out2 = tmp_path / "blank.pdf"
    assert cli("bundle", folder, "--at", "2026-06-15", "-o", out2).returncode == 0
    text = norm(" ".join(p.extract_text() for p in PdfReader(out2).pages[1:3]))
    # blanks to fill in; the reason goes to the terminal (`check`), not into the pleading
    assert "nationalité : …" in text and "né le …" in text and "à Marseille" in text
    assert "à compléter" not in text


def test_each_penalty_period_cites_its_basis_given_once_in_a_note(rates):
    """Studio-graphique runs over three half-years: three bases, each written once under
    the table as "(k) …", and every period row's rate followed by the number of its own."""
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case
    from dossier.fmt import money, rate

    case = load_case(SAMPLES / "studio-graphique", AT)
    r = build_bundle(state_of(case, AT, rates))
    text = "\n".join(_front_lines(r, "Requête"))
    bases = []
    for inv in r.statement.invoices:
        for p in inv.periods:
            if p.basis not in bases:
                bases.append(p.basis)
            k = bases.index(p.basis) + 1
            row = (rf"n° {re.escape(inv.number)} du {p.start:%d/%m/%Y} au {p.end:%d/%m/%Y} {p.days} "
                   rf"{re.escape(norm(money(p.base)))} {re.escape(norm(rate(p.rate)))} \({k}\) {re.escape(norm(money(p.amount)))}")
            assert re.search(row, text), (row, text)
    assert len(bases) == 3
    for k, b in enumerate(bases, start=1):
        assert len(re.findall(rf"^\({k}\) {re.escape(norm(b))}$", text, re.M)) == 1, (k, b)
    # the DOCX the lawyer edits says the same
    import docx as python_docx

    from dossier.fmt import typo

    d = python_docx.Document(io.BytesIO(r.docx))
    cells = [[norm(c.text) for c in row.cells] for t in d.tables for row in t.rows]
    notes = norm(" ".join(c for row in cells for c in row if c.startswith("Fondement des taux")))
    for k, b in enumerate(bases, start=1):
        assert notes.count(f"({k}) {norm(typo(b))}") >= 1  # once per décompte table row (merged cell)
    for inv in r.statement.invoices:
        for p in inv.periods:
            k = bases.index(p.basis) + 1
            assert [f"n° {inv.number}", f"du {p.start:%d/%m/%Y} au {p.end:%d/%m/%Y}", str(p.days), norm(money(p.base)),
                    f"{norm(rate(p.rate))} ({k})", norm(money(p.amount))] in cells


def _front_lines(r, title_prefix):
    reader = reader_of(r)
    s = next(s for s in r.sections if s.title.startswith(title_prefix))
    return [line for k in range(s.pages) for line in lines_of(reader.pages[s.first_page - 1 + k])]


def test_avis_de_reception_of_a_notice_is_an_exhibit_cited_by_the_requete(tmp_path, awkward, rates):
    """notices[].receipt_file: the signed avis de réception becomes its own exhibit, among
    the proofs of receipt, and the requête (PDF and DOCX) cites it next to the letter."""
    import docx as python_docx

    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    root = write_case(tmp_path / "ar", [("devis", "Devis signé", "portrait.pdf")],
                      files={"portrait.pdf": awkward["portrait.pdf"], "mail.eml": awkward["mail.eml"],
                             "med.pdf": awkward["letter-small.pdf"], "ar.jpg": awkward["scan-exif.jpg"]})
    text = (root / "case.yaml").read_text(encoding="utf-8")
    (root / "case.yaml").write_text(text + (
        "  - {stage: mise-en-demeure, date: 2026-03-02, channel: lrar, lrar_number: \"1A 123 456 7890 1\",\n"
        "     received: 2026-03-04, file: pieces/med.pdf, receipt_file: pieces/ar.jpg}\n"), encoding="utf-8")
    r = build_bundle(state_of(load_case(root, AT), AT, rates))
    last = r.exhibits[-1]
    assert last.kind == "accuse-de-reception" and last.group == 5
    assert last.title == ("Avis de réception — Mise en demeure du 2 mars 2026 (lettre recommandée avec accusé de "
                          "réception n° 1A 123 456 7890 1), signé le 4 mars 2026")
    assert last.date == date(2026, 3, 4)
    med = next(e for e in r.exhibits if e.kind == "notice" and e.title.startswith("Mise en demeure"))
    ref = f"reçue le 04/03/2026 (pièce n° {med.number} ; avis de réception : pièce n° {last.number})"
    assert ref in _front_text(r, "Requête")
    assert f"Pièce n° {last.number} — p. 1/1" in norm(reader_of(r).pages[last.first_page - 1].extract_text())
    body = "\n".join(p.text for p in python_docx.Document(io.BytesIO(r.docx)).paragraphs)
    assert ref in norm(body)


def test_receipt_file_without_its_date_is_warned(tmp_path, awkward):
    root = write_case(tmp_path / "ar", [], files={"portrait.pdf": awkward["portrait.pdf"],
                                                  "mail.eml": awkward["mail.eml"], "ar.jpg": awkward["scan-exif.jpg"]})
    text = (root / "case.yaml").read_text(encoding="utf-8")
    (root / "case.yaml").write_text(text + (
        "  - {stage: mise-en-demeure, date: 2026-03-02, channel: lrar, lrar_number: \"1A 1\", receipt_file: pieces/ar.jpg}\n"),
        encoding="utf-8")
    proc = cli("check", root, "--at", "2026-06-15")
    assert proc.returncode == 0, proc.stderr
    assert "notices[1].received" in proc.stdout + proc.stderr and "avis de réception" in proc.stdout + proc.stderr
