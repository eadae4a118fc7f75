"""Invoices and credit notes from e-invoices: Factur-X / ZUGFeRD PDFs (the CII XML embedded
in a PDF/A-3), CII XML and UBL 2.1 XML (EN 16931 syntaxes).

What is read, CII path / UBL path:

- number: ``rsm:ExchangedDocument/ram:ID`` / ``cbc:ID``;
- type: ``ram:TypeCode`` / ``cbc:InvoiceTypeCode`` (380 invoice; 381, 261, 262, 396, 532
  credit notes; UBL ``CreditNote`` documents) — a credit note sent as 380 with a negative
  amount is a credit note;
- dates: ``ram:IssueDateTime`` and ``ram:DueDateDateTime`` (format 102, YYYYMMDD) /
  ``cbc:IssueDate`` and ``cbc:DueDate``; no due date (MINIMUM profile): issue date plus the
  portfolio's default terms, marked as an estimate;
- buyer: name, SIREN (scheme 0002) or SIRET (0009), VAT number (scheme VA), address, email;
- amounts: grand total, prepaid and due amounts (``ram:GrandTotalAmount``,
  ``ram:TotalPrepaidAmount``, ``ram:DuePayableAmount`` / ``cbc:TaxInclusiveAmount``,
  ``cbc:PrepaidAmount``, ``cbc:PayableAmount``), the currency;
- payment terms text and the notes with subject code PMD (late penalties) and PMT (flat
  indemnity), the seller's IBAN.

The XML is parsed without entities, DTDs or network access (an invoice is untrusted input).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dossier.errors import Problem
from dossier.imports import (
    DebtorInfo,
    ImportedCreditNote,
    ImportedInvoice,
    ImportedPayment,
    ImportFileError,
    ImportResult,
    Origin,
    clean_text,
    group_by_debtor,
)

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CREDIT_NOTE_CODES = ("381", "261", "262", "296", "308", "396", "420", "458", "532")
#: an e-invoice larger than this is refused (a Factur-X PDF is a few hundred kB)
MAX_BYTES = 50_000_000


@dataclass(frozen=True)
class EInvoice:
    """One e-invoice as read, before it becomes an invoice or a credit note of a case."""

    number: str
    credit_note: bool
    issued: date
    due: date | None
    buyer: DebtorInfo
    grand_total: Decimal
    prepaid: Decimal
    due_payable: Decimal
    tax_exclusive: Decimal | None
    currency: str
    terms_text: str | None
    penalty_note: str | None
    seller_name: str | None
    seller_siren: str | None
    seller_iban: str | None
    referenced_invoice: str | None
    origin: Origin


class _Doc:
    """XPath helpers over one parsed document, with the file label for problems."""

    def __init__(self, root, label: str, file_name: str, inner: str | None):
        self.root = root
        self.label = label
        self.file_name = file_name
        self.inner = inner  # the attachment's name inside a PDF

    def first(self, path: str, node=None):
        found = (node if node is not None else self.root).xpath(path, namespaces=NS)
        return found[0] if found else None

    def text(self, path: str, node=None) -> str | None:
        el = self.first(path, node)
        if el is None:
            return None
        return clean_text(el if isinstance(el, str) else (el.text or ""))

    def origin(self, el) -> Origin:
        tree = self.root.getroottree()
        xpath = None
        if el is not None:
            rel = tree.getelementpath(el)
            xpath = f"/{self.root.tag}" + (f"/{rel}" if rel != "." and el is not self.root else "")
            for prefix, uri in NS.items():
                xpath = xpath.replace(f"{{{uri}}}", f"{prefix}:")
        if self.inner:
            xpath = f"{self.inner}:{xpath}"
        return Origin(self.file_name, el.sourceline if el is not None else None, xpath, via="einvoice")

    def fail(self, path: str, message: str):
        el = self.first(path) if path else None
        line = el.sourceline if el is not None and not isinstance(el, str) else None
        raise ImportFileError([Problem(self.label, line, path, message)])

    def amount(self, path: str, required: bool = True) -> Decimal | None:
        t = self.text(path)
        if t is None:
            if required:
                self.fail("", f"no {path.split('/')[-1].split(':')[-1]}: not an invoice this tool can read")
            return None
        try:
            return Decimal(t.replace(" ", ""))
        except InvalidOperation:
            self.fail(path, f"'{t}' is not an amount")
        return None

    def date(self, path: str, required: bool = True) -> date | None:
        t = self.text(path)
        if t is None:
            if required:
                self.fail("", f"no {path.split('/')[-2 if path.endswith(']') else -1]}: not an invoice this tool can read")
            return None
        try:
            if re.fullmatch(r"\d{8}", t):
                return date(int(t[:4]), int(t[4:6]), int(t[6:]))
            return date.fromisoformat(t[:10])
        except ValueError:
            self.fail(path, f"'{t}' is not a date (YYYYMMDD or YYYY-MM-DD)")
        return None


def _ids(scheme_values: list[tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    """(SIREN, SIRET) from identifiers with their scheme: 0002 SIREN, 0009 SIRET (a 14-digit
    value under 0002, met in practice, is taken as a SIRET). Only valid numbers are kept."""
    from stdnum.fr import siren as siren_mod
    from stdnum.fr import siret as siret_mod

    siren = siret = None
    for scheme, value in scheme_values:
        v = re.sub(r"\s", "", value or "")
        if scheme not in ("0002", "0009") or not v.isdigit():
            continue
        if len(v) == 14 and siret_mod.is_valid(v):
            siret = siret or v
            siren = siren or v[:9]
        elif len(v) == 9 and siren_mod.is_valid(v):
            siren = siren or v
    return siren, siret


def _vat(value: str | None) -> str | None:
    from stdnum.eu import vat

    v = re.sub(r"\s", "", value or "")
    return v if v and vat.is_valid(v) else None


def _iban(value: str | None) -> str | None:
    return re.sub(r"\s", "", value).upper() if value else None


def _note(doc: _Doc, notes: list[str], code: str) -> str | None:
    texts = [clean_text(n.split("#", 2)[2] if n.startswith(f"#{code}#") else n) for n in notes]
    return " ".join(t for t in texts if t) or None


def _read_cii(doc: _Doc) -> EInvoice:
    ex = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument"
    tx = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
    agr, st = f"{tx}/ram:ApplicableHeaderTradeAgreement", f"{tx}/ram:ApplicableHeaderTradeSettlement"
    num_el = doc.first(f"{ex}/ram:ID")
    if num_el is None or not (num_el.text or "").strip():
        doc.fail("", "no invoice number (rsm:ExchangedDocument/ram:ID)")
    buyer = doc.first(f"{agr}/ram:BuyerTradeParty")
    if buyer is None:
        doc.fail("", "no buyer (ram:BuyerTradeParty)")
    ids = [(e.get("schemeID"), e.text) for e in buyer.xpath("ram:SpecifiedLegalOrganization/ram:ID | ram:ID | ram:GlobalID", namespaces=NS)]
    siren, siret = _ids(ids)
    lines = tuple(t for t in (doc.text(f"ram:PostalTradeAddress/ram:{k}", buyer) for k in ("LineOne", "LineTwo", "LineThree")) if t)
    debtor = DebtorInfo(
        doc.text("ram:Name", buyer) or "", siren=siren, siret=siret,
        vat_number=_vat(doc.text("ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']", buyer)),
        email=doc.text("ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']", buyer)
        or doc.text("ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID", buyer),
        address_lines=lines, postal_code=doc.text("ram:PostalTradeAddress/ram:PostcodeCode", buyer),
        city=doc.text("ram:PostalTradeAddress/ram:CityName", buyer), country=doc.text("ram:PostalTradeAddress/ram:CountryID", buyer),
        origin=doc.origin(buyer))
    seller = doc.first(f"{agr}/ram:SellerTradeParty")
    sums = f"{st}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    notes = [n.text or "" for n in doc.root.xpath(f"{ex}/ram:IncludedNote", namespaces=NS)
             for n in n.xpath("ram:Content", namespaces=NS)]
    subj = {n.xpath("string(ram:SubjectCode)", namespaces=NS): n.xpath("string(ram:Content)", namespaces=NS)
            for n in doc.root.xpath(f"{ex}/ram:IncludedNote", namespaces=NS)}
    penalty = " ".join(clean_text(subj[k]) or "" for k in ("PMD", "PMT") if subj.get(k)) or None
    grand = doc.amount(f"{sums}/ram:GrandTotalAmount")
    return EInvoice(
        number=clean_text(num_el.text) or "", credit_note=doc.text(f"{ex}/ram:TypeCode") in CREDIT_NOTE_CODES,
        issued=doc.date(f"{ex}/ram:IssueDateTime/udt:DateTimeString"),
        due=doc.date(f"{st}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString", required=False),
        buyer=debtor, grand_total=grand, prepaid=doc.amount(f"{sums}/ram:TotalPrepaidAmount", False) or Decimal(0),
        due_payable=doc.amount(f"{sums}/ram:DuePayableAmount", False) or grand,
        tax_exclusive=doc.amount(f"{sums}/ram:TaxBasisTotalAmount", False),
        currency=doc.text(f"{st}/ram:InvoiceCurrencyCode") or "EUR",
        terms_text=doc.text(f"{st}/ram:SpecifiedTradePaymentTerms/ram:Description"),
        penalty_note=penalty or (None if not notes else None),
        seller_name=doc.text("ram:Name", seller) if seller is not None else None,
        seller_siren=_ids([(e.get("schemeID"), e.text) for e in seller.xpath("ram:SpecifiedLegalOrganization/ram:ID", namespaces=NS)])[0]
        if seller is not None else None,
        seller_iban=_iban(doc.text(f"{st}/ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount/ram:IBANID")),
        referenced_invoice=doc.text(f"{st}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID"),
        origin=doc.origin(num_el),
    )


def _read_ubl(doc: _Doc) -> EInvoice:
    is_cn = doc.root.tag == f"{{{NS['cn']}}}CreditNote"
    top = "/cn:CreditNote" if is_cn else "/inv:Invoice"
    num_el = doc.first(f"{top}/cbc:ID")
    if num_el is None or not (num_el.text or "").strip():
        doc.fail("", "no invoice number (cbc:ID)")
    party = doc.first(f"{top}/cac:AccountingCustomerParty/cac:Party")
    if party is None:
        doc.fail("", "no buyer (cac:AccountingCustomerParty)")
    ids = [(e.get("schemeID"), e.text) for e in party.xpath(
        "cac:PartyLegalEntity/cbc:CompanyID | cac:PartyIdentification/cbc:ID", namespaces=NS)]
    siren, siret = _ids(ids)
    addr = "cac:PostalAddress"
    lines = tuple(t for t in (doc.text(f"{addr}/cbc:{k}", party) for k in ("StreetName", "AdditionalStreetName")) if t)
    lines += tuple(t for t in (doc.text(f"{addr}/cac:AddressLine/cbc:Line", party),) if t)
    debtor = DebtorInfo(
        doc.text("cac:PartyLegalEntity/cbc:RegistrationName", party) or doc.text("cac:PartyName/cbc:Name", party) or "",
        siren=siren, siret=siret, vat_number=_vat(doc.text("cac:PartyTaxScheme/cbc:CompanyID", party)),
        email=doc.text("cac:Contact/cbc:ElectronicMail", party), address_lines=lines,
        postal_code=doc.text(f"{addr}/cbc:PostalZone", party), city=doc.text(f"{addr}/cbc:CityName", party),
        country=doc.text(f"{addr}/cac:Country/cbc:IdentificationCode", party), origin=doc.origin(party))
    notes = [n.text or "" for n in doc.root.xpath(f"{top}/cbc:Note", namespaces=NS)]
    penalty = " ".join(x for x in (_note(doc, [n for n in notes if n.startswith(f"#{c}#")], c) for c in ("PMD", "PMT")) if x) or None
    sums = f"{top}/cac:LegalMonetaryTotal"
    grand = doc.amount(f"{sums}/cbc:TaxInclusiveAmount", False)
    payable = doc.amount(f"{sums}/cbc:PayableAmount")
    seller = doc.first(f"{top}/cac:AccountingSupplierParty/cac:Party")
    code = doc.text(f"{top}/cbc:InvoiceTypeCode") or doc.text(f"{top}/cbc:CreditNoteTypeCode")
    return EInvoice(
        number=clean_text(num_el.text) or "", credit_note=is_cn or code in CREDIT_NOTE_CODES,
        issued=doc.date(f"{top}/cbc:IssueDate"), due=doc.date(f"{top}/cbc:DueDate", False)
        or doc.date(f"{top}/cac:PaymentMeans/cbc:PaymentDueDate", False),
        buyer=debtor, grand_total=grand if grand is not None else payable,
        prepaid=doc.amount(f"{sums}/cbc:PrepaidAmount", False) or Decimal(0), due_payable=payable,
        tax_exclusive=doc.amount(f"{sums}/cbc:TaxExclusiveAmount", False),
        currency=doc.text(f"{top}/cbc:DocumentCurrencyCode") or "EUR",
        terms_text=doc.text(f"{top}/cac:PaymentTerms/cbc:Note"), penalty_note=penalty,
        seller_name=doc.text("cac:PartyLegalEntity/cbc:RegistrationName", seller) if seller is not None else None,
        seller_siren=_ids([(e.get("schemeID"), e.text) for e in seller.xpath(
            "cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS)])[0] if seller is not None else None,
        seller_iban=_iban(doc.text(f"{top}/cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID")),
        referenced_invoice=doc.text(f"{top}/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
        origin=doc.origin(num_el),
    )


def parse_xml(data: bytes, label: str, file_name: str, inner: str | None = None) -> EInvoice:
    """One CII or UBL document."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line = e.lineno if inner is None else None
        raise ImportFileError([Problem(label, line, "", f"not well-formed XML: {e.msg}")]) from None
    doc = _Doc(root, label, file_name, inner)
    tag = root.tag
    if tag == f"{{{NS['rsm']}}}CrossIndustryInvoice":
        return _read_cii(doc)
    if tag in (f"{{{NS['inv']}}}Invoice", f"{{{NS['cn']}}}CreditNote"):
        return _read_ubl(doc)
    raise ImportFileError([Problem(label, 1, "", f"not an e-invoice: the root element is {etree.QName(tag).localname}, "
                                   "expected a CII CrossIndustryInvoice or a UBL Invoice or CreditNote")])


def read_file(path: Path) -> EInvoice:
    """A Factur-X / ZUGFeRD PDF, or a CII or UBL XML file."""
    label = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ImportFileError([Problem(label, None, "", f"larger than {MAX_BYTES // 10**6} MB: not an e-invoice")])
        data = path.read_bytes()
    except OSError as e:
        raise ImportFileError([Problem(label, None, "", f"cannot read: {e.strerror}")]) from None
    if data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<":
        return parse_xml(data, label, path.name)
    if not data.startswith(b"%PDF"):
        raise ImportFileError([Problem(label, None, "", "neither a PDF nor an XML file")])
    name, xml = _xml_from_pdf(data, label)
    return parse_xml(xml, label, path.name, name)


def _xml_from_pdf(data: bytes, label: str) -> tuple[str, bytes]:
    import io

    from facturx import get_facturx_xml_from_pdf

    logging.getLogger("factur-x").setLevel(logging.CRITICAL)
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        name, xml = get_facturx_xml_from_pdf(io.BytesIO(data), check_xsd=False)
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on a damaged file
        raise ImportFileError([Problem(label, None, "", f"not a readable PDF ({type(e).__name__}): the file is "
                                       "damaged or truncated; ask for the invoice again")]) from None
    if not name or not xml:
        raise ImportFileError([Problem(label, None, "", "no Factur-X / ZUGFeRD XML found in this PDF (damaged, or a plain "
                                       "PDF invoice): import its XML, or write the invoice in case.yaml")])
    return str(name), xml


def to_items(e: EInvoice, file: Path | None, payment_days: int) -> list:
    """The invoice (or credit note) and its prepaid amount as a payment."""
    sign = -1 if e.due_payable < 0 or e.grand_total < 0 else 1
    if e.credit_note or sign < 0:
        amount = abs(e.due_payable) if e.due_payable else abs(e.grand_total)
        return [ImportedCreditNote(e.number, e.issued, amount, e.origin, e.referenced_invoice, file=file)]
    due = e.due or e.issued + timedelta(days=payment_days)
    excl = e.tax_exclusive if e.tax_exclusive is not None and e.tax_exclusive > 0 else None
    out: list = [ImportedInvoice(e.number, e.issued, due, e.grand_total, e.origin, due_estimated=e.due is None,
                                 amount_excl_tax=excl, file=file, currency=e.currency,
                                 terms_text=e.terms_text, penalty_note=e.penalty_note)]
    # what the invoice itself says is already paid (TotalPrepaidAmount, or the gap between
    # the grand total and the amount due): a payment on the issue date, so that the amount
    # still owed is exactly the invoice's DuePayableAmount
    paid = e.grand_total - e.due_payable
    if paid > 0:
        out.append(ImportedPayment(f"{e.number}-prepaid", e.issued, paid, e.origin, e.number,
                                   "acompte (montant déjà payé selon la facture)"))
    return out


def _seller_warnings(e: EInvoice, label: str, creditor: dict) -> list[Problem]:
    out = []
    siren = str(creditor.get("siren") or "")
    bank = creditor.get("bank") if isinstance(creditor.get("bank"), dict) else {}
    iban = _iban(str(bank.get("iban") or "")) if bank else None
    if siren and e.seller_siren and e.seller_siren != siren:
        out.append(Problem(label, None, "", f"issued by {e.seller_name or 'another seller'} (SIREN {e.seller_siren}), "
                           f"not by the portfolio's creditor (SIREN {siren})", "warning"))
    if iban and e.seller_iban and e.seller_iban != iban:
        out.append(Problem(label, None, "", f"the invoice asks for payment to IBAN {e.seller_iban}, the portfolio's "
                           f"creditor.bank.iban is {iban}: letters will give the portfolio's", "warning"))
    return out


def read_einvoices(paths, payment_days: int = 30, creditor: dict | None = None) -> ImportResult:
    """Read every file; any unreadable file stops the import with every problem listed.
    ``creditor`` (portfolio.yaml's) is compared with each invoice's seller SIREN and IBAN."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    items: list[tuple[DebtorInfo, object]] = []
    for raw in paths:
        p = Path(raw)
        try:
            e = read_file(p)
        except ImportFileError as err:
            problems.extend(err.problems)
            continue
        if not e.buyer.name:
            problems.append(Problem(str(p), e.buyer.origin.line if e.buyer.origin else None, "", "the buyer has no name"))
            continue
        warnings.extend(_seller_warnings(e, str(p), creditor or {}))
        evidence = p if p.suffix.lower() == ".pdf" else None
        for it in to_items(e, evidence, payment_days):
            items.append((e.buyer, it))
    if problems:
        raise ImportFileError(problems)
    return ImportResult("einvoice", tuple(str(p) for p in paths), group_by_debtor(items), warnings=tuple(warnings))
