"""Legal corrections: rates to date, the regimes of the décompte, what letters and court
documents may and may not say. Fast: letter bodies are rendered as HTML (no PDF) unless the
point is about the PDF itself."""

from __future__ import annotations

import dataclasses
import http.server
import re
import threading
from datetime import date
from decimal import Decimal as D

import pytest

from dossier.law.penalties import compute_statement
from dossier.law.rates import load_rates
from dossier.letters import LetterOptions, template_dirs
from dossier.letters.context import build_context
from dossier.model import Invoice, Notice, Payment, Terms
from dossier.render.templates import render
from dossier.render.text import html_to_text

from helpers import (
    AT,
    invoke,
    make_case,
    squash,
    state_of,  # noqa: E402
)


def body(case, stage, at, rates, **opts) -> str:
    """The text of a stage's letter body (the template alone, no PDF)."""
    options = LetterOptions(**opts)
    ctx = build_context(state_of(case, at, rates), stage, options=options)
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


# ----------------------------------------------------------------------------- regimes (16-19)


def _b2b(tmp_path, invoices, **kw):
    case = make_case(tmp_path / "c", invoices=invoices, payments=())
    return dataclasses.replace(case, **kw)


def test_public_body_interest_is_ecb_plus_8_fixed_for_the_whole_delay(tmp_path, rates):
    """Due 10 December 2025: interest runs from 11 December 2025, so the ECB rate of
    1 July 2025 (2.15) + 8 = 10.15 %, also in 2026 (when L441-10 would give 12.15)."""
    inv = Invoice("F1", date(2025, 11, 10), date(2025, 12, 10), D("10000.00"))
    case = _b2b(tmp_path, (inv,))
    case = dataclasses.replace(case, debtor=dataclasses.replace(case.debtor, kind="public", legal_form=None))
    st = compute_statement(case, date(2026, 3, 10), rates)
    periods = st.invoices[0].periods
    assert [(p.days, p.rate) for p in periods] == [(21, D("10.15")), (69, D("10.15"))]
    # 10000 × 10.15 % × 21 / 365 = 58.40 ; × 69 / 365 = 191.88
    assert [p.amount for p in periods] == [D("58.40"), D("191.88")]
    assert st.indemnities == D("40.00") and st.regime == "b2b"
    assert "R2192-31" in periods[0].basis and "fixe pour toute la durée" in periods[0].basis


def test_public_kind_is_accepted_by_the_case_file(tmp_path):
    from dossier.casefile import check_case

    root = tmp_path / "c"
    root.mkdir()
    (root / "case.yaml").write_text(CASE_MIN.replace("TERMS", "").replace("kind: company", "kind: public"))
    case, problems = check_case(root, AT)
    assert case is not None, problems
    assert case.debtor.is_public and case.debtor.is_company


def test_no_flat_indemnity_before_2013_and_no_guessed_rate(tmp_path, rates):
    old = Invoice("F0", date(2012, 11, 5), date(2012, 12, 5), D("1000.00"))
    case = _b2b(tmp_path, (old,), payments=(Payment(date(2016, 3, 1), D("1000.00"), "F0"),))
    with pytest.raises(Exception, match="before 1 January 2013"):
        compute_statement(case, AT, rates)
    # invoiced in 2012, due in 2013: still no 40 EUR (the payment period started before 2013)
    inv = Invoice("F1", date(2012, 12, 20), date(2016, 1, 20), D("1000.00"))
    case = _b2b(tmp_path, (inv,), payments=(Payment(date(2016, 2, 19), D("1000.00"), "F1"),))
    st = compute_statement(case, AT, rates)
    assert st.penalties > 0 and st.indemnities == D("0.00")


def test_judgment_raises_the_legal_rate_by_5_points_two_months_after_enforceable(tmp_path, rates):
    from dossier.model import Judgment

    med = Notice("mise-en-demeure", date(2025, 9, 1), "lrar", received=date(2025, 9, 3))
    inv = Invoice("F1", date(2025, 7, 1), date(2025, 8, 1), D("2000.00"))
    case = make_case(tmp_path / "c", consumer=True, notices=(med,), invoices=(inv,), payments=())
    case = dataclasses.replace(case, judgment=Judgment(date(2025, 10, 15), "Tribunal judiciaire de Grenoble", date(2025, 10, 20)))
    st = compute_statement(case, date(2026, 3, 31), rates)
    got = [(p.start, p.end, p.rate, p.amount) for p in st.invoices[0].periods]
    assert got == [
        (date(2025, 9, 4), date(2025, 12, 19), D("2.76"), D("16.18")),   # 107 days
        (date(2025, 12, 20), date(2025, 12, 31), D("7.76"), D("5.10")),  # 12 days
        (date(2026, 1, 1), date(2026, 3, 31), D("7.62"), D("37.58")),    # 90 days
    ]
    assert any("L313-3" in b for b in st.bases)


def test_cancelling_credit_note_leaves_no_penalty_and_no_indemnity(tmp_path, rates):
    from dossier.model import CreditNote

    a = Invoice("F1", date(2026, 1, 5), date(2026, 2, 4), D("1200.00"))
    b = Invoice("F2", date(2026, 1, 5), date(2026, 2, 4), D("600.00"))
    cn = (CreditNote("AV1", date(2026, 4, 1), D("1200.00"), "F1", cancels=True),
          CreditNote("AV2", date(2026, 4, 1), D("600.00"), "F2"))
    st = compute_statement(_b2b(tmp_path, (a, b), credit_notes=cn), AT, rates)
    f1, f2 = st.invoices
    assert (f1.penalties, f1.indemnity, f1.outstanding) == (D("0.00"), D("0.00"), D("0.00"))
    # an ordinary credit note given late still leaves the penalties until its date and the 40 EUR
    assert f2.penalties > 0 and f2.indemnity == D("40.00")


def test_cancels_must_be_for_the_whole_invoice(tmp_path):
    from dossier.casefile import check_case

    root = tmp_path / "c"
    root.mkdir()
    (root / "case.yaml").write_text(CASE_MIN.replace("TERMS", "") + (
        "credit_notes:\n  - {number: AV1, date: 2026-04-01, amount: 200.00, invoice: F1, cancels: true}\n"))
    case, problems = check_case(root, AT)
    assert case is None
    assert any(p.field == "credit_notes[0].cancels" and "not the whole invoice" in p.message for p in problems)


def test_mise_en_demeure_without_receipt_warns_that_interest_runs_from_sending(tmp_path, rates):
    med = Notice("mise-en-demeure", date(2026, 5, 4), "lrar")
    st = compute_statement(make_case(tmp_path / "c", consumer=True, notices=(med,)), AT, rates)
    assert any("no received date" in w and "sending date" in w for w in st.warnings)
    assert st.invoices[0].accrual_from == date(2026, 5, 5)


@pytest.mark.parametrize("consumer, due, warned", [
    (True, date(2024, 6, 1), "may be time-barred since 2026-06-02"),
    (True, date(2024, 10, 1), "becomes time-barred on 2026-10-02"),
    (False, date(2024, 7, 1), None),
    (False, date(2021, 9, 1), "becomes time-barred on 2026-09-02"),
])
def test_prescription_warnings(tmp_path, rates, consumer, due, warned):
    inv = Invoice("F1", due - (date(2024, 2, 1) - date(2024, 1, 1)), due, D("500.00"))
    notices = (Notice("mise-en-demeure", date(2026, 5, 4), "lrar", received=date(2026, 5, 6)),) if consumer else ()
    case = make_case(tmp_path / "c", consumer=consumer, invoices=(inv,), payments=(), notices=notices)
    got = list(compute_statement(case, AT, rates).warnings)
    hits = [w for w in got if "time-barred" in w]
    if warned is None:
        assert hits == []
    else:
        assert hits and warned in hits[0], got


def test_check_shows_prescription(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "case.yaml").write_text(CASE_MIN.replace("TERMS", "").replace(
        "kind: company\n  legal_form: SAS\n  siren: \"539749960\"", "kind: consumer").replace(
        "due: 2026-04-01", "due: 2024-04-01").replace("issued: 2026-03-02", "issued: 2024-03-02"))
    code, out, err = invoke("check", root, "--at", "2026-06-15")
    assert code == 0, err
    assert "invoices[0].due" in out + err and "time-barred" in out + err and "L218-2" in out + err


# ----------------------------------------------------------------------------- letters (8-11, 13, 14)


def test_a_promise_partly_kept_is_not_called_missing(tmp_path, rates):
    call = Notice("relance-2", date(2026, 5, 20), "phone", promised_date=date(2026, 5, 29))
    base = make_case(tmp_path / "c", notices=(call,))
    text = body(base, "dernier-avis", AT, rates)
    assert "ne nous est pas parvenu" in text  # nothing came: true
    paid = dataclasses.replace(base, payments=base.payments + (Payment(date(2026, 5, 28), D("500.00"), "F2026-014"),))
    text = body(paid, "dernier-avis", AT, rates)
    assert "ne nous est pas parvenu" not in text
    assert "ne nous étant parvenu qu’en partie (500,00 €)" in text


def test_relance_1_does_not_cite_the_chased_invoices_as_past_lateness(tmp_path, rates):
    # two invoices overdue, none paid late before: no "not the first late payment" claim
    late = (Invoice("F1", date(2026, 1, 5), date(2026, 2, 4), D("1000.00")),
            Invoice("F2", date(2026, 2, 5), date(2026, 3, 7), D("1000.00")),
            Invoice("F3", date(2026, 3, 5), date(2026, 4, 4), D("1000.00")))
    case = make_case(tmp_path / "c", invoices=late, payments=())
    text = body(case, "relance-1", AT, rates)
    assert "factures réglées ou restant dues" not in text and "précédente" not in text
    # an earlier invoice paid late is a true past lateness
    paid_late = (Invoice("F0", date(2025, 11, 5), date(2025, 12, 5), D("800.00")),) + late
    case = make_case(tmp_path / "d", invoices=paid_late, payments=(Payment(date(2026, 1, 20), D("800.00"), "F0"),))
    text = body(case, "relance-1", AT, rates)
    if "pas le premier retard" in text:
        assert "une facture précédente réglée après son échéance" in text


def test_echeancier_principal_is_principal_and_the_debtor_acknowledges_the_debt(tmp_path, rates):
    case = make_case(tmp_path / "c")
    state = state_of(case, AT, rates)
    ctx = build_context(state, "echeancier")
    text = squash(html_to_text(render("letters/echeancier.html", ctx, template_dirs(case, LetterOptions()))))
    claim = ctx["claim"]
    assert claim.penalties > 0
    assert "Dette" in text and "comprend le principal restant dû" in text
    assert "aucune pénalité ni aucun intérêt ne court" in text
    accord = squash(html_to_text(render("letters/_accord.html", ctx, template_dirs(case, LetterOptions()))))
    assert "reconnaît devoir à Atelier Martin la somme de" in accord and "2240" in accord
    waived = build_context(state, "echeancier", options=LetterOptions(waive_penalties=True))
    text = squash(html_to_text(render("letters/echeancier.html", waived, template_dirs(case, LetterOptions()))))
    assert "Principal" in text and "comprend le principal" not in text


def test_civility_in_address_salutation_attention_and_closing(tmp_path, rates):
    from dossier.letters.context import recipient_lines
    from dossier.model import Person

    case = make_case(tmp_path / "c")
    debtor = dataclasses.replace(case.debtor, representative=Person("Anne Roche", "Présidente", "Madame"))
    case = dataclasses.replace(case, debtor=debtor)
    text = body(case, "relance-1", AT, rates)
    assert text.startswith("Madame la Présidente,")
    assert "Nous vous prions d’agréer, Madame la Présidente, l’expression" in text
    # the title does not fit in the 38 characters of an address line (NF Z10-011): dropped
    assert "À l’attention de Mme Anne Roche" in recipient_lines(case)
    antoine = dataclasses.replace(case, debtor=dataclasses.replace(debtor, representative=Person("Antoine Dupont", "Gérant")))
    assert "À l’attention d’Antoine Dupont, Gérant" in recipient_lines(antoine)
    assert body(antoine, "relance-1", AT, rates).startswith("Madame, Monsieur,")
    consumer = make_case(tmp_path / "k", consumer=True, debtor_name="Sophie Lefèvre")
    consumer = dataclasses.replace(consumer, debtor=dataclasses.replace(consumer.debtor, civility="Madame"))
    assert recipient_lines(consumer)[0] == "Mme Sophie Lefèvre"
    assert body(consumer, "relance-1", AT, rates).startswith("Madame,")


def test_single_invoice_reminder_has_its_verb_and_numbers_in_words(tmp_path, rates):
    one = make_case(tmp_path / "c", invoices=(Invoice("F1", date(2026, 5, 20), date(2026, 6, 19), D("900.00")),), payments=())
    text = body(one, "rappel-preventif", AT, rates)
    assert re.search(r"la facture n° F1 du 20 mai 2026, d’un montant de 900,00 € TTC, arrive à échéance le 19 juin 2026\.", text), text
    two = make_case(tmp_path / "d")
    text = body(two, "relance-2", AT, rates)
    assert "les deux factures détaillées ci-dessous restent impayées" in text
    assert "ci-dessous, restent" not in text and "les 2 factures" not in text


def test_letters_use_typographic_apostrophes_and_capitalised_codes(tmp_path, rates):
    case = make_case(tmp_path / "c")
    for stage in ("relance-1", "relance-2", "dernier-avis", "mise-en-demeure"):
        text = body(case, stage, AT, rates)
        assert not re.search(r"\w'\w", text), (stage, re.findall(r".{20}\w'\w.{10}", text))
        assert "code de procédure civile" not in text and "code civil" not in text


def test_mise_en_demeure_email_carries_the_operative_paragraph_without_internal_headers(tmp_path, rates):
    import email

    from dossier.letters import render_stage

    case = make_case(tmp_path / "c")
    r = render_stage(state_of(case, AT, rates), "mise-en-demeure", formats=("eml",))
    msg = email.message_from_bytes(r.files["mise-en-demeure.eml"])
    assert msg["X-Dossier-Stage"] is None
    assert all("mise-en-demeure" not in (v or "") for k, v in msg.items() if k.lower() != "message-id")
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    flat = squash(text)
    assert "nous vous mettons en demeure" in flat and "à compter de la réception" in flat
    assert "\n-- \n" in text.replace("\r\n", "\n")  # the signature separator keeps its space


def test_mise_en_demeure_docx_has_the_lrar_and_copy_lines_and_french_styles(tmp_path, rates):
    import io
    import zipfile

    from dossier.letters import render_stage

    case = make_case(tmp_path / "c")
    r = render_stage(state_of(case, AT, rates), "mise-en-demeure", formats=("docx",),
                     options=LetterOptions(lrar_number="1A 123 456 7890 1"))
    from helpers import docx_text

    text = squash(docx_text(r.files["mise-en-demeure.docx"]))
    assert "Lettre recommandée avec accusé de réception n° 1A 123 456 7890 1" in text
    assert "Copie par courriel à compta@dupont.example" in text
    styles = zipfile.ZipFile(io.BytesIO(r.files["mise-en-demeure.docx"])).read("word/styles.xml").decode()
    assert styles.count('w:lang w:val="fr-FR"') >= styles.count('w:type="paragraph"')


def test_reminder_states_the_payment_received_and_the_amount_of_the_payment_box(tmp_path, rates):
    inv = (Invoice("F1", date(2026, 3, 2), date(2026, 4, 1), D("6380.00")),)
    case = make_case(tmp_path / "c", consumer=True, invoices=inv, payments=(Payment(date(2026, 4, 20), D("2000.00"), "F1"),))
    for stage in ("relance-1", "relance-2"):
        text = body(case, stage, AT, rates)
        assert "déjà réglée à hauteur de 2 000,00 € ; reste dû 4 380,00 €" in text, stage
        assert "la somme de 4 380,00 €" in text
        ctx = build_context(state_of(case, AT, rates), stage)
        assert ctx["payment"].amount == D("4380.00")


def test_exhibit_titles_are_not_pasted_into_sentences(tmp_path, rates):
    text = body(make_case(tmp_path / "c"), "relance-1", AT, rates)
    assert "Devis D-2026-031 signé" not in text and "des documents contractuels" in text


def test_relance_subject_line_has_the_superscript_ordinal(tmp_path, rates):
    from dossier.letters import render_stage

    case = make_case(tmp_path / "c")
    r = render_stage(state_of(case, AT, rates), "relance-1", formats=("pdf",))
    html = render("letters/_letter.html", {**r.context, "body_template": "letters/relance-1.html", "after_template": None},
                  template_dirs(case, LetterOptions()))
    assert "Relance\u00a0: 1<sup>er</sup> rappel" in html


def test_public_body_mise_en_demeure_claims_moratorium_interest_not_l441_10(tmp_path, rates):
    case = make_case(tmp_path / "c")
    case = dataclasses.replace(case, debtor=dataclasses.replace(case.debtor, kind="public", legal_form=None))
    text = body(case, "mise-en-demeure", AT, rates)
    assert "intérêts moratoires" in text and "R2192-31" in text and "D2192-35" in text
    assert "injonction de payer" not in text and "juge administratif d’une demande de provision" in text
    assert "L441-10" not in text
    for stage in ("relance-1", "relance-2", "dernier-avis"):
        text = body(case, stage, AT, rates)
        assert "L441-10" not in text and "R2192-31" in text and "injonction de payer" not in text, stage


@pytest.mark.parametrize("stage", ["relance-1", "relance-2", "dernier-avis", "mise-en-demeure"])
def test_letters_claim_only_invoices_already_due(tmp_path, rates, stage):
    at = date(2026, 4, 30)  # F2026-021 falls due on 10 May 2026
    case = make_case(tmp_path / "c")
    ctx = build_context(state_of(case, at, rates), stage)
    assert ctx["claim"].numbers == ("F2026-014",)
    assert ctx["claim"].outstanding == D("3800.00")
    text = body(case, stage, at, rates)
    assert "1 234,56" not in text
