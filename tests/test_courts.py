"""Which court hears the requête en injonction de payer (shared/LEGAL.md §6)."""

from __future__ import annotations

import pytest

from dossier.law.courts import TC, TJ, choose_court, court_for_case
from dossier.model import Address, Party

LYON = Address(("12 rue de la Paix",), "69002", "Lyon")
GRENOBLE = Address(("5 place Grenette",), "38000", "Grenoble")
#: Isère has several courts of each kind and Voiron is not a seat: the court is not named
VOIRON = Address(("3 cours Becquart-Castelbon",), "38500", "Voiron")


def company(form, rcs=None, addr=LYON, name="Société"):
    return Party(name, addr, kind="company", legal_form=form, rcs_city=rcs)


@pytest.mark.parametrize("creditor, debtor, kind, certain", [
    (company("SARL", "Lyon"), company("SAS", addr=GRENOBLE), TC, True),
    (company("SAS"), company("SA", addr=GRENOBLE), TC, True),
    (company("EURL"), company("SNC", addr=GRENOBLE), TC, True),
    (company("EI", "Lyon"), company("SAS", addr=GRENOBLE), TC, True),  # registered trader
    (company("SARL"), Party("Sophie Lefèvre", GRENOBLE, kind="consumer"), TJ, True),
    (company("SARL"), company("SCI", addr=GRENOBLE), TJ, True),
    (company("SARL"), company("Association", addr=GRENOBLE), TJ, True),
    (company("SCP"), company("SAS", addr=GRENOBLE), TJ, True),  # civil creditor
    (company("EI"), company("SAS", addr=GRENOBLE), TC, False),  # EI without RCS: to check
    (company("SELARL"), company("SAS", addr=GRENOBLE), TC, False),  # SEL: commercial form, civil object
])
def test_kind_of_court(creditor, debtor, kind, certain):
    debtor = Party(debtor.name, VOIRON, kind=debtor.kind, legal_form=debtor.legal_form, rcs_city=debtor.rcs_city)
    c = choose_court(creditor, debtor)
    assert (c.kind, c.certain) == (kind, certain)
    assert c.town == debtor.address.city and c.postal_code == debtor.address.postal_code
    assert c.check and debtor.address.postal_code in c.check  # not named: says what to check
    if not certain:
        assert "commerçant" in c.check


def test_territory_is_the_debtors_seat_or_domicile():
    c = choose_court(company("SARL"), company("SAS", addr=VOIRON))
    assert "siège du débiteur" in c.label and "(38500 Voiron)" in c.label
    assert "1406" in " ".join(c.reasons)
    consumer = choose_court(company("SARL"), Party("Sophie Lefèvre", VOIRON, kind="consumer"))
    assert "domicile du débiteur" in consumer.label and consumer.kind_label == "Tribunal judiciaire"


def test_named_court_overrides_and_needs_no_check():
    c = choose_court(company("SARL"), company("SAS", addr=GRENOBLE), "Tribunal des activités économiques de Lyon")
    assert c.name == c.label == "Tribunal des activités économiques de Lyon"
    assert c.check is None
    assert c.addressee == "À Madame la Présidente ou Monsieur le Président du tribunal des activités économiques de Lyon"


def test_samples(rates):
    from dossier.casefile import load_case

    from helpers import SAMPLES

    assert court_for_case(load_case(SAMPLES / "atelier-martin")).kind == TC
    assert court_for_case(load_case(SAMPLES / "consumer-renovation")).kind == TJ


def test_named_court_of_the_wrong_kind_is_flagged():
    tc_case = choose_court(company("SARL"), company("SAS", addr=GRENOBLE), "Tribunal judiciaire de Grenoble")
    assert tc_case.mismatch and "tribunal de commerce" in tc_case.mismatch
    tj_case = choose_court(company("SARL"), Party("Sophie Lefèvre", GRENOBLE, kind="consumer"),
                           "Tribunal de commerce de Grenoble")
    assert tj_case.mismatch and "tribunal judiciaire" in tj_case.mismatch
    ok = choose_court(company("SARL"), company("SAS", addr=GRENOBLE), "Tribunal des activités économiques de Lyon")
    assert ok.mismatch is None
    unsure = choose_court(company("EI"), company("SAS", addr=GRENOBLE), "Tribunal judiciaire de Grenoble")
    assert unsure.mismatch is None  # the case file may know better
