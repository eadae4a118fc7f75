"""NF Z10-011 address blocks (table-driven, real French and foreign addresses), their
check in ``dossier check``, and the ``dossier post`` commands on a built print job."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from datetime import date, datetime, timezone

import pytest

from dossier.errors import Problem
from dossier.journal import as_notices, awaiting_deposit, read_journal, receipt_of
from dossier.model import Address, Party, Person
from dossier.postal.address import (
    MAX_CHARS,
    AddressError,
    address_problems,
    format_address,
)
from dossier.postal.printjob import PrintProfile, build_print_job, letter_for

from helpers import AT, SAMPLES, invoke, make_case


def company(name, lines, pc, city, country="FR", legal_form=None, rep=None):
    return Party(name, Address(tuple(lines), pc, city, country), legal_form=legal_form,
                 representative=Person(*rep) if rep else None)


def consumer(name, lines, pc, city, country="FR"):
    return Party(name, Address(tuple(lines), pc, city, country), kind="consumer")


ADDRESSES = [
    # (party, expected block)
    (company("Boulangerie Dupont", ["5 place Grenette"], "38000", "Grenoble", legal_form="SAS",
             rep=("Paul Dupont", "Président")),
     ("Boulangerie Dupont (SAS)", "À l’attention de Paul Dupont", "5 place Grenette", "38000 GRENOBLE")),
    # CEDEX and BP: kept, punctuation of the delivery lines dropped
    (company("Caisse d'Allocations Familiales", ["Service Contentieux", "B.P. 103"], "69441", "Lyon Cedex 03"),
     ("Caisse d'Allocations Familiales", "Service Contentieux", "B P 103", "69441 LYON CEDEX 03")),
    # lieu-dit, accents and hyphens of the locality (La Poste's "libellé d'acheminement")
    (consumer("Mme Jeanne Martin", ["Lieu-dit Les Combes", "Le Bourg"], "33330", "Saint-Émilion"),
     ("Mme Jeanne Martin", "Lieu-dit Les Combes", "Le Bourg", "33330 SAINT EMILION")),
    (consumer("M. Loïc Le Goff", ["14, chemin des Oliviers"], "13510", "Éguilles"),
     ("M. Loïc Le Goff", "14 chemin des Oliviers", "13510 EGUILLES")),
    # a long street name: abbreviated as La Poste allows, only because it exceeds 38
    (company("SCI du Parc", ["27 boulevard du Maréchal de Lattre de Tassigny"], "67000", "Strasbourg"),
     ("SCI du Parc", "27 BD du MAL de Lattre de Tassigny", "67000 STRASBOURG")),
    # a legal form that would overflow is left out of line 1 (never a cut line)
    (company("Établissements Fournier-Lambert & Fils", ["2 rue Guadet"], "33330", "Saint-Émilion", legal_form="SARL"),
     ("Établissements Fournier-Lambert & Fils", "2 rue Guadet", "33330 SAINT EMILION")),
    # a name longer than a line continues on line 2, between words
    (company("Société Coopérative Ouvrière de Production du Bâtiment", ["1 rue de la Paix"], "75002", "Paris",
             rep=("Luc Morel", "Gérant")),
     ("Société Coopérative Ouvrière de", "Production du Bâtiment", "À l’attention de Luc Morel, Gérant",
      "1 rue de la Paix", "75002 PARIS")),
    # abroad: the country last, in French capitals
    (company("Bakkerij Peeters", ["Rue Haute 12"], "1000", "Bruxelles", "BE"),
     ("Bakkerij Peeters", "Rue Haute 12", "1000 BRUXELLES", "BELGIQUE")),
    (company("Uhrenatelier Keller AG", ["Bahnhofstrasse 21"], "8001", "Zürich", "CH", rep=("Anna Keller", "CEO")),
     ("Uhrenatelier Keller AG", "À l’attention d’Anna Keller, CEO", "Bahnhofstrasse 21", "8001 ZÜRICH", "SUISSE")),
    (company("Müller Maschinenbau GmbH", ["Hinterhof", "Friedrichstraße 100"], "10117", "Berlin", "DE"),
     ("Müller Maschinenbau GmbH", "Hinterhof", "Friedrichstraße 100", "10117 BERLIN", "ALLEMAGNE")),
    # empty lines removed, runs of spaces collapsed
    (consumer("Paul   Durand", ["", "  3 allée des Tilleuls ", "   "], "38000", "Grenoble"),
     ("Paul Durand", "3 allée des Tilleuls", "38000 GRENOBLE")),
]


@pytest.mark.parametrize("party, expected", ADDRESSES, ids=[p.name for p, _ in ADDRESSES])
def test_format_address_to_nf_z10_011(party, expected):
    block = format_address(party)
    assert block == expected
    assert all(len(line) <= MAX_CHARS for line in block)
    assert len(block) <= (7 if party.address.country != "FR" else 6)
    assert not address_problems(party)


def test_seven_lines_abroad_but_six_in_france():
    lines = ["Bâtiment C", "Escalier 2", "12 rue des Alpes"]
    fr = company("Dupont", lines, "38000", "Grenoble", rep=("Paul Dupont", None))
    be = company("Dupont", lines, "1000", "Bruxelles", "BE", rep=("Paul Dupont", None))
    assert len(format_address(be)) == 7 and format_address(be)[-1] == "BELGIQUE"
    assert len(format_address(fr)) == 6
    too_many = dataclasses.replace(fr, address=Address(tuple(lines + ["Boîte 4"]), "38000", "Grenoble"))
    problems = address_problems(too_many)
    assert [p.field for p in problems] == ["debtor.address.lines"]
    assert "7 lines" in problems[0].message and "at most 6" in problems[0].message


@pytest.mark.parametrize("party, field", [
    (company("Kunstschmiede-und-Metallbau-Handwerksbetrieb", ["1 rue de la Paix"], "75002", "Paris"), "debtor.name"),
    (consumer("Jean Dupont", ["Résidence les Terrasses du Parc Impérial Nord-Est 4"], "06000", "Nice"), "debtor.address.lines[0]"),
])
def test_a_line_that_does_not_fit_is_an_error_never_cut(party, field):
    problems = address_problems(party)
    assert [p.field for p in problems] == [field]
    assert "at most 38" in problems[0].message
    with pytest.raises(AddressError, match=field.replace("[", r"\[").replace("]", r"\]")):
        format_address(party)


def test_dossier_check_names_the_field_and_the_line(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(SAMPLES / "atelier-martin", case, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    yml = case / "case.yaml"
    text = yml.read_text(encoding="utf-8")
    long_street = "Zone artisanale intercommunale des Glières et du Grand Pré Nord"
    text = text.replace('lines: ["5 place Grenette"]', f'lines: ["{long_street}"]')
    yml.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if long_street in t)
    code, out, err = invoke("check", case, "--at", "2026-06-15")
    assert code == 2
    assert f"case.yaml:{line}: debtor.address.lines[0]:" in err and "at most 38" in err
    # the letter refuses too, rather than printing a cut line
    code, _, err = invoke("letter", "mise-en-demeure", case, "--at", "2026-06-15", "-o", tmp_path / "out")
    assert code == 2 and "debtor.address.lines[0]" in err


def test_problem_records_are_file_line_field():
    p = address_problems(company("X" * 40, ["1 rue A"], "75001", "Paris"), lines={"debtor.name": 7})
    assert p == [Problem("case.yaml", 7, "debtor.name", p[0].message)]


# --------------------------------------------------------------------------- dossier post


@pytest.fixture(scope="module")
def mise_en_demeure_pdf(tmp_path_factory, rates):
    """One real mise en demeure of helpers.make_case (every case below has its debtor)."""
    from dossier.letters import render_stage

    from helpers import state_of

    case = make_case(tmp_path_factory.mktemp("render") / "c")
    return render_stage(state_of(case, AT, rates), "mise-en-demeure", formats=("pdf",)).files["mise-en-demeure.pdf"]


def _job(tmp_path, pdf, n=3):
    letters = []
    for k in range(n):
        case = dataclasses.replace(make_case(tmp_path / f"case{k}"), reference=f"AM-{k}")
        file = case.root / "out" / "mise-en-demeure.pdf"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(pdf)
        # the second letter is an ordinary one (a debtor without email, say)
        letters.append(letter_for(case, "mise-en-demeure", pdf, AT, file=file, registered=k != 1,
                                  invoices=("F2026-014",), amount="5230.55"))
    return build_print_job(letters, tmp_path / "batch", PrintProfile(), batch_id="b1",
                           at=datetime(2026, 6, 15, 17, tzinfo=timezone.utc))


def _journal_lines(job):
    return {p.letter.case_reference: (p.letter.case_root / "journal.jsonl").read_text(encoding="utf-8") for p in job.letters}


def test_confirm_records_one_sent_per_letter_and_a_confirmed_batch_is_immutable(tmp_path, mise_en_demeure_pdf):
    job = _job(tmp_path, mise_en_demeure_pdf)
    for p in job.letters:  # printed is not posted: nothing for the ladder yet
        assert as_notices(p.letter.case_root) == ()
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("sequence,number\n1,1A 123 456 7890 1\nAM-2,1a12345678902\n", encoding="utf-8")
    code, out, err = invoke("post", "confirm", job.folder, "--date", "2026-06-16", "--numbers", numbers)
    assert code == 0, err
    assert "3 letter(s) recorded as sent" in out
    expected = {"AM-0": "1A 123 456 7890 1", "AM-1": None, "AM-2": "1A 123 456 7890 2"}
    for p in job.letters:
        sent = [e for e in read_journal(p.letter.case_root) if e.status == "sent"]
        assert len(sent) == 1
        assert sent[0].date == date(2026, 6, 16) and sent[0].stage == "mise-en-demeure"
        assert sent[0].channel == ("lrar" if p.letter.registered else "letter")
        assert sent[0].lrar_number == expected[p.letter.case_reference]
        assert sent[0].files[0].sha256 == p.letter.sha256 and sent[0].invoices == ("F2026-014",)
        # the ladder and the décompte see the notice from its deposit date
        notices = as_notices(p.letter.case_root)
        assert [(n.stage, n.date) for n in notices] == [("mise-en-demeure", date(2026, 6, 16))]
    batch = json.loads((job.folder / "batch.json").read_text(encoding="utf-8"))
    assert batch["state"] == "confirmed" and batch["deposited"] == "2026-06-16"
    before = _journal_lines(job)
    code, _, err = invoke("post", "confirm", job.folder, "--date", "2026-06-17")
    assert code == 2 and "immutable" in err
    code, _, err = invoke("post", "discard", job.folder)
    assert code == 2 and "immutable" in err
    assert _journal_lines(job) == before


def test_numbers_file_errors_name_the_line(tmp_path, mise_en_demeure_pdf):
    job = _job(tmp_path, mise_en_demeure_pdf, n=2)
    bad = tmp_path / "numbers.csv"
    bad.write_text("1,1A 123 456 7890 1\n2,12345\n", encoding="utf-8")
    code, _, err = invoke("post", "confirm", job.folder, "--numbers", bad)
    assert code == 2 and f"{bad}:2: number:" in err
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("7,1A 123 456 7890 1\n", encoding="utf-8")
    code, _, err = invoke("post", "confirm", job.folder, "--numbers", unknown)
    assert code == 2 and "7 is neither a letter sequence nor a case" in err
    assert all(e.status == "printed" for p in job.letters for e in read_journal(p.letter.case_root))


def test_discard_cancels_the_printed_lines_without_rewriting_them(tmp_path, mise_en_demeure_pdf):
    job = _job(tmp_path, mise_en_demeure_pdf, n=2)
    before = _journal_lines(job)
    assert all(len(awaiting_deposit(read_journal(p.letter.case_root))) == 1 for p in job.letters)
    code, out, err = invoke("post", "discard", job.folder)
    assert code == 0, err
    for p in job.letters:
        text = (p.letter.case_root / "journal.jsonl").read_text(encoding="utf-8")
        assert text.startswith(before[p.letter.case_reference])  # appended, never rewritten
        assert [e.status for e in read_journal(p.letter.case_root)] == ["printed", "discarded"]
        assert awaiting_deposit(read_journal(p.letter.case_root)) == ()
    code, _, err = invoke("post", "confirm", job.folder)
    assert code == 2 and "discarded" in err
    code, _, err = invoke("post", "confirm", tmp_path)
    assert code == 2 and "not a print job folder" in err


def test_receipt_records_the_date_and_the_signed_card(tmp_path, mise_en_demeure_pdf):
    job = _job(tmp_path, mise_en_demeure_pdf, n=1)
    case = job.letters[0].letter.case_root
    scan = tmp_path / "AR scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n% a scanned avis de reception\n")
    code, _, err = invoke("post", "receipt", case, "--received", "2026-06-18", "--file", scan)
    assert code == 2 and "confirm its deposit first" in err
    assert invoke("post", "confirm", job.folder, "--date", "2026-06-16")[0] == 0
    code, _, err = invoke("post", "receipt", case, "--received", "2026-06-15")
    assert code == 2 and "before the letter was sent" in err
    code, out, err = invoke("post", "receipt", case, "--received", "2026-06-18", "--file", scan)
    assert code == 0, err
    copied = case / "pieces" / "avis-de-reception-mise-en-demeure-2026-06-18.pdf"
    assert copied.read_bytes() == scan.read_bytes()
    entries = read_journal(case)
    sent = next(e for e in entries if e.status == "sent")
    got = receipt_of(sent, entries)
    assert got is not None and got.date == date(2026, 6, 18)
    assert got.files[0].path == "pieces/avis-de-reception-mise-en-demeure-2026-06-18.pdf"
    assert got.files[0].sha256 == hashlib.sha256(scan.read_bytes()).hexdigest()
    code, _, err = invoke("post", "receipt", case, "--received", "2026-06-19")
    assert code == 2 and "already recorded" in err
    fake = tmp_path / "ar.png"
    fake.write_bytes(b"not an image")
    assert invoke("post", "receipt", case, "--received", "2026-06-19", "--file", fake)[0] == 2


def test_huge_untrusted_address_is_reported_in_linear_time():
    import time

    t = time.perf_counter()
    party = company("Saint " * 20000, ["avenue Saint " * 20000], "75001", "Saint " * 20000)
    problems = address_problems(party)
    assert time.perf_counter() - t < 2
    assert {p.field for p in problems} == {"debtor.name", "debtor.address.lines[0]", "debtor.address.city"}
