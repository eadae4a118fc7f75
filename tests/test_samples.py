"""Golden figures of the bundled samples at the demo date, computed by hand in
samples/README.md (per period: base × rate × days / 36,500, half-up per line)."""

import json
from datetime import date
from decimal import Decimal as D

import pytest

from dossier.casefile import load_case
from dossier.law.penalties import compute_statement

from helpers import SAMPLES, cli

AT = date(2026, 6, 15)

GOLDEN = {
    "atelier-martin": {"outstanding": "8890.00", "penalties": "514.81", "indemnities": "120.00", "total": "9524.81",
                       "per_invoice": {"F2025-087": "183.19", "F2025-094": "252.32", "F2026-006": "79.30"}},
    "studio-graphique": {"outstanding": "6900.00", "penalties": "868.19", "indemnities": "80.00", "total": "7848.19",
                         "per_invoice": {"F2025-031": "708.90", "F2025-048": "159.29"}},
    "consumer-renovation": {"outstanding": "4380.00", "penalties": "72.44", "indemnities": "0.00", "total": "4452.44",
                            "per_invoice": {"F2025-098": "72.44"}},
}


@pytest.mark.parametrize("name", GOLDEN)
def test_sample_figures(name, rates):
    g = GOLDEN[name]
    st = compute_statement(load_case(SAMPLES / name, AT), AT, rates)
    assert (str(st.outstanding), str(st.penalties), str(st.indemnities), str(st.total)) == (
        g["outstanding"], g["penalties"], g["indemnities"], g["total"])
    assert {i.number: str(i.penalties) for i in st.invoices} == g["per_invoice"]


def test_split_at_1_january_even_when_the_rate_is_unchanged(rates):
    # F2025-048: 1,500 at 12.15 % from 1 Aug 2025 to 15 Jun 2026 (319 days). One line would
    # give 159.28; the half-year rule makes two lines, 76.40 + 82.89 = 159.29.
    st = compute_statement(load_case(SAMPLES / "studio-graphique", AT), AT, rates)
    inv = next(i for i in st.invoices if i.number == "F2025-048")
    assert [(p.days, str(p.amount)) for p in inv.periods] == [(153, "76.40"), (166, "82.89")]


def test_consumer_sample_has_no_flat_indemnity_and_runs_from_receipt(rates):
    case = load_case(SAMPLES / "consumer-renovation", AT)
    st = compute_statement(case, AT, rates)
    assert st.regime == "consumer" and st.indemnities == 0
    med = case.mise_en_demeure
    assert st.invoices[0].periods[0].start == date.fromordinal(med.received.toordinal() + 1)


def test_cli_json_equals_library(rates):
    proc = cli("compute", SAMPLES / "atelier-martin", "--at", AT.isoformat(), "--json")
    assert proc.returncode == 0, proc.stderr
    st = compute_statement(load_case(SAMPLES / "atelier-martin", AT), AT, rates)
    assert json.loads(proc.stdout) == json.loads(json.dumps(st.to_json(), ensure_ascii=False))


def test_compute_counts_a_mise_en_demeure_recorded_in_the_journal(tmp_path):
    import shutil

    from dossier import journal

    folder = tmp_path / "case"
    shutil.copytree(SAMPLES / "consumer-renovation", folder)
    text = (folder / "case.yaml").read_text()
    start = text.index("  - {stage: mise-en-demeure")
    end = text.index("\n  - ", start + 1) if "\n  - " in text[start + 1:] else len(text)
    (folder / "case.yaml").write_text(text[:start] + text[end + 1:])
    without = json.loads(cli("compute", folder, "--at", "2026-06-15", "--json").stdout)
    assert without["penalties"] == "0.00"  # no mise en demeure: no interest for a consumer
    journal.record(folder, journal.JournalEntry(stage="mise-en-demeure", date=date(2025, 12, 1), channel="lrar", status="sent",
                                                lrar_number="1A 000 000 0000 0"))
    proc = cli("compute", folder, "--at", "2026-06-15", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["invoices"][0]["periods"][0]["start"] == "2025-12-02"
    assert D(data["penalties"]) > 0
