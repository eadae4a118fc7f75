"""The print job, read back: real letters rendered for varied debtors (France, abroad,
long names, consumers and companies), assembled, then every output checked — order, rectos,
blank versos, the address inside the window, page counts and hashes against the manifest,
the C4 split, the deposit list's text, the journal's "printed" lines, atomicity."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from datetime import datetime, timezone

import pytest
from pypdf import PdfReader, PdfWriter

from dossier.errors import DossierError
from dossier.journal import read_journal, sent_entries
from dossier.letters import render_stage
from dossier.model import Address, Party, Person
from dossier.postal import printjob
from dossier.postal.marks import InserterMarks, omr_tracks
from dossier.postal.printjob import (
    NumberRange,
    PrintJobError,
    PrintProfile,
    Sender,
    build_print_job,
    letter_for,
)

from helpers import AT, MM, make_case, pdf_text, squash, state_of

WHEN = datetime(2026, 6, 15, 16, 30, tzinfo=timezone.utc)

DEBTORS = [
    # (slug, party, stage)
    ("grenoble", Party("Dupont & Fils", Address(("5 place Grenette",), "38000", "Grenoble"), legal_form="SAS",
                       representative=Person("Paul Dupont", "Président")), "mise-en-demeure"),
    ("aix", Party("Mme Jeanne Roux", Address(("31 chemin de la Valette",), "13100", "Aix-en-Provence"),
                  kind="consumer"), "mise-en-demeure"),
    ("paris", Party("Société Coopérative Ouvrière de Production du Bâtiment", Address(("1 rue de la Paix",), "75002", "Paris"),
                    legal_form="SCOP"), "relance-1"),
    ("lyon-cedex", Party("Caisse Régionale", Address(("Service Contentieux", "BP 103"), "69441", "Lyon Cedex 03")),
     "dernier-avis"),
    ("saint-emilion", Party("M. Loïc Le Goff", Address(("Lieu-dit Les Combes",), "33330", "Saint-Émilion"), kind="consumer"),
     "relance-1"),
    ("bruxelles", Party("Bakkerij Peeters", Address(("Rue Haute 12",), "1000", "Bruxelles", "BE")), "mise-en-demeure"),
    ("zurich", Party("Uhrenatelier Keller AG", Address(("Bahnhofstrasse 21",), "8001", "Zürich", "CH")), "dernier-avis"),
    ("berlin", Party("Müller Maschinenbau GmbH", Address(("Friedrichstraße 100",), "10117", "Berlin", "DE")), "relance-1"),
    ("bastia", Party("Corsica Marine", Address(("Port de Toga",), "20200", "Bastia")), "mise-en-demeure"),
    ("reunion", Party("Ti Case Créole", Address(("12 rue de Paris",), "97400", "Saint-Denis")), "relance-1"),
    ("lille", Party("Paul Martin", Address(("8 rue Nationale", "Appartement 12"), "59000", "Lille"), kind="consumer"),
     "dernier-avis"),
    ("aaa-lille", Party("Atelier Nord", Address(("2 place du Général de Gaulle",), "59000", "Lille")), "relance-1"),
    ("marseille", Party("Chantiers du Vieux-Port", Address(("4 quai du Port",), "13002", "Marseille")), "mise-en-demeure"),
]
#: this one is sent with 9 pages of enclosures: more than 5 sheets, a C4 envelope
THICK = "marseille"


def _enclosures(n: int) -> bytes:
    w = PdfWriter()
    for _ in range(n):
        w.add_blank_page(595.276, 841.89)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def letters(tmp_path_factory, rates):
    root = tmp_path_factory.mktemp("postal")
    out = []
    for slug, debtor, stage in DEBTORS:
        case = make_case(root / slug)
        case = dataclasses.replace(case, reference=f"REF-{slug}", debtor=dataclasses.replace(
            debtor, siren="539749960" if debtor.is_company else None, email=None))
        state = state_of(case, AT, rates)
        st = state.statement
        pdf = render_stage(state, stage, formats=("pdf",)).files[f"{stage}.pdf"]
        if slug == THICK:
            w = PdfWriter()
            w.append(PdfReader(io.BytesIO(pdf)))
            w.append(PdfReader(io.BytesIO(_enclosures(9))))
            buf = io.BytesIO()
            w.write(buf)
            pdf = buf.getvalue()
        file = case.root / "out" / f"{stage}.pdf"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(pdf)
        out.append(letter_for(case, stage, pdf, AT, file=file, level="R2" if slug == "bastia" else "R1",
                              invoices=tuple(i.number for i in case.invoices), amount=str(st.total)))
    return out


PROFILE = PrintProfile(numbers=NumberRange("1A 000 100 0000 0", "1A 000 100 9999 9"),
                       sender=Sender("Atelier Martin", ("12 rue de la Paix", "69002 LYON"), "C-0042"))


@pytest.fixture(scope="module")
def job(letters, tmp_path_factory):
    return build_print_job(letters, tmp_path_factory.mktemp("jobs") / "2026-06-15", PROFILE, batch_id="2026-06-15-a", at=WHEN)


def manifest(job):
    with open(job.folder / "manifest.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _text_lines(page):
    """Visual lines of a page with their left x, baseline y and size (full pypdf decode)."""
    runs = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((round(y * 2), x, size * abs(tm[3] * cm[3] or 1), text))

    page.extract_text(visitor_text=visit)
    lines = {}
    for y, x, size, text in runs:
        lines.setdefault(y, []).append((x, size, text))
    return [(squash("".join(t for _, _, t in sorted(v))), min(x for x, _, _ in v), y / 2, max(s for _, s, _ in v))
            for y, v in lines.items()]


def test_letters_sorted_by_destination_each_starting_on_a_recto(job, letters):
    rows = manifest(job)
    assert len(rows) == len(letters) == len(DEBTORS)
    assert [int(r["sequence"]) for r in rows] == list(range(1, len(rows) + 1))
    # France first by postcode then name, then abroad by country name (ALLEMAGNE, BELGIQUE, SUISSE)
    assert [r["case"] for r in rows] == [
        "REF-marseille", "REF-aix", "REF-bastia", "REF-saint-emilion", "REF-grenoble", "REF-aaa-lille", "REF-lille",
        "REF-lyon-cedex", "REF-paris", "REF-reunion", "REF-berlin", "REF-bruxelles", "REF-zurich"]
    assert [r["departement"] for r in rows][:4] == ["13", "13", "2B", "33"]
    dl = PdfReader(job.folder / "courrier.pdf")
    expected_first = 1
    for r in (r for r in rows if r["envelope"] == "DL"):
        first, pages = int(r["first_page"]), int(r["pages"])
        assert first == expected_first and first % 2 == 1, r  # every letter starts on a recto
        expected_first += pages + pages % 2
    assert len(dl.pages) == expected_first - 1


def test_blank_versos_are_really_blank(job):
    dl = PdfReader(job.folder / "courrier.pdf")
    versos = 0
    for r in (r for r in manifest(job) if r["envelope"] == "DL" and int(r["pages"]) % 2):
        page = dl.pages[int(r["first_page"]) - 1 + int(r["pages"])]
        content = page.get_contents()
        assert content is None or not content.get_data().strip()
        assert page.extract_text().strip() == ""
        assert "/Annots" not in page and "/XObject" not in (page.get("/Resources") or {})
        versos += 1
    assert versos >= 3


def test_every_first_page_has_the_address_inside_the_window(job, letters):
    by_case = {lt.case_reference: lt for lt in letters}
    top, left, width, height = PROFILE.window
    for r in manifest(job):
        pdf = PdfReader(job.folder / ("courrier.pdf" if r["envelope"] == "DL" else "courrier-c4.pdf"))
        page = pdf.pages[int(r["first_page"]) - 1]
        page_h = float(page.mediabox.height)
        lines = _text_lines(page)
        address = by_case[r["case"]].address
        assert address[-1].split(" ")[0] == r["postcode"] or address[-2].startswith(r["postcode"])
        for wanted in address:
            hits = [ln for ln in lines if ln[0] == squash(wanted)]
            assert hits, (r["case"], wanted)
            text, x, y, size = hits[0]
            assert left * MM <= x < (left + width) * MM, (r["case"], wanted, x / MM)
            assert page_h - (top + height) * MM <= y and y + 0.7 * size <= page_h - top * MM, (r["case"], wanted, y / MM)


def test_pages_and_sha256_match_the_manifest(job, letters):
    by_case = {lt.case_reference: lt for lt in letters}
    for r in manifest(job):
        lt = by_case[r["case"]]
        original = PdfReader(io.BytesIO(lt.pdf))
        assert r["sha256"] == hashlib.sha256(lt.pdf).hexdigest() == hashlib.sha256(lt.file.read_bytes()).hexdigest()
        assert int(r["pages"]) == len(original.pages)
        assert int(r["sheets"]) == (len(original.pages) + 1) // 2
        assert r["stage"] == lt.stage and r["debtor"] == lt.debtor_name
        # the job's pages are the letter's own pages
        pdf = PdfReader(job.folder / r["file"])
        first = int(r["first_page"]) - 1
        for k in (0, len(original.pages) - 1):
            assert pdf.pages[first + k].extract_text() == original.pages[k].extract_text()


def test_thick_letters_go_to_the_c4_file(job):
    rows = manifest(job)
    c4 = [r for r in rows if r["envelope"] == "C4"]
    assert [r["case"] for r in c4] == [f"REF-{THICK}"]
    assert int(c4[0]["sheets"]) > 5 and c4[0]["file"] == "courrier-c4.pdf" and c4[0]["first_page"] == "1"
    assert all(int(r["sheets"]) <= 5 for r in rows if r["envelope"] == "DL")
    pdf = PdfReader(job.folder / "courrier-c4.pdf")
    assert len(pdf.pages) == int(c4[0]["pages"]) + int(c4[0]["pages"]) % 2
    assert "Chantiers du Vieux-Port" in pdf_text((job.folder / "courrier-c4.pdf").read_bytes())
    assert "Chantiers du Vieux-Port" not in pdf_text((job.folder / "courrier.pdf").read_bytes())


def test_departement_counts(job):
    with open(job.folder / "manifest-departements.csv", encoding="utf-8") as f:
        counts = {r["departement"]: int(r["letters"]) for r in csv.DictReader(f)}
    assert counts["13"] == 2 and counts["59"] == 2 and counts["2B"] == 1 and counts["974"] == 1
    assert counts["BE"] == counts["CH"] == counts["DE"] == 1
    assert counts["total"] == len(DEBTORS) == sum(v for k, v in counts.items() if k != "total")


def test_deposit_list_has_every_registered_letter_and_the_total(job):
    rows = [r for r in manifest(job) if r["registered"] == "yes"]
    assert len(rows) == 5
    numbers = [r["number"] for r in rows]
    assert numbers == [f"1A 000 100 0000 {k}" for k in range(5)]  # handed out in sequence order
    text = squash(pdf_text((job.folder / "depot-recommandes.pdf").read_bytes()))
    assert "Atelier Martin" in text and "C-0042" in text
    for r in rows:
        assert r["number"] in text and r["postcode"] in text
        assert squash(r["debtor"])[:20] in text
    assert "Total : 5 envois recommandés, dont 5 avec avis de réception" in text
    assert "R1 : 4, R2 : 1, R3 : 0" in text


def test_batch_json_and_printed_is_not_sent(job, letters):
    batch = json.loads((job.folder / "batch.json").read_text(encoding="utf-8"))
    assert batch["state"] == "printed" and batch["batch"] == "2026-06-15-a"
    assert sorted(batch["files"]) == sorted(p.name for p in job.folder.iterdir())
    for lt in letters:
        entries = read_journal(lt.case_root)
        printed = [e for e in entries if e.status == "printed"]
        assert len(printed) == 1 and printed[0].stage == lt.stage
        assert printed[0].channel == ("lrar" if lt.registered else "letter")
        assert printed[0].files[0].sha256 == lt.sha256
        assert sent_entries(lt.case_root) == ()  # printed is not posted


def test_same_inputs_same_bytes(letters, tmp_path):
    a = build_print_job(letters[:3], tmp_path / "a", PROFILE, batch_id="x", at=WHEN, journal=False)
    b = build_print_job(letters[:3], tmp_path / "b", PROFILE, batch_id="x", at=WHEN, journal=False)
    for name in a.files:
        assert (a.folder / name).read_bytes() == (b.folder / name).read_bytes(), name


def test_simplex_adds_no_blank_verso(letters, tmp_path):
    job = build_print_job(letters[:4], tmp_path / "s", PROFILE, simplex=True, batch_id="s", at=WHEN, journal=False)
    rows = manifest(job)
    assert len(PdfReader(job.folder / "courrier.pdf").pages) == sum(int(r["pages"]) for r in rows)
    assert all(r["sheets"] == r["pages"] for r in rows)


def test_address_outside_the_window_refuses_the_whole_job(letters, tmp_path):
    left_window = dataclasses.replace(PROFILE, window=(55.0, 20.0, 85.0, 33.0))
    with pytest.raises(PrintJobError, match="lies outside the envelope window") as e:
        build_print_job(letters[:2], tmp_path / "job", left_window, batch_id="w", at=WHEN, journal=False)
    assert letters[0].case_reference in str(e.value)
    assert not (tmp_path / "job").exists() and list(tmp_path.iterdir()) == []


def test_an_existing_batch_is_never_overwritten(job, letters):
    with pytest.raises(PrintJobError, match="already exists"):
        build_print_job(letters[:1], job.folder, PROFILE, batch_id="again", at=WHEN, journal=False)


def test_a_killed_build_leaves_no_partial_batch_folder(letters, tmp_path, monkeypatch):
    written = []
    real = printjob._write

    def dying(path, data):
        if len(written) == 2:
            raise KeyboardInterrupt  # the process is stopped while writing the third file
        written.append(path)
        real(path, data)

    monkeypatch.setattr(printjob, "_write", dying)
    with pytest.raises(KeyboardInterrupt):
        build_print_job(letters[:2], tmp_path / "job", PROFILE, batch_id="k", at=WHEN, journal=False)
    assert written and not (tmp_path / "job").exists()
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone too


def test_omr_marks_on_each_recto_only(letters, tmp_path):
    profile = dataclasses.replace(PROFILE, marks=InserterMarks("omr"))
    job = build_print_job(letters[:3], tmp_path / "omr", profile, batch_id="o", at=WHEN, journal=False)
    pdf = PdfReader(job.folder / "courrier.pdf")
    for r in manifest(job):
        first, pages, sheets = int(r["first_page"]), int(r["pages"]), int(r["sheets"])
        for sheet in range(1, sheets + 1):
            page = pdf.pages[first - 1 + 2 * (sheet - 1)]
            marks = page["/Contents"][-1].get_object().get_data().decode()
            assert marks.count("re f") == sum(omr_tracks(sheet, sheets)), (r["case"], sheet)
        if pages % 2:  # the blank verso carries nothing
            verso = pdf.pages[first - 1 + pages]
            assert verso.get_contents() is None or not verso.get_contents().get_data().strip()


def test_2d_code_per_sheet(letters, tmp_path):
    import segno

    from dossier.postal.marks import code_text

    profile = dataclasses.replace(PROFILE, marks=InserterMarks("2d"))
    job = build_print_job(letters[:1], tmp_path / "2d", profile, batch_id="q", at=WHEN, journal=False)
    page = PdfReader(job.folder / "courrier.pdf").pages[0]
    ops = page["/Contents"][-1].get_object().get_data().decode()
    dark = sum(sum(1 for v in row if v) for row in segno.make_qr(code_text(1, 1, 2), error="m").matrix)
    assert ops.count(" re") == dark


def test_bad_letters_are_refused_before_anything_is_written(letters, tmp_path):
    broken = dataclasses.replace(letters[0], pdf=b"not a pdf", sha256="")
    with pytest.raises(DossierError, match="not a readable PDF"):
        build_print_job([broken, letters[1]], tmp_path / "j", PROFILE, batch_id="b", at=WHEN, journal=False)
    with pytest.raises(DossierError, match="twice"):
        build_print_job([letters[0], letters[0]], tmp_path / "j", PROFILE, batch_id="b", at=WHEN, journal=False)
    with pytest.raises(DossierError, match="no letter"):
        build_print_job([], tmp_path / "j", PROFILE, batch_id="b", at=WHEN, journal=False)
    assert not (tmp_path / "j").exists()


def test_number_range_runs_out_with_a_message(letters, tmp_path):
    short = dataclasses.replace(PROFILE, numbers=NumberRange("1A 000 000 0001 0", "1A 000 000 0001 1"))
    registered = [lt for lt in letters if lt.registered][:3]
    with pytest.raises(PrintJobError, match="3 registered letters but only 2 numbers"):
        build_print_job(registered, tmp_path / "j", short, batch_id="n", at=WHEN, journal=False)


@pytest.mark.parametrize("raw, shown", [("1A12345678901", "1A 123 456 7890 1"), ("1a 123 456 7890 1", "1A 123 456 7890 1")])
def test_registered_number_format(raw, shown):
    assert printjob.format_number(raw) == shown


@pytest.mark.parametrize("raw", ["1A 123 456 7890", "AA 123 456 7890 1", "RA123456789FR"])
def test_registered_number_refused(raw):
    with pytest.raises(PrintJobError, match="not a registered-letter number"):
        printjob.format_number(raw)


def test_window_check_fast_path_agrees_with_the_full_decode(job, letters):
    """The fast reader (only the text objects near the window) finds the same address lines,
    at the same positions, as pypdf's full decode of the page."""
    from dossier.postal.glyphs import Rect, read_lines

    for lt in letters[:4]:
        page = PdfReader(io.BytesIO(lt.pdf)).pages[0]
        window = Rect.from_window_mm(PROFILE.window, float(page.mediabox.height))
        fast = {ln.text: (round(ln.x, 1), round(ln.y, 1)) for ln in read_lines(page, window.grown(12 * MM))}
        full = {ln.text: (round(ln.x, 1), round(ln.y, 1)) for ln in read_lines(page)}
        for line in lt.address:
            assert fast[squash(line)] == full[squash(line)]
        assert all(full.get(text) == at for text, at in fast.items())
        assert len(fast) < len(full)


def test_print_profile_file(tmp_path):
    from dossier.postal.profile import load_profile

    f = tmp_path / "profile.yaml"
    f.write_text('window: "60,118,85.5,25.5"\nduplex: false\nmarks: {kind: omr, top_mm: 120}\n'
                 'numbers: {first: "1A 000 100 0000 0", last: "1A 000 100 9999 9"}\n'
                 'sender: {name: Atelier Martin, address: ["12 rue de la Paix", "69002 LYON"], customer_number: 42}\n',
                 encoding="utf-8")
    p = load_profile(f)
    assert p.window == (60.0, 118.0, 85.5, 25.5) and p.duplex is False
    assert p.marks == InserterMarks("omr", top_mm=120.0) and p.sender.customer_number == "42"
    assert p.numbers.numbers(2) == ["1A 000 100 0000 0", "1A 000 100 0000 1"]
    f.write_text("duplex: true\nmarks:\n  kind: omr\n  pitch: 4\n", encoding="utf-8")
    with pytest.raises(DossierError, match=r"profile.yaml:4: marks.pitch: unknown key"):
        load_profile(f)
    f.write_text('numbers: {first: "1A 1", last: "1A 000 100 9999 9"}\n', encoding="utf-8")
    with pytest.raises(DossierError, match=r"profile.yaml:1: numbers.first: '1A 1' is not a registered-letter number"):
        load_profile(f)


def test_long_deposit_list_runs_over_pages_with_every_row_and_one_total(tmp_path):
    from dossier.postal.depot_list import deposit_list
    from dossier.postal.printjob import JobLetter, PaperLetter

    rows = [JobLetter(k, PaperLetter(f"C-{k}", tmp_path, f"Débiteur numéro {k}", "mise-en-demeure", "FR", f"{10000 + k}",
                                     b"%PDF", registered=True, receipt=k % 2 == 0, address=(f"{10000 + k} VILLE",)),
                      2, 1, "DL", 1, None if k % 3 else f"1A 000 000 {k:04d} 0")
            for k in range(1, 121)]
    pdf = deposit_list(rows, None, AT, "long")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    text = squash(pdf_text(pdf))
    for k in range(1, 121):
        assert f"Débiteur numéro {k} " in text + " " and f"{10000 + k}" in text
    assert "1A 000 000 0099 0" in text and text.count("Total :") == 1
    assert "Total : 120 envois recommandés, dont 60 avec avis de réception" in squash(reader.pages[-1].extract_text())
    assert f"page 1/{len(reader.pages)}" in squash(reader.pages[0].extract_text())


KILLED_BUILD = """
import os, pickle, sys, time
from dossier.postal import printjob
letters, out = pickle.load(open(sys.argv[1], "rb")), sys.argv[2]
real = printjob._write
def slow(path, data):
    real(path, data)
    print("wrote", path.name, flush=True)
    time.sleep(30)
printjob._write = slow
printjob.build_print_job(letters, out, printjob.PrintProfile(), batch_id="k", at=printjob.datetime(2026, 6, 15), journal=False)
"""


def test_a_build_killed_by_sigkill_leaves_no_batch_folder(letters, tmp_path):
    import os
    import pickle
    import signal
    import subprocess
    import sys

    data = tmp_path / "letters.pickle"
    data.write_bytes(pickle.dumps(letters[:2]))
    out = tmp_path / "jobs" / "batch"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(data), str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("wrote")  # the first file is on disk
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert not out.exists()  # no batch folder, complete or partial
    left = list(out.parent.iterdir())
    assert len(left) == 1 and left[0].name.startswith(".batch.tmp-")  # only the hidden work folder
    assert not (left[0] / "batch.json").exists()


def test_a_case_whose_journal_is_torn_refuses_the_job_before_anything_is_written(letters, tmp_path):
    import shutil

    root = tmp_path / "case"
    shutil.copytree(letters[0].case_root, root, ignore=shutil.ignore_patterns("journal.jsonl"))
    (root / "journal.jsonl").write_bytes(b'{"stage": "rel')
    torn = dataclasses.replace(letters[0], case_root=root)
    with pytest.raises(DossierError, match="incomplete last line"):
        build_print_job([torn, letters[1]], tmp_path / "job", PROFILE, batch_id="t", at=WHEN)
    assert not (tmp_path / "job").exists()
    assert not [e for e in read_journal(letters[1].case_root) if e.note and e.note.startswith("print job t,")]
