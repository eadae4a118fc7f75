"""`dossier import fec`: FEC variants made here, open items computed by hand, reruns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier.casefile import check_case_layers, load_case
from dossier.imports import ImportFileError
from dossier.imports.fec import COLUMNS, parse_amount, read_fec, read_lines

from helpers import invoke, norm

AT = date(2026, 6, 15)

PORTFOLIO = """\
creditor:
  name: Atelier Martin
  legal_form: SARL
  siren: "732829320"
  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon}
  email: compta@atelier.example
terms:
  default_payment_days: 30
"""

# (journal, entry, date, account, aux, aux label, piece ref, label, debit, credit, lettering)
LEDGER = [
    ("VE", "1", "20260105", "411000", "C001", "Boulangerie Dupré", "F1", "Facture F1", "1200,00", "0,00", "AA"),
    ("VE", "1", "20260105", "706000", "", "", "F1", "Facture F1", "0,00", "1200,00", ""),
    ("BQ", "2", "20260210", "411000", "C001", "Boulangerie Dupré", "VIR", "Virement F1", "0,00", "1200,00", "AA"),
    ("VE", "3", "20260201", "411000", "C001", "Boulangerie Dupré", "F2", "Facture F2", "600,00", "0,00", ""),
    ("VE", "3", "20260201", "706000", "", "", "F2", "Facture F2", "0,00", "600,00", ""),
    ("VE", "4", "20260301", "411000", "C001", "Boulangerie Dupré", "F3", "Facture F3", "900,00", "0,00", "AB"),
    ("VE", "4", "20260301", "706000", "", "", "F3", "Facture F3", "0,00", "900,00", ""),
    ("BQ", "5", "20260401", "411000", "C001", "Boulangerie Dupré", "VIR", "Acompte 5 € frais", "0,00", "400,00", "AB"),
    ("VE", "6", "20260405", "411000", "C001", "Boulangerie Dupré", "AV1", "Avoir AV1", "0,00", "120,00", ""),
    ("VE", "6", "20260405", "706000", "", "", "AV1", "Avoir AV1", "120,00", "0,00", ""),
    ("VE", "7", "20260110", "411000", "C002", "Café Étoile", "F4", "Facture F4", "300,00", "0,00", "AC"),
    ("VE", "7", "20260110", "706000", "", "", "F4", "Facture F4", "0,00", "300,00", ""),
    ("BQ", "8", "20260215", "411000", "C002", "Café Étoile", "VIR", "Virement F4", "0,00", "300,00", "AC"),
    ("VE", "9", "20260115", "4110002", "", "", "F5", "Facture F5", "50,00", "0,00", ""),
    ("VE", "9", "20260115", "706000", "", "", "F5", "Facture F5", "0,00", "50,00", ""),
    ("VE", "10", "20260120", "418000", "C003", "A facturer", "FAE", "Facture à établir", "70,00", "0,00", ""),
]
#: the payment that settles F3 (group AB: 900 - 400 - 500 = 0)
NEWER = [("BQ", "11", "20260501", "411000", "C001", "Boulangerie Dupré", "VIR", "Solde F3", "0,00", "500,00", "AB")]


def fec_text(rows=LEDGER, sep="\t", eol="\n", montant_sens=False, odoo=False) -> str:
    cols = list(COLUMNS)
    if montant_sens:
        cols[11:13] = ["Montant", "Sens"]
    out = [sep.join(cols)]
    for j, num, d, acct, aux, auxlib, ref, lib, debit, credit, let in rows:
        if odoo:
            debit, credit = (f" {D(debit.replace(',', '.')):018.2f}".replace(".", ",") for debit in (debit, credit))
            ref = "-" if ref == "VIR" else ref
        amounts = [debit, credit]
        if montant_sens:
            dv, cv = D(debit.replace(",", ".")), D(credit.replace(",", "."))
            amounts = [f"{max(dv, cv):.2f}".replace(".", ","), "D" if dv >= cv else "C"]
        name = auxlib or {"411": "Clients divers", "706": "Prestations", "418": "Clients FAE"}.get(acct[:3], "")
        out.append(sep.join([j, {"VE": "Ventes", "BQ": "Banque", "AN": "A nouveaux"}[j], num, d, acct, name, aux, auxlib, ref, d, lib,
                             *amounts, let, "", d, "", ""]))
    return eol.join(out) + eol


def portfolio(tmp_path: Path) -> Path:
    pf = tmp_path / "pf"
    pf.mkdir()
    (pf / "portfolio.yaml").write_text(PORTFOLIO, encoding="utf-8")
    return pf


def summary(result) -> dict:
    """{debtor: (open invoices, open payments, credit notes)} of an import result."""
    out = {}
    for d in result.debtors:
        out[d.debtor.name] = (
            sorted((i.number, str(i.amount_incl_tax), i.due.isoformat()) for i in d.invoices if not i.settled),
            sorted((p.id, str(p.amount), p.invoice, p.reference) for p in d.payments if not p.settled),
            sorted((c.number, str(c.amount), c.invoice) for c in d.credit_notes if not c.settled),
        )
    return out


EXPECTED = {
    # F1 settled by its payment (group AA); F2 unlettered; F3 in group AB which does not
    # balance (900 - 400), so F3 and its 400 payment are open; AV1 is a credit note (its
    # entry credits a revenue account); due dates: piece date + 30 days
    "Boulangerie Dupré": (
        [("F2", "600.00", "2026-03-03"), ("F3", "900.00", "2026-03-31")],
        [("BQ-5", "400.00", "F3", "Acompte 5 € frais")],
        [("AV1", "120.00", None)],
    ),
    # F4 fully lettered with its payment: nothing open
    "Café Étoile": ([], [], []),
    # no auxiliary account: grouped by CompteNum, named by CompteLib
    "Clients divers": ([("F5", "50.00", "2026-02-14")], [], []),
}


@pytest.mark.parametrize("variant", [
    dict(sep="\t"), dict(sep="|"), dict(eol="\r\n"), dict(montant_sens=True), dict(odoo=True, eol="\r\n"),
    dict(encoding="utf-8-sig"), dict(encoding="cp1252"), dict(encoding="iso-8859-15", sep="|"),
])
def test_fec_variants_give_the_open_items_computed_by_hand(tmp_path, variant):
    encoding = variant.pop("encoding", "utf-8")
    f = tmp_path / "732829320FEC20261231.txt"
    f.write_bytes(fec_text(**variant).encode(encoding))
    result = read_fec(f, 30)
    assert summary(result) == EXPECTED
    f3 = next(i for d in result.debtors for i in d.invoices if i.number == "F3")
    assert f3.origin.line == 7 and f3.due_estimated


def test_trailing_empty_columns_may_be_left_out(tmp_path):
    # the two empty currency columns (Montantdevise, Idevise) left out of every line
    text = "\n".join(line[:-2] if n and line.endswith("\t\t") else line
                     for n, line in enumerate(fec_text().splitlines())) + "\n"
    assert text.count("\n") == len(LEDGER) + 1 and text != fec_text()
    f = tmp_path / "short.fec"
    f.write_text(text, encoding="utf-8")
    assert summary(read_fec(f, 30)) == EXPECTED


def test_amount_excluding_tax_from_the_revenue_lines(tmp_path):
    rows = [("VE", "1", "20260105", "411000", "C001", "Dupont", "F1", "F1", "1200,00", "0,00", ""),
            ("VE", "1", "20260105", "706000", "", "", "F1", "F1", "0,00", "1000,00", ""),
            ("VE", "1", "20260105", "445710", "", "", "F1", "F1", "0,00", "200,00", ""),
            # two invoices in one entry: the revenue cannot be split between them
            ("VE", "2", "20260106", "411000", "C001", "Dupont", "F2", "F2", "120,00", "0,00", ""),
            ("VE", "2", "20260106", "411000", "C001", "Dupont", "F3", "F3", "240,00", "0,00", ""),
            ("VE", "2", "20260106", "706000", "", "", "F2", "F2", "0,00", "300,00", ""),
            ("VE", "2", "20260106", "445710", "", "", "F2", "F2", "0,00", "60,00", "")]
    f = tmp_path / "ht.fec"
    f.write_text(fec_text(rows, montant_sens=True), encoding="utf-8")
    (d,) = read_fec(f, 30).debtors
    assert [(i.number, i.amount_incl_tax, i.amount_excl_tax) for i in d.invoices] == [
        ("F1", D("1200.00"), D("1000.00")), ("F2", D("120.00"), None), ("F3", D("240.00"), None)]


def test_opening_entries_count(tmp_path):
    """An "à nouveau" balance brought forward without a piece reference is an open item,
    named after its journal and entry."""
    rows = [("AN", "1", "20260101", "411000", "C009", "Client Ancien", "-", "A nouveau", "250,00", "0,00", ""),
            ("AN", "1", "20260101", "890000", "", "", "-", "A nouveau", "0,00", "250,00", "")]
    f = tmp_path / "an.fec"
    f.write_text(fec_text(rows), encoding="utf-8")
    (d,) = read_fec(f, 30).debtors
    assert [(i.number, i.issued, i.amount_incl_tax, i.settled) for i in d.invoices] == [("AN-1", date(2026, 1, 1), D("250.00"), False)]


def test_odoo_amounts_and_signs():
    assert parse_amount(" 000000000001437,12") == D("1437.12")
    assert parse_amount("-000000000000012,50") == D("-12.50")
    assert parse_amount("12,00-") == D("-12.00")
    assert parse_amount("1437.1") == D("1437.1")
    assert parse_amount("1 437,12") == D("1437.12")
    assert parse_amount("1.437,12") is None and parse_amount("abc") is None


def test_stray_separator_in_a_label_is_reported_with_its_line(tmp_path):
    rows = list(LEDGER)
    rows[3] = rows[3][:7] + ("Facture F2 | chantier",) + rows[3][8:]
    f = tmp_path / "x.fec"
    f.write_text(fec_text(rows, sep="|"), encoding="utf-8")
    pf = portfolio(tmp_path)
    code, out, err = invoke("import", "fec", str(f), "--into", str(pf))
    assert code == 2
    assert f"{f}:5: 19 fields instead of 18; a '|' inside a label" in err
    assert sorted(p.name for p in pf.iterdir()) == ["portfolio.yaml"]  # nothing written


def test_bad_amount_and_date_name_line_and_column(tmp_path):
    rows = list(LEDGER)
    rows[3] = rows[3][:8] + ("6OO,00",) + rows[3][9:]
    rows[5] = rows[5][:2] + ("20260231",) + rows[5][3:]
    f = tmp_path / "x.fec"
    f.write_text(fec_text(rows), encoding="utf-8")
    with pytest.raises(ImportFileError) as e:
        read_fec(f)
    text = str(e.value)
    assert f"{f}:5: Debit: '6OO,00' is not an amount" in text
    assert f"{f}:7: EcritureDate: '20260231' is not a date" in text


def test_the_fec_of_another_company_is_flagged(tmp_path):
    pf = portfolio(tmp_path)
    f = tmp_path / "539749960FEC20261231.txt"
    f.write_text(fec_text(), encoding="utf-8")
    code, out, err = invoke("import", "fec", str(f), "--into", str(pf), "--dry-run")
    assert code == 0 and "the books of SIREN 539749960 (file name), not of the portfolio's creditor (SIREN 732829320)" in err


def test_not_a_fec(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    code, _, err = invoke("import", "fec", str(f), "--into", str(tmp_path / "pf"))
    assert code == 2 and "missing column(s) JournalCode" in err and not (tmp_path / "pf").exists()


def test_import_then_hand_edit_then_newer_export(tmp_path):
    pf = portfolio(tmp_path)
    v1, v2 = tmp_path / "v1.fec", tmp_path / "v2.fec"
    v1.write_text(fec_text(), encoding="utf-8")
    v2.write_text(fec_text(LEDGER + NEWER), encoding="utf-8")
    code, out, err = invoke("import", "fec", str(v1), "--into", str(pf))
    assert code == 0, err
    assert sorted(p.name for p in pf.iterdir()) == ["boulangerie-dupre", "clients-divers", "portfolio.yaml"]
    case_dir = pf / "boulangerie-dupre"
    # a person completes the case: address, email, a confirmed due date
    hand = ("debtor:\n  email: compta@dupre.example\n"
            "  address: {lines: [\"3 rue Neuve\"], postal_code: \"69001\", city: Lyon}\n"
            "invoices:\n  - {number: F2, due: 2026-03-15}\n")
    (case_dir / "case.yaml").write_text(hand, encoding="utf-8")
    (case_dir / "journal.jsonl").write_text("", encoding="utf-8")
    case = load_case(case_dir, AT)
    assert [(i.number, i.due) for i in case.invoices] == [("F2", date(2026, 3, 15)), ("F3", date(2026, 3, 31))]
    assert [(p.amount, p.invoice) for p in case.payments] == [(D("400.00"), "F3")]

    code, out, err = invoke("import", "fec", str(v2), "--into", str(pf), "--dry-run")
    out = norm(out)
    assert code == 0 and "boulangerie-dupre: close invoice F3 900,00 €: settled in the books" in out
    assert "add payment BQ-11 500,00 € on F3" in out and "nothing written" in out
    assert "BQ-11" not in (case_dir / "imported.yaml").read_text(encoding="utf-8")
    for _ in range(2):  # the second run changes nothing
        code, out, err = invoke("import", "fec", str(v2), "--into", str(pf))
        assert code == 0, err
    assert "0 new case(s), 0 updated, 0 change(s)" in out
    assert (case_dir / "case.yaml").read_text(encoding="utf-8") == hand  # the hand edit survives
    assert (case_dir / "journal.jsonl").read_text(encoding="utf-8") == ""
    data = yaml.safe_load((case_dir / "imported.yaml").read_text(encoding="utf-8"))
    assert [p["id"] for p in data["payments"]].count("BQ-11") == 1
    assert {i["number"]: i["status"] for i in data["invoices"]} == {"F2": "open", "F3": "paid"}
    case, problems, notes = check_case_layers(case_dir, AT)
    assert case is not None, problems
    assert [i.number for i in case.invoices] == ["F2"] and case.debtor.email == "compta@dupre.example"
    assert case.payments == () and [c.number for c in case.credit_notes] == ["AV1"]
    assert notes.due_estimated == frozenset()  # F2 confirmed by hand; F3 closed


def test_estimated_due_date_flagged_by_check(tmp_path):
    pf = portfolio(tmp_path)
    f = tmp_path / "v1.fec"
    f.write_text(fec_text(), encoding="utf-8")
    assert invoke("import", "fec", str(f), "--into", str(pf))[0] == 0
    code, out, err = invoke("check", str(pf / "clients-divers"), "--at", "2026-06-15")
    assert code == 2
    assert "imported.yaml:10: invoices[0].due: warning: due date of F5 estimated" in out
    assert "debtor.address: missing (required): the export does not give it; write it in case.yaml" in err


# -------------------------------------------------------------------- property


line_st = st.tuples(
    st.sampled_from(["C1", "C2", "C3"]),  # auxiliary account
    st.integers(-50_000, 50_000),  # cents, debit minus credit
    st.sampled_from(["", "", "A", "B", "C"]),  # lettering
    st.sampled_from(["VE", "BQ"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(line_st, max_size=40))
def test_open_plus_lettered_is_every_customer_line(lines):
    rows = []
    for n, (aux, cents, let, journal) in enumerate(lines, start=1):
        amount = D(cents) / 100
        debit, credit = (f"{amount:.2f}", "0,00") if amount >= 0 else ("0,00", f"{-amount:.2f}")
        rows.append((journal, str(n), "20260105", "411000", aux, f"Client {aux}", f"P{n}", "x",
                     debit.replace(".", ","), credit.replace(".", ","), let))
        rows.append((journal, str(n), "20260105", "512000", "", "", f"P{n}", "x", "0,00", "0,00", ""))
    parsed = read_lines(fec_text(rows).encode(), "gen.fec")
    assert len(parsed) == len(lines)
    open_ = [ln for ln in parsed if ln.open]
    lettered = [ln for ln in parsed if not ln.open]
    assert len(open_) + len(lettered) == len(lines)
    groups: dict = {}
    for ln in lettered:
        groups[(ln.debtor_account, ln.lettering)] = groups.get((ln.debtor_account, ln.lettering), D(0)) + ln.amount
    assert all(v == 0 for v in groups.values())  # a settled group balances
    assert sum((ln.amount for ln in open_), D(0)) == sum((D(c) / 100 for _, c, _, _ in lines), D(0))
