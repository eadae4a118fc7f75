"""`dossier import einvoice`: Factur-X PDFs, CII and UBL XML — the shared corpus of files
made by other tools, and a CII file written here."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml

from dossier.casefile import check_case_layers
from dossier.imports import ImportFileError
from dossier.imports.einvoice import read_einvoices, read_file

from helpers import SHARED, invoke

CORPUS = SHARED / "einvoice-corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/einvoice-corpus is absent")
LATE = date(2030, 1, 1)

PORTFOLIO = """\
creditor:
  name: Au bon moulin
  siren: "732829320"
  address: {lines: ["1242 chemin de l'olive"], postal_code: "84340", city: Malaucène}
"""

CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocument>
  <ram:ID>{number}</ram:ID>
  <ram:TypeCode>{type}</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20260105</udt:DateTimeString></ram:IssueDateTime>
  <ram:IncludedNote><ram:Content>Pénalités : trois fois le taux légal.</ram:Content><ram:SubjectCode>PMD</ram:SubjectCode></ram:IncludedNote>
  <ram:IncludedNote><ram:Content>Indemnité forfaitaire : 40 €.</ram:Content><ram:SubjectCode>PMT</ram:SubjectCode></ram:IncludedNote>
 </rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:SellerTradeParty><ram:Name>Au bon moulin</ram:Name></ram:SellerTradeParty>
   <ram:BuyerTradeParty>
    <ram:Name>Boulangerie Dupont</ram:Name>
    <ram:SpecifiedLegalOrganization><ram:ID schemeID="0009">53974996000008</ram:ID></ram:SpecifiedLegalOrganization>
    <ram:PostalTradeAddress><ram:PostcodeCode>38000</ram:PostcodeCode><ram:LineOne>5 place Grenette</ram:LineOne>
     <ram:CityName>Grenoble</ram:CityName><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
    <ram:URIUniversalCommunication><ram:URIID schemeID="EM">compta@dupont.example</ram:URIID></ram:URIUniversalCommunication>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR83539749960</ram:ID></ram:SpecifiedTaxRegistration>
   </ram:BuyerTradeParty>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeSettlement>
   <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradeSettlementPaymentMeans><ram:PayeePartyCreditorFinancialAccount><ram:IBANID>FR76 3000 6000 0112 3456 7890 189</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>
   <ram:SpecifiedTradePaymentTerms><ram:Description>30 jours net</ram:Description>
    <ram:DueDateDateTime><udt:DateTimeString format="102">20260204</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:TaxBasisTotalAmount>{ht}</ram:TaxBasisTotalAmount>
    <ram:GrandTotalAmount>{ttc}</ram:GrandTotalAmount>
    <ram:TotalPrepaidAmount>{prepaid}</ram:TotalPrepaidAmount>
    <ram:DuePayableAmount>{due}</ram:DuePayableAmount>
   </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
   {ref}
  </ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
"""


def cii(tmp_path: Path, number="F-100", type="380", ht="1000.00", ttc="1200.00", prepaid="200.00", due="1000.00",
        ref="") -> Path:
    f = tmp_path / f"{number}.xml"
    f.write_text(CII.format(number=number, type=type, ht=ht, ttc=ttc, prepaid=prepaid, due=due, ref=ref), encoding="utf-8")
    return f


def portfolio(tmp_path: Path) -> Path:
    pf = tmp_path / "pf"
    pf.mkdir()
    (pf / "portfolio.yaml").write_text(PORTFOLIO, encoding="utf-8")
    return pf


def test_cii_fields(tmp_path):
    e = read_file(cii(tmp_path))
    assert (e.number, e.credit_note, e.issued, e.due) == ("F-100", False, date(2026, 1, 5), date(2026, 2, 4))
    assert (e.grand_total, e.prepaid, e.due_payable, e.tax_exclusive) == (D("1200.00"), D("200.00"), D("1000.00"), D("1000.00"))
    b = e.buyer
    assert (b.name, b.siren, b.siret, b.vat_number, b.email) == (
        "Boulangerie Dupont", "539749960", "53974996000008", "FR83539749960", "compta@dupont.example")
    assert (b.address_lines, b.postal_code, b.city, b.country) == (("5 place Grenette",), "38000", "Grenoble", "FR")
    assert e.terms_text == "30 jours net" and e.seller_iban == "FR7630006000011234567890189"
    assert e.penalty_note == "Pénalités : trois fois le taux légal. Indemnité forfaitaire : 40 €."
    assert e.origin.line == 6 and e.origin.xpath == "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID"


def test_invoice_and_credit_notes_into_one_case_and_rerun(tmp_path):
    pf = portfolio(tmp_path)
    inv = cii(tmp_path)
    cn381 = cii(tmp_path, "AV-1", "381", "100.00", "120.00", "0.00", "120.00",
                "<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>F-100</ram:IssuerAssignedID></ram:InvoiceReferencedDocument>")
    cn380 = cii(tmp_path, "AV-2", "380", "-50.00", "-60.00", "0.00", "-60.00")
    for _ in range(2):
        code, out, err = invoke("import", "einvoice", str(inv), str(cn381), str(cn380), "--into", str(pf))
        assert code == 0, err
    case, problems, _ = check_case_layers(pf / "boulangerie-dupont", LATE)
    assert case is not None, problems
    assert case.debtor.siren == "539749960" and case.debtor.email == "compta@dupont.example"
    assert [(i.number, i.amount_incl_tax, i.amount_excl_tax) for i in case.invoices] == [("F-100", D("1200.00"), D("1000.00"))]
    assert [(p.amount, p.invoice) for p in case.payments] == [(D("200.00"), "F-100")]
    assert [(c.number, c.amount, c.invoice) for c in case.credit_notes] == [("AV-1", D("120.00"), "F-100"), ("AV-2", D("60.00"), None)]
    data = yaml.safe_load((pf / "boulangerie-dupont" / "imported.yaml").read_text(encoding="utf-8"))
    assert data["invoices"][0]["penalty_note"].startswith("Pénalités")
    assert data["invoices"][0]["source"] == {"file": "F-100.xml", "line": 6, "via": "einvoice",
                                             "xpath": "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID"}
    assert "0 change(s)" in out


def test_bad_xml_names_file_and_line_and_writes_nothing(tmp_path):
    pf = portfolio(tmp_path)
    bad = tmp_path / "bad.xml"
    bad.write_text("<?xml version='1.0'?>\n<rsm:CrossIndustryInvoice>\n<a></b>\n", encoding="utf-8")
    other = tmp_path / "other.xml"
    other.write_text("<?xml version='1.0'?>\n<html/>\n", encoding="utf-8")
    code, out, err = invoke("import", "einvoice", str(cii(tmp_path)), str(bad), str(other), "--into", str(pf))
    assert code == 2
    assert f"{bad}:2: not well-formed XML" in err
    assert f"{other}:1: not an e-invoice: the root element is html" in err
    assert sorted(p.name for p in pf.iterdir()) == ["portfolio.yaml"]


def test_xml_entities_are_not_expanded(tmp_path):
    f = tmp_path / "xxe.xml"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    f.write_text(CII.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                             f"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file://{secret}\">]>")
                 .format(number="&x;", type="380", ht="1", ttc="1", prepaid="0", due="1", ref=""), encoding="utf-8")
    try:
        e = read_file(f)
    except ImportFileError:
        return
    assert "SECRET" not in e.number


# ------------------------------------------------------------------ shared corpus


def xml_amount(text: str, *names: str) -> D | None:
    for name in names:
        m = re.search(rf"<(?:ram|cbc):{name}[^>]*>\s*(-?[\d.]+)\s*<", text)
        if m:
            return D(m.group(1))
    return None


def corpus_xml(path: Path) -> str:
    if path.suffix == ".pdf":
        from facturx import get_facturx_xml_from_pdf

        with open(path, "rb") as fh:
            return get_facturx_xml_from_pdf(fh, check_xsd=False)[1].decode("utf-8")
    return path.read_text(encoding="utf-8-sig")


REFUSED = {
    "mustang-corruptedV2PDF.pdf": "no Factur-X / ZUGFeRD XML found in this PDF",
    "mustang-corrupt-factur-x-waytoosmall.pdf": "not a readable PDF",
}


@needs_corpus
@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.*") if p.suffix in (".pdf", ".xml")) if CORPUS.is_dir() else [])
def test_every_corpus_file_imports_or_is_refused(tmp_path, name):
    pf = portfolio(tmp_path)
    path = CORPUS / name
    files = [path]
    if "Avoir" in name:  # a credit note alone is left out: import it with the invoice it cancels
        files.insert(0, CORPUS / "mustang-facturFrMinimum.xml")
    code, out, err = invoke("import", "einvoice", *map(str, files), "--into", str(pf))
    if name in REFUSED:
        assert code == 2 and f"{path}: {REFUSED[name]}" in err
        assert sorted(p.name for p in pf.iterdir()) == ["portfolio.yaml"]
        return
    assert code == 0, err
    xml = corpus_xml(path)
    grand = xml_amount(xml, "GrandTotalAmount", "TaxInclusiveAmount")
    due = xml_amount(xml, "DuePayableAmount", "PayableAmount")
    number = re.search(r"<(?:ram|cbc):ID>([^<]+)</", xml[xml.find("ExchangedDocument>") if "ExchangedDocument>" in xml else 0:]).group(1)
    (case_dir,) = [p for p in pf.iterdir() if p.is_dir()]
    case, problems, notes = check_case_layers(case_dir, LATE)
    if case is None:  # a MINIMUM profile has no buyer address: a person completes case.yaml
        assert [p.field for p in problems if p.severity == "error"] == ["debtor.address"]
        (case_dir / "case.yaml").write_text("debtor:\n  address: {lines: [1 rue X], postal_code: '69001', city: Lyon}\n",
                                            encoding="utf-8")
        case, problems, notes = check_case_layers(case_dir, LATE)
    assert case is not None, problems
    if grand < 0 or "<ram:TypeCode>381" in xml:
        (cn,) = [c for c in case.credit_notes if c.number == number]
        assert cn.amount == abs(due)
        return
    inv = case.invoice(number)
    paid = sum((p.amount for p in case.payments if p.invoice == number), D(0))
    assert inv.amount_incl_tax == grand and inv.amount_incl_tax - paid == due
    if path.suffix == ".pdf":  # the PDF itself is the invoice's evidence
        assert inv.file is not None and inv.file.read_bytes() == path.read_bytes()
    if "<ram:DueDateDateTime>" not in xml and "<cbc:DueDate>" not in xml:
        assert number in notes.due_estimated


@needs_corpus
def test_type380_credit_note_is_a_credit_note():
    e = read_file(CORPUS / "mustang-validAvoir_FR_type380_BASICWL.pdf")
    result = read_einvoices([CORPUS / "mustang-validAvoir_FR_type380_BASICWL.pdf"])
    (items,) = result.debtors
    assert e.grand_total == D("-233.47") and items.invoices == ()
    assert [(c.number, c.amount, c.invoice) for c in items.credit_notes] == [("AV-2017-0005", D("233.47"), "FA-2017-0010")]


def test_an_import_adds_to_a_case_written_by_hand(tmp_path):
    """A portfolio case written by hand for the same debtor (same SIREN) receives the
    imported invoice in its imported.yaml; its case.yaml is left as it is."""
    pf = portfolio(tmp_path)
    hand = ("debtor:\n  kind: company\n  name: Dupont Boulangerie\n  siren: \"539749960\"\n"
            "  address: {lines: [5 place Grenette], postal_code: '38000', city: Grenoble}\n"
            "invoices:\n  - {number: F-99, issued: 2026-01-02, due: 2026-02-01, amount_incl_tax: '50.00'}\n")
    (pf / "dupont").mkdir()
    (pf / "dupont" / "case.yaml").write_text(hand, encoding="utf-8")
    code, out, err = invoke("import", "einvoice", str(cii(tmp_path)), "--into", str(pf))
    assert code == 0, err
    assert sorted(p.name for p in pf.iterdir() if p.is_dir()) == ["dupont"]
    assert (pf / "dupont" / "case.yaml").read_text(encoding="utf-8") == hand
    case, problems, _ = check_case_layers(pf / "dupont", LATE)
    assert case is not None, problems
    assert case.debtor.name == "Dupont Boulangerie"  # the hand-written name wins
    assert sorted(i.number for i in case.invoices) == ["F-100", "F-99"]
