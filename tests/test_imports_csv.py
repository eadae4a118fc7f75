"""`dossier import csv`: invoice lists and detailed aged balances of Pennylane, QuickBooks,
Sage and Odoo (made here in their usual shapes), --map, summaries refused, reruns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml

from dossier.casefile import check_case_layers
from dossier.imports.csvexport import parse_amount, parse_date, parse_mapping, read_csv

from helpers import invoke

AT = date(2026, 6, 15)

PORTFOLIO = """\
creditor:
  name: Atelier Martin
  siren: "732829320"
  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon}
terms:
  default_payment_days: 45
"""

QUICKBOOKS = """\
"Atelier Martin"
"A/R Aging Detail"
"As of June 15, 2026"

"Date","Transaction Type","Num","Customer","Due Date","Amount","Open Balance"
"Boulangerie Dupont",,,,,,
"01/05/2026","Invoice","1001","Boulangerie Dupont","02/04/2026","1,200.00","1,200.00"
"03/01/2026","Invoice","1002","Boulangerie Dupont","03/31/2026","600.00","400.00"
"Total for Boulangerie Dupont",,,,,"1,800.00","1,600.00"
"04/01/2026","Credit Memo","CM-7","Café Étoile","04/01/2026","-50.00","-50.00"
"03/15/2026","Invoice","1003","Café Étoile","04/14/2026","2,000.00","2,000.00"
"""

PENNYLANE = """\
Numéro de facture;Client;SIREN;Date de facturation;Date d'échéance;Montant HT;Montant TTC;Reste à payer;Devise
F-2026-001;Boulangerie Dupont;539749960;05/01/2026;04/02/2026;1 000,00;1 200,00;1 200,00;EUR
F-2026-002;Boulangerie Dupont;539749960;01/03/2026;;500,00;600,00;0,00;EUR
F-2026-003;Café Étoile;;15/03/2026;14/04/2026;1 666,67;2 000,00;1 500,00;EUR
"""

SAGE = """\
Compte tiers;Intitulé;N° pièce;Date;Échéance;Montant;Solde
411DUP;Boulangerie Dupont;FA0001;05/01/26;04/02/26;1200,00;1200,00
411DUP;Boulangerie Dupont;FA0002;01/03/26;31/03/26;600,00;400,00
411ETO;Café Étoile;FA0003;15/03/26;14/04/26;2000,00;2000,00
"""

ODOO = """\
Number,Partner,Invoice Date,Due Date,Tax Excluded,Total,Amount Due,Currency
INV/2026/0001,Boulangerie Dupont,2026-01-05,2026-02-04,1000.00,1200.00,1200.00,EUR
INV/2026/0002,Boulangerie Dupont,2026-03-01,2026-03-31,500.00,600.00,400.00,EUR
INV/2026/0003,Café Étoile,2026-03-15,2026-04-14,1666.67,2000.00,2000.00,USD
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    f = tmp_path / name
    f.write_bytes(text.encode(encoding))
    return f


def portfolio(tmp_path: Path) -> Path:
    pf = tmp_path / "pf"
    pf.mkdir()
    (pf / "portfolio.yaml").write_text(PORTFOLIO, encoding="utf-8")
    return pf


def items(result) -> dict:
    return {d.debtor.name: (
        [(i.number, i.issued.isoformat(), i.due.isoformat(), str(i.amount_incl_tax), i.settled, i.due_estimated) for i in d.invoices],
        [(p.invoice, str(p.amount), p.date.isoformat()) for p in d.payments],
        [(c.number, str(c.amount)) for c in d.credit_notes]) for d in result.debtors}


def test_quickbooks_aging_detail(tmp_path):
    r = read_csv(write(tmp_path, "qb.csv", QUICKBOOKS), "quickbooks", payment_days=45)
    assert items(r) == {
        # title lines, group headings and subtotals skipped; MM/DD/YYYY; 1,200.00
        "Boulangerie Dupont": ([("1001", "2026-01-05", "2026-02-04", "1200.00", False, False),
                                ("1002", "2026-03-01", "2026-03-31", "600.00", False, False)],
                               [("1002", "200.00", "2026-03-31")], []),
        "Café Étoile": ([("1003", "2026-03-15", "2026-04-14", "2000.00", False, False)], [], [("CM-7", "50.00")]),
    }
    assert r.debtors[0].invoices[0].origin.line == 7


def test_pennylane_french_export_cp1252(tmp_path):
    r = read_csv(write(tmp_path, "pl.csv", PENNYLANE, "cp1252"), "pennylane", payment_days=45)
    got = items(r)
    assert got["Boulangerie Dupont"][0] == [
        ("F-2026-001", "2026-01-05", "2026-02-04", "1200.00", False, False),
        ("F-2026-002", "2026-03-01", "2026-04-15", "600.00", True, True)]  # paid; no due date: + 45 days
    assert got["Café Étoile"][1] == [("F-2026-003", "500.00", "2026-04-14")]
    assert r.debtors[0].debtor.siren == "539749960"
    assert r.debtors[0].invoices[0].amount_excl_tax == D("1000.00")


def test_sage_detailed_balance(tmp_path):
    r = read_csv(write(tmp_path, "sage.csv", SAGE), "sage")
    got = items(r)
    assert got["Boulangerie Dupont"][0][1] == ("FA0002", "2026-03-01", "2026-03-31", "600.00", False, False)
    assert got["Boulangerie Dupont"][1] == [("FA0002", "200.00", "2026-03-31")]
    assert r.debtors[0].debtor.account == "411DUP"


def test_odoo_invoices_and_a_foreign_currency(tmp_path):
    pf = portfolio(tmp_path)
    code, out, err = invoke("import", "csv", str(write(tmp_path, "odoo.csv", ODOO)), "--profile", "odoo", "--into", str(pf))
    assert code == 0, err
    assert "invoice INV/2026/0003 is in USD: dossier computes in euros only; left out" in err
    data = yaml.safe_load((pf / "boulangerie-dupont" / "imported.yaml").read_text(encoding="utf-8"))
    assert [i["number"] for i in data["invoices"]] == ["INV/2026/0001", "INV/2026/0002"]


def test_map_names_unknown_columns(tmp_path):
    text = "Ref;Débiteur;Emise le;Payable le;TTC;Dû\nX1;Dupont;05/01/2026;04/02/2026;100,00;100,00\n"
    f = write(tmp_path, "x.csv", text)
    code, _, err = invoke("import", "csv", str(f), "--into", str(portfolio(tmp_path)))
    assert code == 2 and "x.csv:1: no column for amount or remaining" in err and "--map COLUMN=field" in err
    mapping = parse_mapping(["Ref=number", "Débiteur=customer", "Emise le=issued", "Payable le=due", "TTC=amount", "Dû=remaining"])
    r = read_csv(f, "generic", mapping)
    assert items(r) == {"Dupont": ([("X1", "2026-01-05", "2026-02-04", "100.00", False, False)], [], [])}
    with pytest.raises(ValueError):
        parse_mapping(["Ref=numero"])


@pytest.mark.parametrize("profile,text,hint", [
    ("quickbooks", "Customer,Current,1 - 30,31 - 60,61 - 90,91 and over,Total\nDupont,0,100,0,0,0,100\n", "A/R Aging Detail"),
    ("sage", "Compte;Intitulé;Non échu;1 30;31 60;61 90;Plus de 90;Total\n411DUP;Dupont;0;0;100;0;0;100\n", "balance âgée"),
    ("generic", "Client;A échoir;0-30 jours;31-60 jours;Total\nDupont;0;10;0;10\n", "detailed aged balance"),
])
def test_summary_export_is_refused_with_the_export_to_use(tmp_path, profile, text, hint):
    pf = portfolio(tmp_path)
    code, out, err = invoke("import", "csv", str(write(tmp_path, "s.csv", text)), "--profile", profile, "--into", str(pf))
    assert code == 2 and "a summary aged balance (totals per customer, no invoices)" in err and hint in err
    assert sorted(p.name for p in pf.iterdir()) == ["portfolio.yaml"]


def test_bad_values_exit_2_with_line_and_nothing_written(tmp_path):
    pf = portfolio(tmp_path)
    bad = PENNYLANE.replace("1 200,00;1 200,00", "1 200,00;douze").replace("01/03/2026", "31/02/2026")
    code, _, err = invoke("import", "csv", str(write(tmp_path, "b.csv", bad)), "--profile", "pennylane", "--into", str(pf))
    assert code == 2
    assert "b.csv:2: remaining: 'douze' is not an amount" in err
    assert "b.csv:3: issued: '31/02/2026' is not a date" in err
    assert sorted(p.name for p in pf.iterdir()) == ["portfolio.yaml"]


def test_rerun_closes_what_the_newer_export_no_longer_lists(tmp_path):
    pf = portfolio(tmp_path)
    assert invoke("import", "csv", str(write(tmp_path, "v1.csv", SAGE)), "--profile", "sage", "--into", str(pf))[0] == 0
    (pf / "boulangerie-dupont" / "case.yaml").write_text(
        "debtor:\n  address: {lines: [5 place Grenette], postal_code: '38000', city: Grenoble}\n", encoding="utf-8")
    # FA0001 paid in full (gone from the balance), FA0002 paid down to 100
    newer = "\n".join(line for line in SAGE.splitlines() if "FA0001" not in line).replace("600,00;400,00", "600,00;100,00")
    partial = write(tmp_path, "v2.csv", newer + "\n")
    code, out, _ = invoke("import", "csv", str(partial), "--profile", "sage", "--into", str(pf), "--partial", "--dry-run")
    assert code == 0 and "close" not in out and "update payment csv-paid-FA0002" in out
    code, out, err = invoke("import", "csv", str(partial), "--profile", "sage", "--into", str(pf))
    assert code == 0, err
    assert "close invoice FA0001: no longer in the export of open items" in out
    case, problems, notes = check_case_layers(pf / "boulangerie-dupont", AT)
    assert case is not None, problems
    assert [i.number for i in case.invoices] == ["FA0002"]
    assert [(p.amount, p.invoice) for p in case.payments] == [(D("500.00"), "FA0002")]
    assert notes.invoice_status == {"FA0001": "closed", "FA0002": "open"}
    data = yaml.safe_load((pf / "boulangerie-dupont" / "imported.yaml").read_text(encoding="utf-8"))
    assert data["payments"] == [{"id": "csv-paid-FA0002", "date": date(2026, 3, 31), "date_estimated": True,
                                 "amount": "500.00", "invoice": "FA0002", "reference": "déjà payé selon l'export",
                                 "source": {"file": "v2.csv", "line": 2, "via": "csv"}}]


def test_amounts_and_dates():
    assert parse_amount("1 234,56 €", None) == D("1234.56")
    assert parse_amount("1,234.56", None) == D("1234.56")
    assert parse_amount("1.234,56", ",") == D("1234.56")
    assert parse_amount("(12.00)", ".") == D("-12.00")
    assert parse_amount("1,234", ".") == D("1234")
    assert parse_amount("", None) is None
    with pytest.raises(ValueError):
        parse_amount("12abc", None)
    assert parse_date("02/04/2026", "mdy") == date(2026, 2, 4) and parse_date("02/04/2026", "dmy") == date(2026, 4, 2)
    assert parse_date("2026-04-02 00:00:00", "dmy") == date(2026, 4, 2) and parse_date("02.04.26", "dmy") == date(2026, 4, 2)
