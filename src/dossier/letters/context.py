"""Everything a letter template needs, computed once: parties, claim, décompte, payment.

Pure: takes the case, the stage, the date, the décompte and the journal's entries; reads
no file. Values stay typed (``Decimal``, ``date``) and templates format them with the
French filters (``money``, ``date_long``, ``rate``, ``words``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dossier.errors import DossierError
from dossier.ladder import STAGE_INFO, History, all_notices, history
from dossier.law.courts import petites_creances_open
from dossier.law.statement import InvoiceStatement, Statement
from dossier.letters.schedule import Instalment, compute_schedule
from dossier.model import Case, Notice, Party

ZERO = Decimal("0.00")
EPC_MAX = Decimal("999999999.99")

CHANNEL_FR = {
    "email": "courriel",
    "lrar": "lettre recommandée avec accusé de réception",
    "letter": "courrier",
    "phone": "appel téléphonique",
    "lre": "lettre recommandée électronique",
    "hand": "remise en main propre",
    "court": "requête",
    "bailiff": "commissaire de justice",
}


@dataclass(frozen=True)
class Window:
    """The envelope window frame on the first page, in millimetres from the page's top-left
    corner (shared/LEGAL.md §9: 85 × 33 mm, 55 mm from the top, 110 mm from the left,
    DL tri-fold, window on the right)."""

    top: float = 55.0
    left: float = 110.0
    width: float = 85.0
    height: float = 33.0

    @classmethod
    def parse(cls, text: str) -> "Window":
        """``"TOP,LEFT,WIDTH,HEIGHT"`` in mm, e.g. ``"55,110,85,33"``."""
        from dossier.model import parse_window_mm

        try:
            return cls(*parse_window_mm(text))
        except ValueError as e:
            raise DossierError(f"--window: {e}") from None


@dataclass(frozen=True)
class LetterOptions:
    """Settings of one letter run (CLI flags, portfolio or case settings)."""

    #: days given by the mise en demeure (C. civ. 1344: a reasonable deadline; 8 is customary)
    deadline_days: int = 8
    #: None: the case's ``envelope_window``, else the DL default
    window: Window | None = None
    #: draw the window frame and fold marks (to check a user's envelopes)
    overlay: bool = False
    #: registered-letter number printed on LRAR letters (from the La Poste slip)
    lrar_number: str | None = None
    #: échéancier: number of monthly instalments, first due date, yearly interest rate %
    instalments: int = 3
    first_instalment: date | None = None
    plan_rate: Decimal | None = None
    #: échéancier: propose the principal only, penalties waived unless the plan fails
    waive_penalties: bool = False
    #: city in "Lyon, le …" (default: the creditor's)
    place: str | None = None
    #: template folders searched before the shipped ones
    templates: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartyView:
    name: str
    kind: str
    is_company: bool
    legal_form: str | None
    form_line: str | None  # "SARL au capital de 10 000 €"
    siren: str | None  # "732 829 320"
    siret: str | None
    rcs: str | None  # "RCS Lyon 732 829 320"
    vat_number: str | None
    address_lines: tuple[str, ...]
    city: str
    email: str | None
    phone: str | None
    person: str | None  # signatory (creditor) or representative (debtor)
    person_title: str | None
    legal_line: str  # every mention in one line, for footers


@dataclass(frozen=True)
class Claim:
    """What the document claims: the overdue invoices' lines of the décompte."""

    invoices: tuple[InvoiceStatement, ...]
    outstanding: Decimal
    penalties: Decimal
    indemnities: Decimal
    total: Decimal
    #: invoices of the case left out (not yet due, or fully settled)
    left_out: tuple[InvoiceStatement, ...]
    #: the whole décompte is claimed (figures equal ``dossier compute``)
    complete: bool

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(i.number for i in self.invoices)


@dataclass(frozen=True)
class Payment:
    holder: str
    iban: str  # grouped by 4
    iban_compact: str
    bic: str | None
    bank_name: str | None
    link: str | None
    amount: Decimal
    remittance: str
    #: EPC QR code as a PNG data URI (None without IBAN, or a non-euro claim)
    qr_svg: str | None
    #: the same as PNG bytes (emails and DOCX)
    qr_png: bytes | None = field(default=None, repr=False)


def group4(s: str) -> str:
    s = s.replace(" ", "")
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def siren_fmt(s: str | None) -> str | None:
    if not s:
        return None
    s = s.replace(" ", "")
    return f"{s[:3]} {s[3:6]} {s[6:9]}" if len(s) == 9 else s


def _capital(c: Decimal | None) -> str | None:
    if c is None:
        return None
    from dossier import fmt

    s = fmt.money(c)
    return s.replace(",00", "") if c == c.to_integral_value() else s


def party_view(p: Party, role: str) -> PartyView:
    form_line = None
    if p.is_company and p.legal_form:
        cap = _capital(p.capital)
        form_line = f"{p.legal_form} au capital de {cap}" if cap else p.legal_form
    siren = siren_fmt(p.siren)
    rcs = None
    if p.is_company and siren:
        rcs = f"RCS {p.rcs_city} {siren}" if p.rcs_city else f"SIREN {siren}"
    person = p.signatory if role == "creditor" else p.representative
    legal = [x for x in (f"{p.name}", form_line, rcs) if x]
    if p.siret:
        legal.append(f"SIRET {p.siret}")
    if p.vat_number:
        legal.append(f"TVA intracommunautaire {p.vat_number}")
    legal.append(", ".join((*p.address.lines, f"{p.address.postal_code} {p.address.city}")))
    return PartyView(
        name=p.name,
        kind=p.kind,
        is_company=p.is_company,
        legal_form=p.legal_form,
        form_line=form_line,
        siren=siren,
        siret=p.siret,
        rcs=rcs,
        vat_number=p.vat_number,
        address_lines=p.address.as_lines(),
        city=p.address.city,
        email=p.email,
        phone=p.phone,
        person=person.name if person else None,
        person_title=person.title if person else None,
        legal_line=" — ".join(legal),
    )


def recipient_lines(case: Case) -> tuple[str, ...]:
    """The postal block (at most 6 lines, French postal standard NF Z10-011 order)."""
    d = case.debtor
    lines = [d.name if not (d.is_company and d.legal_form) else f"{d.name} ({d.legal_form})"]
    if d.is_company and d.representative:
        who = d.representative.name + (f", {d.representative.title}" if d.representative.title else "")
        lines.append(f"À l'attention de {who}")
    lines.extend(d.address.as_lines())
    return tuple(lines[:6]) if len(lines) <= 6 else tuple(lines[:1] + lines[-5:])


def claim_for(statement: Statement, stage: str, at: date) -> Claim:
    """The invoices a stage claims. The rappel préventif: invoices still owed (due soon or
    later); the other stages: overdue invoices with a balance, and — formal stages — also
    invoices paid late whose penalties or indemnity are still owed."""
    formal = STAGE_INFO[stage].formal or stage == "echeancier"
    if stage == "rappel-preventif":
        chosen = [i for i in statement.invoices if i.outstanding > 0 and i.due_date >= at]
        if not chosen:
            chosen = [i for i in statement.invoices if i.outstanding > 0]
    else:
        chosen = [
            i for i in statement.invoices
            if i.due_date < at and (i.outstanding > 0 or (formal and (i.penalties > 0 or i.indemnity > 0)))
        ]
    if not chosen:
        raise DossierError(
            f"{stage}: nothing to claim on {at.isoformat()}: no invoice is "
            + ("outstanding" if stage == "rappel-preventif" else "overdue with a balance")
        )
    chosen_ids = {id(i) for i in chosen}  # a set: `i not in chosen` compared every pair
    left = tuple(i for i in statement.invoices if id(i) not in chosen_ids)
    outstanding = sum((i.outstanding for i in chosen), ZERO)
    penalties = sum((i.penalties for i in chosen), ZERO)
    indemnities = sum((i.indemnity for i in chosen), ZERO)
    complete = len(chosen) == len(statement.invoices)
    if complete:  # the engine's own totals, so the letter shows exactly `dossier compute`
        outstanding, penalties, indemnities = statement.outstanding, statement.penalties, statement.indemnities
        total = statement.total
    else:
        total = outstanding + penalties + indemnities
    return Claim(tuple(chosen), outstanding, penalties, indemnities, total, left, complete)


def payment_view(case: Case, amount: Decimal, invoices: tuple[str, ...]) -> Payment | None:
    bank = case.creditor.bank
    if bank is None:
        return None
    remittance = " ".join((case.reference, *invoices))
    if len(remittance) > 140:
        remittance = remittance[:137] + "..."
    qr_svg = qr_png = None
    if case.currency == "EUR" and 0 < amount <= EPC_MAX:
        qr_svg, qr_png = epc_qr(case.creditor.name[:70], bank.iban.replace(" ", ""), amount, remittance, bank.bic or None)
    return Payment(
        holder=case.creditor.name,
        iban=group4(bank.iban),
        iban_compact=bank.iban.replace(" ", ""),
        bic=bank.bic,
        bank_name=bank.bank_name,
        link=case.creditor.payment_link,
        amount=amount,
        remittance=remittance,
        qr_svg=qr_svg,
        qr_png=qr_png,
    )


@lru_cache(maxsize=256)
def epc_qr(name: str, iban: str, amount: Decimal, text: str, bic: str | None) -> tuple[str, bytes]:
    """The EPC (SEPA credit transfer) QR code as a PNG data URI and PNG bytes. PNG rather
    than SVG: WeasyPrint draws it much faster (one image instead of a long path); at 10 px
    per module and 30 mm wide it prints at about 380 dpi."""
    import io

    import segno.helpers

    qr = segno.helpers.make_epc_qr(name=name, iban=iban, amount=amount, text=text, bic=bic)
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=10, border=2)
    png = buf.getvalue()
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode("ascii"), png


def subject_for(stage: str, claim: Claim) -> str:
    """"Relance 1er rappel — facture F2026-014" (plural for several invoices)."""
    nums = claim.numbers
    what = ("facture " if len(nums) == 1 else "factures ") + ", ".join(nums)
    return f"{STAGE_INFO[stage].title} — {what}"


def build_context(
    case: Case,
    stage: str,
    at: date,
    statement: Statement,
    *,
    journal_entries: tuple = (),
    options: LetterOptions = LetterOptions(),
) -> dict[str, Any]:
    """The template context of ``stage`` for ``case`` on ``at``."""
    from dossier.law.deadlines import deadline

    if stage not in STAGE_INFO or stage in ("injonction-de-payer", "petites-creances"):
        raise DossierError(f"{stage}: not a letter stage (court stages are built by `dossier bundle`)")
    info = STAGE_INFO[stage]
    claim = claim_for(statement, stage, at)
    notices = tuple(n for n in all_notices(case, journal_entries) if n.date <= at)
    hist: History = history(case, at, notices)
    creditor = party_view(case.creditor, "creditor")
    debtor = party_view(case.debtor, "debtor")
    consumer = not case.debtor.is_company

    schedule: tuple[Instalment, ...] = ()
    plan_balance = None
    if stage == "echeancier":
        plan_balance = claim.outstanding if options.waive_penalties else claim.total
        first = options.first_instalment or _first_instalment(at)
        schedule = compute_schedule(plan_balance, options.instalments, first, yearly_rate=options.plan_rate, start=at)

    pay_amount = claim.total if info.formal else claim.outstanding
    if stage == "echeancier" and schedule:
        pay_amount = schedule[0].amount
    payment = payment_view(case, pay_amount, claim.numbers)

    due_date = deadline(at, options.deadline_days) if stage in ("mise-en-demeure", "dernier-avis") else None
    lrar = stage == "mise-en-demeure"
    promises = [n for n in notices if n.promised_date]
    last_promise = max(promises, key=lambda n: n.date) if promises else None
    previous = tuple(n for n in notices if n.stage != stage)
    attachments = _attachment_titles(case, stage, claim, payment is not None)

    return {
        "stage": stage,
        "stage_title": info.title,
        "formal": info.formal,
        "email_stage": info.email_stage,
        "at": at,
        "place": options.place or case.creditor.address.city,
        "reference": case.reference,
        "subject": subject_for(stage, claim),
        "creditor": creditor,
        "debtor": debtor,
        "consumer": consumer,
        "recipient_lines": recipient_lines(case),
        "salutation": "Madame, Monsieur,",
        "statement": statement,
        "claim": claim,
        "currency": case.currency,
        "history": hist,
        "profile": hist.profile,
        "notices": previous,
        "last_promise": last_promise,
        "channel_fr": CHANNEL_FR,
        "lrar": lrar,
        "lrar_number": options.lrar_number,
        "deadline": due_date,
        "deadline_days": options.deadline_days,
        "deadline_words": _words(options.deadline_days),
        "payment": payment,
        "schedule": schedule,
        "plan_balance": plan_balance,
        "plan_rate": options.plan_rate,
        "waive_penalties": options.waive_penalties,
        "attachments": attachments,
        "window": options.window or (Window(*case.envelope_window) if case.envelope_window else Window()),
        "overlay": options.overlay,
        "petites_creances": petites_creances_open(claim.outstanding, claim.penalties),
        "has_devis": any(e.kind in ("devis", "bon-de-commande", "contrat") for e in case.exhibits),
        "contract_titles": tuple(e.title for e in case.exhibits if e.kind in ("devis", "bon-de-commande", "contrat")),
        "cgv": next((e.title for e in case.exhibits if e.kind == "cgv"), None),
        "contractual_rate": case.terms.penalty_rate,
        "notice_label": notice_label,
    }


def _words(n: int) -> str:
    from num2words import num2words

    return num2words(n, lang="fr")


def _first_instalment(at: date) -> date:
    """Default first due date: the last day of the month after next week (gives the debtor
    time to sign and order the transfer)."""
    from dossier.letters.schedule import add_months

    d = at + timedelta(days=10)
    return add_months(date(d.year, d.month, 1), 1, 1) - timedelta(days=1)


def _attachment_titles(case: Case, stage: str, claim: Claim, has_bank: bool) -> tuple[str, ...]:
    """The "P.J." list of the letter (what the email attaches, or the envelope holds)."""
    out = []
    inv_files = [case.invoice(n) for n in claim.numbers]
    if stage in ("rappel-preventif", "relance-1", "relance-2", "dernier-avis", "mise-en-demeure"):
        with_file = [i.number for i in inv_files if i is not None and i.file is not None]
        if with_file:
            out.append(("Copie de la facture " if len(with_file) == 1 else "Copies des factures ") + ", ".join(with_file))
    if stage in ("relance-1", "mise-en-demeure", "dernier-avis"):
        out.extend(e.title for e in case.exhibits if e.kind in ("devis", "bon-de-commande") and e.file is not None)
    if has_bank and stage != "echeancier":
        out.append("Relevé d'identité bancaire")
    if stage == "mise-en-demeure":
        out.append("Décompte détaillé des sommes dues (en page suivante)")
    return tuple(out)


def notice_label(n: Notice) -> str:
    """"notre courriel du 6 janvier 2026" for a notice."""
    from dossier import fmt

    kind = {"email": "notre courriel", "lrar": "notre lettre recommandée", "letter": "notre courrier",
            "phone": "notre appel téléphonique", "lre": "notre lettre recommandée électronique"}.get(n.channel, "notre relance")
    return f"{kind} du {fmt.date_long(n.date)}"
