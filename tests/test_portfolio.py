"""Portfolios: portfolio.yaml < imported.yaml < case.yaml, merged with each value's own
file and line; `dossier check PORTFOLIO`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from dossier.casefile import check_case, check_case_layers, load_case
from dossier.portfolio import check_portfolio, load_portfolio

from helpers import invoke

AT = date(2026, 6, 15)

PORTFOLIO = """\
creditor:
  name: Atelier Martin
  legal_form: SARL
  siren: "732829320"
  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon}
  email: compta@atelier.example
  bank: {iban: FR7630006000011234567890189}
terms:
  default_payment_days: 45
  flat_indemnity: true
smtp_profile: default
"""

IMPORTED = """\
debtor:
  kind: company
  name: Boulangerie Dupont
  siren: "539749960"
  address: {lines: ["5 place Grenette"], postal_code: "38000", city: Grenoble}
invoices:
  - {number: F1, issued: 2026-01-05, due: 2026-02-04, due_estimated: true, amount_incl_tax: "1200.00", source: {file: x.fec, line: 4}}
  - {number: F2, issued: 2026-02-05, due: 2026-03-07, amount_incl_tax: "600.00", status: paid}
  - {number: F3, issued: 2026-02-06, due: 2026-03-08, amount_incl_tax: "300.00"}
payments:
  - {id: BQ-1, date: 2026-03-01, amount: "600.00", invoice: F2}
  - {id: BQ-2, date: 2026-03-02, amount: "100.00"}
"""


def make_portfolio(tmp_path: Path, case_yaml: str = "debtor:\n  email: paul@dupont.example\n",
                   imported: str = IMPORTED, portfolio: str = PORTFOLIO) -> Path:
    pf = tmp_path / "pf"
    (pf / "dupont").mkdir(parents=True)
    (pf / "templates").mkdir()
    (pf / "portfolio.yaml").write_text(portfolio, encoding="utf-8")
    (pf / "dupont" / "imported.yaml").write_text(imported, encoding="utf-8")
    (pf / "dupont" / "case.yaml").write_text(case_yaml, encoding="utf-8")
    return pf


def test_layers_merge_with_precedence_and_closed_records(tmp_path):
    pf = make_portfolio(tmp_path)
    case = load_case(pf / "dupont", AT)
    assert case.creditor.name == "Atelier Martin"  # from portfolio.yaml
    assert case.debtor.name == "Boulangerie Dupont"  # from imported.yaml
    assert case.debtor.email == "paul@dupont.example"  # hand edit in case.yaml
    # F2 is paid: it and its payment are left out; BQ-2 (unallocated) stays
    assert [i.number for i in case.invoices] == ["F1", "F3"]
    assert [(p.amount, p.invoice) for p in case.payments] == [(D("100.00"), None)]
    assert case.invoices[0].source.file.endswith("imported.yaml") and case.invoices[0].source.line == 7
    assert case.creditor.source.file.endswith("portfolio.yaml")


def test_hand_record_merges_by_identity_and_confirms_due_date(tmp_path):
    pf = make_portfolio(tmp_path, "invoices:\n  - {number: F1, due: 2026-02-10}\n  - {number: F3, status: ignored}\n"
                                  "  - {number: H1, issued: 2026-03-01, due: 2026-03-31, amount_incl_tax: '50.00'}\n")
    case, problems, notes = check_case_layers(pf / "dupont", AT)
    assert case is not None, problems
    assert [(i.number, i.due, i.amount_incl_tax) for i in case.invoices] == [
        ("F1", date(2026, 2, 10), D("1200.00")), ("H1", date(2026, 3, 31), D("50.00"))]
    assert notes.due_estimated == frozenset()  # confirmed by hand
    assert notes.invoice_status == {"F1": "open", "F2": "paid", "F3": "ignored", "H1": "open"}


def test_estimated_due_date_is_a_warning_at_its_line(tmp_path):
    pf = make_portfolio(tmp_path)
    case, problems = check_case(pf / "dupont", AT)
    assert case is not None
    (w,) = [p for p in problems if "estimated" in p.message]
    assert w.severity == "warning" and w.file.endswith("imported.yaml") and w.line == 7 and "x.fec:4" in w.message


def test_problems_point_at_their_own_file(tmp_path):
    pf = make_portfolio(tmp_path, "debtor:\n  email: not-an-email\n",
                        portfolio=PORTFOLIO.replace('"732829320"', '"732829321"'))
    case, problems = check_case(pf / "dupont", AT)
    assert case is None
    where = {(Path(p.file).name, p.line, p.field) for p in problems if p.severity == "error"}
    assert ("portfolio.yaml", 4, "creditor.siren") in where
    assert ("case.yaml", 2, "debtor.email") in where


def test_a_case_without_layers_reads_as_before(tmp_path):
    from helpers import sample_copy

    case = load_case(sample_copy("atelier-martin", tmp_path), AT)
    assert case.invoices and case.invoices[0].source.file.endswith("case.yaml")


def test_portfolio_settings_and_case_dirs(tmp_path):
    pf = make_portfolio(tmp_path)
    (pf / "batches").mkdir()
    (pf / "empty").mkdir()
    p = load_portfolio(pf)
    assert p.default_payment_days == 45
    assert [d.name for d in p.case_dirs()] == ["dupont"]


def test_check_portfolio_lists_every_problem_once(tmp_path):
    pf = make_portfolio(tmp_path, portfolio=PORTFOLIO.replace('"732829320"', '"732829321"'))
    (pf / "martin").mkdir()
    (pf / "martin" / "imported.yaml").write_text(IMPORTED.replace("Dupont", "Martin"), encoding="utf-8")
    (pf / "martin" / "case.yaml").write_text("{}\n", encoding="utf-8")
    result = check_portfolio(pf, AT)
    sirens = [p for p in result.problems if p.field == "creditor.siren"]
    assert len(sirens) == 1 and len(result.cases) == 2
    code, out, err = invoke("check", str(pf), "--at", "2026-06-15")
    assert code == 2 and "portfolio.yaml:4: creditor.siren" in err and "2 case(s): 0 ok, 2 with errors" in err


def test_check_portfolio_ok(tmp_path):
    pf = make_portfolio(tmp_path)
    code, out, err = invoke("check", str(pf), "--at", "2026-06-15")
    assert code == 0, err
    assert "1 case(s): 1 ok" in out and "imported.yaml:7: invoices[0].due: warning: due date of F1 estimated" in out


def test_settled_case_still_reads(tmp_path):
    imported = IMPORTED.replace("due_estimated: true,", "status: paid,").replace(
        '"300.00"}', '"300.00", status: paid}')
    pf = make_portfolio(tmp_path, imported=imported)
    case, problems, notes = check_case_layers(pf / "dupont", AT)
    assert case is not None, problems
    assert notes.closed


# ------------------------------------------------------------------ dossier enrich

#: recorded answers of the directory's /search (the fields dossier reads, as the API gives them)
DIRECTORY = {
    "539749960": {"results": [{
        "siren": "539749960", "nom_complet": "BOULANGERIE DUPONT (BD)", "nom_raison_sociale": "BOULANGERIE DUPONT",
        "nature_juridique": "5710", "etat_administratif": "A",
        "siege": {"numero_voie": "5", "type_voie": "PL", "libelle_voie": "GRENETTE", "code_postal": "38000",
                  "libelle_commune": "GRENOBLE", "adresse": "5 PL GRENETTE 38000 GRENOBLE"}}],
        "total_results": 1},
    "732829320": {"results": [{"siren": "732829320", "nom_raison_sociale": "ANCIENNE SARL", "nature_juridique": "5499",
                               "etat_administratif": "C", "siege": {"code_postal": "69001", "libelle_commune": "LYON",
                                                                    "adresse": "1 RUE X 69001 LYON", "libelle_voie": "X",
                                                                    "numero_voie": "1", "type_voie": "RUE"}}]},
}


@pytest.fixture
def directory(monkeypatch):
    """A small HTTP server on 127.0.0.1 answering /search?q=SIREN with recorded answers."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            q = parse_qs(urlparse(self.path).query).get("q", [""])[0]
            asked.append(q)
            body = json.dumps(DIRECTORY.get(q, {"results": [], "total_results": 0})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DOSSIER_SIRENE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setattr("dossier.enrich.PAUSE", 0)
    yield asked
    server.shutdown()


def test_enrich_fills_the_debtor_and_caches(tmp_path, directory):
    imported = IMPORTED.replace('  address: {lines: ["5 place Grenette"], postal_code: "38000", city: Grenoble}\n', "")
    pf = make_portfolio(tmp_path, imported=imported)
    assert check_case(pf / "dupont", AT)[0] is None  # no address yet
    code, out, err = invoke("enrich", str(pf))
    assert code == 0, err
    assert "dupont: updated (SIREN 539749960)" in out
    case, problems, notes = check_case_layers(pf / "dupont", AT)
    assert case is not None, problems
    assert case.debtor.address.lines == ("5 PL GRENETTE",) and case.debtor.address.city == "GRENOBLE"
    assert case.debtor.legal_form == "SAS" and case.debtor.name == "Boulangerie Dupont"  # the case's name kept
    assert notes.debtor_status == "active"
    assert (pf / "dupont" / "case.yaml").read_text(encoding="utf-8") == "debtor:\n  email: paul@dupont.example\n"
    assert (pf / "cache" / "sirene" / "539749960.json").is_file()
    code, out, _ = invoke("enrich", str(pf))
    assert "dupont: unchanged" in out and directory == ["539749960"]  # the second run used the cache


def test_enrich_closed_company_and_collective_proceedings_warn(tmp_path, directory):
    pf = make_portfolio(tmp_path, imported=IMPORTED.replace("539749960", "732829320"))
    code, out, _ = invoke("enrich", str(pf))
    assert "the company is closed (cessée)" in out
    case, problems = check_case(pf / "dupont", AT)
    assert any("lists this debtor as closed" in p.message and p.severity == "warning" for p in problems)
    (pf / "dupont" / "case.yaml").write_text("debtor:\n  status: redressement\n", encoding="utf-8")
    case, problems, notes = check_case_layers(pf / "dupont", AT)
    assert case is not None and notes.collective_proceedings
    (w,) = [p for p in problems if p.field == "debtor.status"]
    assert w.file.endswith("case.yaml") and "declared to the mandataire judiciaire" in w.message


def test_enrich_offline_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSSIER_SIRENE_URL", "http://127.0.0.1:9")  # nothing listens there
    pf = make_portfolio(tmp_path)
    before = (pf / "dupont" / "imported.yaml").read_text(encoding="utf-8")
    code, out, err = invoke("enrich", str(pf))
    assert code == 0 and "dupont: offline" in out and "could not be reached" in err
    assert (pf / "dupont" / "imported.yaml").read_text(encoding="utf-8") == before


def test_portfolio_only_settings_are_checked(tmp_path):
    pf = make_portfolio(tmp_path, portfolio=PORTFOLIO.replace("default_payment_days: 45", "default_payment_days: soon")
                        + "report: {sales_last_91_days: lots}\n")
    result = check_portfolio(pf, AT)
    fields = {p.field: p.message for p in result.problems if p.file.endswith("portfolio.yaml")}
    assert "is not a number of days" in fields["terms.default_payment_days"]
    assert "is not an amount above zero" in fields["report.sales_last_91_days"]
    assert load_portfolio(pf).default_payment_days == 30


def test_a_line_quoted_in_a_message_is_the_real_line(tmp_path):
    pf = make_portfolio(tmp_path, "invoices:\n  - {number: H1, issued: 2026-03-01, due: 2026-03-31, amount_incl_tax: '5.00'}\n"
                                  "  - {number: H1, issued: 2026-03-01, due: 2026-03-31, amount_incl_tax: '6.00'}\n")
    case, problems = check_case(pf / "dupont", AT)
    (p,) = [p for p in problems if "appears twice" in p.message]
    assert p.file.endswith("case.yaml") and p.line == 3 and p.message.endswith("(first at line 2)")
