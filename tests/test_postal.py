"""NF Z10-011 address blocks (table-driven, real French and foreign addresses), their
check in ``dossier check``, and the ``dossier post`` commands on a built print job."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from helpers import SAMPLES, invoke

from dossier.errors import Problem
from dossier.model import Address, Party, Person
from dossier.postal.address import (
    MAX_CHARS,
    AddressError,
    address_problems,
    format_address,
)


def company(name, lines, pc, city, country="FR", legal_form=None, rep=None):
    return Party(name, Address(tuple(lines), pc, city, country), legal_form=legal_form,
                 representative=Person(*rep) if rep else None)


def consumer(name, lines, pc, city, country="FR"):
    return Party(name, Address(tuple(lines), pc, city, country), kind="consumer")


ADDRESSES = [
    # (party, expected block)
    (company("Boulangerie Dupont", ["5 place Grenette"], "38000", "Grenoble", legal_form="SAS",
             rep=("Paul Dupont", "Président")),
     ("Boulangerie Dupont (SAS)", "À l'attention de Paul Dupont", "5 place Grenette", "38000 GRENOBLE")),
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
     ("Société Coopérative Ouvrière de", "Production du Bâtiment", "À l'attention de Luc Morel, Gérant",
      "1 rue de la Paix", "75002 PARIS")),
    # abroad: the country last, in French capitals
    (company("Bakkerij Peeters", ["Rue Haute 12"], "1000", "Bruxelles", "BE"),
     ("Bakkerij Peeters", "Rue Haute 12", "1000 BRUXELLES", "BELGIQUE")),
    (company("Uhrenatelier Keller AG", ["Bahnhofstrasse 21"], "8001", "Zürich", "CH", rep=("Anna Keller", "CEO")),
     ("Uhrenatelier Keller AG", "À l'attention de Anna Keller, CEO", "Bahnhofstrasse 21", "8001 ZÜRICH", "SUISSE")),
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
