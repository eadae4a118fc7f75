from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from dossier.errors import RateTableError
from dossier.law.deadlines import deadline, is_working_day
from dossier.law.rates import load_rates, parse_ecb_sdmx_csv

from helpers import cli

# LEGAL.md §4: the L441-10 default rate by half-year
DEFAULT = {
    (2016, 1): "10.05", (2016, 2): "10.00", (2022, 2): "10.00", (2023, 1): "12.50", (2023, 2): "14.00",
    (2024, 1): "14.50", (2024, 2): "14.25", (2025, 1): "13.15", (2025, 2): "12.15", (2026, 1): "12.15",
}


@pytest.mark.parametrize("half, expected", DEFAULT.items(), ids=[f"{y}-{h}" for y, h in DEFAULT])
def test_l441_default_rates_match_legal_md(rates, half, expected):
    assert rates.l441_default(*half).rate == D(expected)


def test_every_row_has_a_source(rates):
    assert all(r.source for r in rates.rows())
    assert rates.legal(2026, 1).sources[0].source.startswith("Arrêté du 15 décembre 2025")
    assert rates.legal(2023, 2, private=True).rate == D("6.82")


def test_missing_half_year_is_an_error_not_a_guess(rates):
    with pytest.raises(RateTableError, match="dossier rates add 2026-2 --legal-other"):
        rates.legal(2026, 2)
    with pytest.raises(RateTableError, match="2026-07-01"):
        rates.l441_default(2026, 2)


def test_rates_add_then_compute(tmp_path):
    user = tmp_path / "rates.csv"
    env = {"DOSSIER_RATES_FILE": str(user)}
    proc = cli("rates", "add", "2026-2", "--ecb", "2.15", "--legal-other", "2.50", "--legal-private", "6.00",
                   "--source", "test source", env=env)
    assert proc.returncode == 0, proc.stderr
    table = load_rates([user], user_file=False)
    assert table.l441_default(2026, 2).rate == D("12.15")
    assert table.legal(2026, 2).rate == D("2.50")
    shown = cli("rates", "show", env=env).stdout
    assert "legal-other    2026-2" in shown and "test source" in shown


def test_rates_add_needs_a_source_and_a_rate(tmp_path):
    env = {"DOSSIER_RATES_FILE": str(tmp_path / "r.csv")}
    assert cli("rates", "add", "2026-2", "--ecb", "2.15", env=env).returncode == 2
    proc = cli("rates", "add", "2026-3", "--ecb", "2.15", "--source", "x", env=env)
    assert proc.returncode == 2 and "half-year" in proc.stderr


def test_user_file_overrides_shipped(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("series,period,rate,source\nlegal-other,2025-1,9.99,my correction\n")
    assert load_rates([f], user_file=False).legal(2025, 1).rate == D("9.99")


@pytest.mark.parametrize(
    "content, message",
    [
        ("series,period,rate\n", "expected the header"),
        ("series,period,rate,source\nfoo,2025-1,1,x\n", "unknown series"),
        ("series,period,rate,source\nlegal-other,2025-1,abc,x\n", "is not a number"),
        ("series,period,rate,source\nlegal-other,2025-3,1,x\n", "must be a date"),
        ("series,period,rate,source\nlegal-other,2025-1,1,\n", "needs its source"),
    ],
)
def test_malformed_rate_file(tmp_path, content, message):
    f = tmp_path / "r.csv"
    f.write_text(content)
    with pytest.raises(RateTableError, match=message) as e:
        load_rates([f], user_file=False)
    assert str(f) in str(e.value)


def test_ecb_sdmx_import():
    text = (Path(__file__).parent / "data" / "ecb-mrr-sample.csv").read_text()
    rows = parse_ecb_sdmx_csv(text)
    assert [(r.period, str(r.rate)) for r in rows] == [("2025-06-10", "2.4"), ("2025-06-11", "2.15"), ("2026-07-01", "2.15")]


def test_ecb_import_command_extends_the_table(tmp_path):
    user = tmp_path / "rates.csv"
    proc = cli("rates", "import-ecb", Path(__file__).parent / "data" / "ecb-mrr-sample.csv", env={"DOSSIER_RATES_FILE": str(user)})
    assert proc.returncode == 0, proc.stderr
    assert load_rates([user], user_file=False).l441_default(2026, 2).rate == D("12.15")


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (date(2026, 11, 3), 8, date(2026, 11, 12)),   # 11 Nov (Armistice) -> Thursday 12
        (date(2026, 6, 12), 8, date(2026, 6, 22)),    # Saturday 20 -> Monday 22
        (date(2026, 12, 17), 8, date(2026, 12, 28)),  # Friday 25 Dec holiday, weekend -> Monday 28
        (date(2026, 4, 27), 8, date(2026, 5, 5)),     # Tuesday 5 May is a working day
        (date(2026, 4, 28), 8, date(2026, 5, 6)),     # 6 May ok; (8 May Friday is a holiday)
        (date(2026, 4, 30), 8, date(2026, 5, 11)),    # 8 May holiday, weekend -> Monday 11
    ],
)
def test_deadlines(start, days, expected):
    assert deadline(start, days) == expected
    assert is_working_day(expected)
