"""`dossier report`: the balance âgée of a portfolio — buckets computed by hand, totals equal
to `dossier compute` over the cases, CSV, and the HTML page opened in a real browser."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from decimal import Decimal as D
from pathlib import Path

import pytest

from dossier.ageing import bucket_of, portfolio_ageing
from dossier.law.rates import load_rates
from dossier.render.ageing import html_page

from helpers import invoke, norm, pdf_text

AT = "2026-06-15"

PORTFOLIO = """\
creditor:
  name: Atelier Martin
  legal_form: SARL
  siren: "732829320"
  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon}
  email: compta@atelier.example
terms:
  flat_indemnity: true
report:
  sales_last_91_days: "9100.00"
"""

CASE_A = """\
debtor:
  kind: company
  name: Boulangerie Dupont
  siren: "539749960"
  address: {lines: ["5 place Grenette"], postal_code: "38000", city: Grenoble}
invoices:
  - {number: A1, issued: 2026-05-21, due: 2026-06-20, amount_incl_tax: "100.00"}
  - {number: A2, issued: 2026-05-02, due: 2026-06-01, amount_incl_tax: "200.00"}
  - {number: A3, issued: 2026-03-02, due: 2026-04-01, amount_incl_tax: "300.00"}
  - {number: A4, issued: 2025-12-02, due: 2026-01-01, amount_incl_tax: "400.00"}
payments:
  - {date: 2026-01-20, amount: "10.00", invoice: A4}
  - {date: 2026-03-01, amount: "50.00", invoice: A4}
notices:
  - {stage: relance-1, date: 2026-02-01, channel: email}
"""

IMPORTED_B = """\
import: {keys: ["account:C002"]}
debtor:
  kind: company
  name: Café Étoile
  address: {lines: ["2 rue Neuve"], postal_code: "69001", city: Lyon}
invoices:
  - {number: B0, issued: 2026-01-10, due: 2026-02-09, amount_incl_tax: "80.00", status: paid}
  - {number: B1, issued: 2026-04-01, due: 2026-05-01, amount_incl_tax: "1000.00", status: open}
  - {number: B2, issued: 2026-02-08, due: 2026-03-10, due_estimated: true, amount_incl_tax: "500.00", status: open}
payments:
  - {id: BQ-7, date: 2026-04-10, amount: "80.00", invoice: B0}
"""

CASE_B = """\
invoices:
  - {number: B1, status: disputed}
notices:
  - {stage: relance-1, date: 2026-04-01, channel: email}
"""


def make_portfolio(tmp_path: Path, broken: bool = False) -> Path:
    pf = tmp_path / "pf"
    (pf / "a-dupont").mkdir(parents=True)
    (pf / "b-etoile").mkdir()
    (pf / "portfolio.yaml").write_text(PORTFOLIO, encoding="utf-8")
    (pf / "a-dupont" / "case.yaml").write_text(CASE_A, encoding="utf-8")
    (pf / "b-etoile" / "imported.yaml").write_text(IMPORTED_B, encoding="utf-8")
    (pf / "b-etoile" / "case.yaml").write_text(CASE_B, encoding="utf-8")
    if broken:
        (pf / "c-broken").mkdir()
        (pf / "c-broken" / "case.yaml").write_text(CASE_A.replace("539749960", "539749961"), encoding="utf-8")
    return pf


def report_of(pf: Path):
    from datetime import date

    return portfolio_ageing(pf, date.fromisoformat(AT), load_rates())


def test_buckets_disputed_recovered_and_dso_by_hand(tmp_path):
    r = report_of(make_portfolio(tmp_path))
    # A1 not yet due; A2 14 days late; B2 97 days; A3 75 days; A4 165 days (400 - 60 paid);
    # B1 45 days late but disputed: apart
    assert r.buckets == (D("100.00"), D("200.00"), D("0.00"), D("300.00"), D("500.00"), D("340.00"))
    assert r.disputed == D("1000.00") and r.outstanding == D("2440.00")
    # paid after the first notice: 50 (case A, after 2026-02-01) and 80 (case B's closed B0)
    assert r.recovered == D("130.00")
    assert r.recovered_by_month == (("2026-03", D("50.00")), ("2026-04", D("80.00")))
    assert r.dso == D("24.4")  # 2440 / 9100 x 91
    b = next(x for x in r.rows if x.reference == "b-etoile")
    assert b.stage == "relance-1" and b.next_stage is not None and b.next_on is not None
    assert [i.number for i in b.invoices if i.due_estimated] == ["B2"]


def test_bucket_edges():
    assert [bucket_of(d) for d in (-10, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 5000)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_totals_equal_dossier_compute_over_the_cases(tmp_path):
    pf = make_portfolio(tmp_path)
    r = report_of(pf)
    sums = {k: D(0) for k in ("outstanding", "penalties", "indemnities", "total")}
    for case in ("a-dupont", "b-etoile"):
        code, out, err = invoke("compute", str(pf / case), "--at", AT, "--json")
        assert code == 0, err
        data = json.loads(out)
        for k in sums:
            sums[k] += D(data[k])
    assert (r.outstanding + 0, r.penalties, r.indemnities, r.total) == (
        sums["outstanding"], sums["penalties"], sums["indemnities"], sums["total"])
    # 40 EUR for each late invoice: A2, A3, A4, B1 (disputed, still late) and B2
    assert r.penalties > 0 and r.indemnities == D("200.00")
    assert r.total == r.outstanding + r.penalties + r.indemnities


def test_cli_terminal_csv_html_and_a_broken_case(tmp_path):
    pf = make_portfolio(tmp_path, broken=True)
    html, csv_file = tmp_path / "r.html", tmp_path / "r.csv"
    code, out, err = invoke("report", str(pf), "--at", AT, "--html", str(html), "--csv", str(csv_file))
    assert code == 2 and "c-broken/case.yaml:4: debtor.siren" in err
    text = norm(out)
    assert "Balance âgée au 15/06/2026" in text and "Boulangerie Dupont" in text and "2 case(s)" in text
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    assert [(x["invoice"], x["bucket"], x["outstanding"], x["disputed"]) for x in rows] == [
        ("A1", "current", "100.00", ""), ("A2", "1-30", "200.00", ""), ("A3", "61-90", "300.00", ""),
        ("A4", "120+", "340.00", ""), ("B1", "31-60", "1000.00", "yes"), ("B2", "91-120", "500.00", "")]
    page = html.read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.count("<svg") == 3 and "1 dossier illisible" in page and "Café Étoile" in page


def test_report_is_deterministic(tmp_path):
    pf = make_portfolio(tmp_path)
    assert html_page(report_of(pf), "pf") == html_page(report_of(pf), "pf")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (./dev installs it)")
def test_html_in_a_real_browser_screen_and_print(tmp_path):
    from PIL import Image

    assert CHROMIUM, "CI must have Debian's chromium (APT_PACKAGES in ./dev)"

    pf = make_portfolio(tmp_path)
    html = tmp_path / "report.html"
    html.write_text(html_page(report_of(pf), "pf"), encoding="utf-8")
    shot, pdf = tmp_path / "shot.png", tmp_path / "print.pdf"
    base = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([*base, "--window-size=1280,1000", f"--screenshot={shot}", html.as_uri()],
                   capture_output=True, timeout=120, check=True)
    subprocess.run([*base, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()],
                   capture_output=True, timeout=120, check=True)
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 1000)
    colours = img.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # not a blank page
    # the bars of the chart are drawn: the "over 120" colour covers a visible area
    assert sum(n for n, c in colours if c == (0x7B, 0x1E, 0x1E)) > 500
    text = norm(pdf_text(pdf.read_bytes()))
    assert "Balance âgée au 15/06/2026" in text and "Boulangerie Dupont" in text and "Total" in text
    if shutil.which("pdftoppm"):  # kept for a person to look at: tmp_path/print-1.png
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "print")], check=True, timeout=60)


def test_debtor_in_collective_proceedings_is_not_chased(tmp_path):
    pf = make_portfolio(tmp_path)
    (pf / "b-etoile" / "case.yaml").write_text(CASE_B + "debtor:\n  status: liquidation\n", encoding="utf-8")
    r = report_of(pf)
    b = next(x for x in r.rows if x.reference == "b-etoile")
    assert b.collective and b.next_stage is None and "declare the claim" in b.next_reason
    assert b.outstanding == D("1500.00")  # still counted: the claim is declared, not dropped
    assert "procédure collective : déclarer la créance" in html_page(r, "pf")


def test_the_portfolio_templates_override_the_page(tmp_path):
    pf = make_portfolio(tmp_path)
    (pf / "my-templates" / "reports").mkdir(parents=True)
    (pf / "my-templates" / "reports" / "ageing.html").write_text(
        "<p>Encours {{ report.outstanding|money }}</p>\n", encoding="utf-8")
    with (pf / "portfolio.yaml").open("a", encoding="utf-8") as f:
        f.write("templates: my-templates\n")
    html = tmp_path / "r.html"
    code, out, err = invoke("report", str(pf), "--at", AT, "--html", str(html))
    assert code == 0, err
    assert norm(html.read_text(encoding="utf-8")) == "<p>Encours 2 440,00 €</p> "
