from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier.fmt import amount_in_words, date_long, money, rate

NB = "\u00a0"


@pytest.mark.parametrize(
    "amount, words",
    [
        ("1234.56", "mille deux cent trente-quatre euros et cinquante-six centimes"),
        ("1", "un euro"),
        ("1.01", "un euro et un centime"),
        ("0.01", "un centime"),
        ("0.56", "cinquante-six centimes"),
        ("80", "quatre-vingts euros"),
        ("81", "quatre-vingt-un euros"),
        ("200", "deux cents euros"),
        ("201", "deux cent un euros"),
        ("1000", "mille euros"),
        ("21.21", "vingt et un euros et vingt et un centimes"),
        ("1000000", "un million d'euros"),
        ("2000000", "deux millions d'euros"),
        ("1200000.50", "un million deux cent mille euros et cinquante centimes"),
        ("80000000", "quatre-vingts millions d'euros"),
        ("999999999.99", "neuf cent quatre-vingt-dix-neuf millions neuf cent quatre-vingt-dix-neuf mille "
                         "neuf cent quatre-vingt-dix-neuf euros et quatre-vingt-dix-neuf centimes"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(D(amount)) == words


@pytest.mark.parametrize("bad", ["0", "0.004", "1000000000", "-5"])
def test_amount_in_words_range(bad):
    with pytest.raises(ValueError):
        amount_in_words(D(bad))


@given(st.decimals(min_value=D("0.01"), max_value=D("999999999.99"), places=2))
def test_words_never_say_zero_and_agree(amount):
    w = amount_in_words(amount)
    assert "zéro" not in w
    assert w.endswith(("euro", "euros", "centime", "centimes"))
    if int(amount) >= 2:
        assert "euros" in w


def test_money_rate_dates():
    assert money(D("1234.5")) == f"1{NB}234,50{NB}€"
    assert money(D("0.005")) == f"0,01{NB}€"  # half-up
    assert rate(D("12.15")) == f"12,15{NB}%"
    assert rate(D("10")) == f"10,00{NB}%"
    assert date_long(date(2026, 11, 23)) == "23 novembre 2026"
    assert date_long(date(2026, 12, 1)) == "1er décembre 2026"
