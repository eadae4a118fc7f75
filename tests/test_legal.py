"""Legal corrections: rates to date, the regimes of the décompte, what letters and court
documents may and may not say. Fast: letter bodies are rendered as HTML (no PDF) unless the
point is about the PDF itself."""

from __future__ import annotations

import dataclasses
import http.server
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from helpers import AT, invoke, make_case, squash

from dossier.law.penalties import compute_statement
from dossier.law.rates import load_rates
from dossier.letters import LetterOptions, template_dirs
from dossier.letters.context import build_context
from dossier.model import Notice, Terms
from dossier.render.templates import render
from dossier.render.text import html_to_text


def body(case, stage, at, rates, **opts) -> str:
    """The text of a stage's letter body (the template alone, no PDF)."""
    options = LetterOptions(**opts)
    st = compute_statement(case, at, rates)
    ctx = build_context(case, stage, at, st, options=options)
    return squash(html_to_text(render(f"letters/{stage}.html", ctx, template_dirs(case, options))))


# ----------------------------------------------------------------------------- rates (15)


def test_ecb_rise_of_june_2026_is_in_the_table(rates):
    before, after = rates.ecb_on(date(2026, 6, 16)), rates.ecb_on(date(2026, 6, 17))
    assert (before.rate, after.rate) == (D("2.15"), D("2.40"))
    assert "11 June 2026" in after.source
    # 1 July 2026 is past what the tables know: still an error naming the command
    with pytest.raises(Exception, match="dossier rates add 2026-2"):
        rates.l441_default(2026, 2)


def test_rates_add_help_does_not_say_the_rate_was_unchanged():
    code, out, _ = invoke("rates", "add", "--help")
    assert code == 0
    assert "unchanged" not in out and "2.40" in out


ECB_ANSWER = (
    "KEY,FREQ,REF_AREA,CURRENCY,PROVIDER_FM,INSTRUMENT_FM,PROVIDER_FM_ID,DATA_TYPE_FM,TIME_PERIOD,OBS_VALUE\n"
    "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV,2025-06-11,2.15\n"
    "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV,2026-06-17,2.4\n"
    "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV,2026-07-29,2.65\n"
    "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV,2026-09-30,2.65\n"
)


@pytest.fixture
def ecb_server():
    """A recorded ECB data portal answer served on loopback; yields (base URL, paths asked)."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            asked.append(self.path)
            data = ECB_ANSWER.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_rates_update_reads_the_ecb_portal_and_says_what_it_added(ecb_server, tmp_path):
    base, asked = ecb_server
    user = tmp_path / "rates.csv"
    env = {"DOSSIER_ECB_URL": base, "DOSSIER_RATES_FILE": str(user)}
    code, out, err = invoke("rates", "update", env=env)
    assert code == 0, err
    assert asked == ["/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata"]
    # the shipped table already has 2025-06-11 and 2026-06-17: only the new dates are added
    assert "added ecb-mro 2026-07-29 2.65 %" in out and "added ecb-mro 2026-09-30 2.65 %" in out
    assert "2026-06-17" not in out.split("known up to")[0]
    assert "known up to 2026-09-30" in out
    table = load_rates([user], user_file=False)
    assert table.l441_default(2026, 2).rate == D("12.40")  # ECB 2.40 on 1 July 2026 + 10
    # run again: nothing new
    code, out, _ = invoke("rates", "update", env=env)
    assert code == 0 and "0 ECB row(s) added" in out


def test_rates_update_offline_is_a_clear_error(tmp_path):
    env = {"DOSSIER_ECB_URL": "http://127.0.0.1:9", "DOSSIER_RATES_FILE": str(tmp_path / "r.csv")}
    code, out, err = invoke("rates", "update", env=env)
    assert code == 2
    assert "cannot read the ECB data portal" in err and "rates add" in err and "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()


def test_compute_past_the_legal_rate_table_names_the_command(tmp_path, rates):
    case = make_case(tmp_path / "c", consumer=True,
                     notices=(Notice("mise-en-demeure", date(2026, 5, 4), "lrar", received=date(2026, 5, 6)),))
    with pytest.raises(Exception, match=r"dossier rates add 2026-2 --legal-other RATE --legal-private RATE"):
        compute_statement(case, date(2026, 12, 2), rates)


# ----------------------------------------------------------------------------- mise en demeure (5, 6, 7)


def test_b2b_mise_en_demeure_claims_no_moratory_interest_on_top_of_penalties(tmp_path, rates):
    text = body(make_case(tmp_path / "c"), "mise-en-demeure", AT, rates)
    assert "L441-10" in text
    assert "1344-1" not in text and "intérêts moratoires" not in text


def test_consumer_mise_en_demeure_keeps_legal_interest(tmp_path, rates):
    text = body(make_case(tmp_path / "c", consumer=True), "mise-en-demeure", AT, rates)
    assert "1344-1" in text and "intérêts au taux légal" in text


@pytest.mark.parametrize("consumer", [False, True])
def test_deadline_runs_from_receipt(tmp_path, rates, consumer):
    text = body(make_case(tmp_path / "c", consumer=consumer), "mise-en-demeure", AT, rates)
    assert "dans un délai de huit jours à compter de la réception de la présente" in text
    assert "au plus tard le" not in text


def test_second_mise_en_demeure_cites_the_first_and_says_interest_has_run(tmp_path, rates):
    first = Notice("mise-en-demeure", date(2026, 5, 4), "lrar", lrar_number="1A 111 222 3334 5", received=date(2026, 5, 6))
    case = make_case(tmp_path / "c", consumer=True, notices=(first,))
    st = compute_statement(case, AT, rates)
    assert st.invoices[0].accrual_from == date(2026, 5, 7)  # interest has run since the receipt
    text = body(case, "mise-en-demeure", AT, rates)
    assert "lettre recommandée du 4 mai 2026 n° 1A 111 222 3334 5, reçue le 6 mai 2026" in text
    assert "à nouveau en demeure" in text
    assert "courent sur la somme" in text and "depuis la réception de notre première mise en demeure, le 6 mai 2026" in text
    assert "la présente mise en demeure fait courir" not in text


# ----------------------------------------------------------------------------- warnings (20)


def test_zero_contract_rate_is_accepted_and_raised_to_the_floor(tmp_path, rates):
    case = make_case(tmp_path / "c")
    case = dataclasses.replace(case, terms=Terms(penalty_rate=D("0")))
    st = compute_statement(case, AT, rates)
    p = st.invoices[0].periods[0]
    assert p.rate == D("2.62") * 3 and "porté au minimum légal" in p.basis
    assert any("below the legal floor" in w for w in st.warnings)


def test_case_file_accepts_a_zero_contract_rate(tmp_path):
    from dossier.casefile import check_case

    root = tmp_path / "c"
    root.mkdir()
    (root / "case.yaml").write_text(CASE_MIN.replace("TERMS", "terms:\n  penalty_rate: 0\n"))
    case, problems = check_case(root, AT)
    assert case is not None, problems
    assert case.terms.penalty_rate == D("0")


CASE_MIN = """\
reference: L-1
creditor:
  name: Atelier Test
  legal_form: SARL
  siren: "732829320"
  address: {lines: ["1 rue A"], postal_code: "69002", city: Lyon}
debtor:
  name: Client SAS
  kind: company
  legal_form: SAS
  siren: "539749960"
  address: {lines: ["5 place Grenette"], postal_code: "38000", city: Grenoble}
TERMS
invoices:
  - {number: F1, issued: 2026-03-02, due: 2026-04-01, amount_incl_tax: 1200.00}
"""
