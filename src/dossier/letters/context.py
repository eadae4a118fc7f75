"""Everything a letter template needs, computed once: parties, claim, décompte, payment.

Pure: takes the case, the stage, the date, the décompte and the journal's entries; reads
no file. Values stay typed (``Decimal``, ``date``) and templates format them with the
French filters (``money``, ``date_long``, ``rate``, ``words``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dossier.errors import DossierError
from dossier.ladder import History
from dossier.law.courts import petites_creances_open
from dossier.law.statement import InvoiceStatement, Statement
from dossier.stages import CHANNEL_LABELS, CONTRACT, DECOMPTE, INVOICES, RIB, STAGE_INFO

if TYPE_CHECKING:
    from dossier.snapshot import CaseState
from dossier import fmt
from dossier.law.deadlines import deadline
from dossier.letters.schedule import Instalment, add_months, compute_schedule
from dossier.model import Case, Notice, Party, parse_window_mm
from dossier.postal.address import format_address

ZERO = Decimal("0.00")
EPC_MAX = Decimal("999999999.99")

#: channel names in letters (one table for every document)
CHANNEL_FR = CHANNEL_LABELS


@dataclass(frozen=True)
class Window:
    """The envelope window frame on the first page, in millimetres from the page's top-left
    corner (a common French layout: 85 × 33 mm, 55 mm from the top, 110 mm from the left,
    DL tri-fold, window on the right)."""

    top: float = 55.0
    left: float = 110.0
    width: float = 85.0
    height: float = 33.0

    @classmethod
    def parse(cls, text: str) -> "Window":
        """``"TOP,LEFT,WIDTH,HEIGHT"`` in mm, e.g. ``"55,110,85,33"``."""

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

    def __post_init__(self) -> None:
        """Settings outside what a letter can say are bad input (exit 2), named by option."""
        if not 1 <= self.deadline_days <= 90:
            raise DossierError(f"--deadline-days: {self.deadline_days}: expected 1 to 90 days")
        if not 1 <= self.instalments <= 60:
            raise DossierError(f"--instalments: {self.instalments}: expected 1 to 60 instalments")
        if self.plan_rate is not None and not (self.plan_rate.is_finite() and 0 <= self.plan_rate <= 100):
            raise DossierError(f"--plan-rate: {self.plan_rate}: expected a yearly rate from 0 to 100 (%)")
        for option, text in (("--lrar", self.lrar_number), ("place", self.place)):
            if text is not None and (len(text) > 100 or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)):
                raise DossierError(f"{option}: {text[:40]!r}: expected one line of at most 100 visible characters")


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
    """The SIREN in three groups with no-break spaces (:func:`dossier.fmt.siren`)."""

    return fmt.siren(s) if s else None


def _capital(c: Decimal | None) -> str | None:
    if c is None:
        return None

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


#: titles that take the feminine with "Madame" in a salutation ("Madame la Présidente,")
_FEMININE = {"président": "Présidente", "présidente": "Présidente", "gérant": "Gérante", "gérante": "Gérante",
             "directeur": "Directrice", "directrice": "Directrice", "directeur général": "Directrice générale",
             "directrice générale": "Directrice générale"}
_MASCULINE = {"président": "Président", "présidente": "Président", "gérant": "Gérant", "gérante": "Gérant",
              "directeur": "Directeur", "directrice": "Directeur", "directeur général": "Directeur général",
              "directrice générale": "Directeur général"}


def salutation_for(party: Party) -> str:
    """The letter's salutation from the recipient's civility: "Madame,", "Monsieur le
    Président,", or "Madame, Monsieur," when the case file does not say.

    >>> from dossier.model import Address, Person
    >>> a = Address(("1 rue A",), "75001", "Paris")
    >>> salutation_for(Party("X", a, representative=Person("Anne Roche", "Président", "Madame")))
    'Madame la Présidente,'
    >>> salutation_for(Party("Sophie Lefèvre", a, kind="consumer", civility="Madame"))
    'Madame,'
    """
    person = party.representative if party.is_company else None
    civility = person.civility if person else party.civility
    if civility not in ("Madame", "Monsieur"):
        return "Madame, Monsieur,"
    title = (person.title or "").strip().lower() if person else ""
    table = _FEMININE if civility == "Madame" else _MASCULINE
    if title in table:
        return f"{civility} {'la' if civility == 'Madame' else 'le'} {table[title]},"
    return f"{civility},"


def _attention(p) -> str:
    """"À l’attention de Mme Anne Roche, Présidente" (elided: "d’Antoine Dupont")."""

    civ = fmt.civility_short(p.civility)
    who = f"{civ} {p.name}" if civ else p.name
    return f"À l’attention {fmt.of(who)}" + (f", {p.title}" if p.title else "")


def recipient_lines(case: Case) -> tuple[str, ...]:
    """The postal block, AFNOR NF Z10-011 (what `dossier check` validates is what is printed)."""
    return format_address(case.debtor)


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
    """"Relance : 1er rappel — facture F2026-014" (plural for several invoices)."""
    nums = claim.numbers
    what = ("facture " if len(nums) == 1 else "factures ") + ", ".join(nums)
    return f"{STAGE_INFO[stage].title} — {what}".replace("'", "’")


def build_context(state: CaseState, stage: str, *, options: LetterOptions = LetterOptions()) -> dict[str, Any]:
    """The template context of ``stage`` for the case snapshot ``state`` (its date, its
    décompte, its notices from the case file and the journal, its debtor's history)."""

    if stage not in STAGE_INFO or stage in ("injonction-de-payer", "petites-creances"):
        raise DossierError(f"{stage}: not a letter stage (court stages are built by `dossier bundle`)")
    case, at, statement = state.case, state.at, state.require_statement()
    info = STAGE_INFO[stage]
    claim = claim_for(statement, stage, at)
    notices = tuple(n for n in state.notices if n.date <= at)
    hist: History = state.history
    creditor = party_view(case.creditor, "creditor")
    debtor = party_view(case.debtor, "debtor")
    consumer = not case.debtor.is_company

    schedule: tuple[Instalment, ...] = ()
    plan_balance = None
    if stage == "echeancier":
        plan_balance = claim.outstanding if options.waive_penalties else claim.total
        first = options.first_instalment or _first_instalment(at)
        if not at <= first <= at + timedelta(days=366):
            raise DossierError(f"--first-instalment: {first}: a payment plan starts between the letter's date {at} "
                               "and one year after it")
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
    # a second mise en demeure cites the first one (and its receipt), which started interest
    earlier_formal = next((n for n in notices if n.stage == "mise-en-demeure" and n.date < at), None) \
        if stage == "mise-en-demeure" else None
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
        "public": case.debtor.is_public,
        "recipient_lines": recipient_lines(case),
        "salutation": salutation_for(case.debtor),
        "closing_address": salutation_for(case.debtor)[:-1],
        "promise_paid": _paid_since(case, last_promise, at),
        "past_late": _past_late(case, claim, at),
        "received_total": sum((p.amount for p in case.payments if p.date <= at and (p.invoice in claim.numbers or p.invoice is None)), ZERO),
        "statement": statement,
        "claim": claim,
        "currency": case.currency,
        "history": hist,
        "profile": hist.profile,
        "notices": previous,
        "earlier_formal": earlier_formal,
        "interest_from_receipt": case.terms.interest_start == "received",
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


def _paid_since(case: Case, promise: Notice | None, at: date) -> Decimal:
    """What the debtor paid from the day a payment promise was recorded up to ``at``: a
    promise partly kept is not a promise "not received"."""
    if promise is None:
        return ZERO
    return sum((p.amount for p in case.payments if promise.date <= p.date <= at), ZERO)


def _past_late(case: Case, claim: Claim, at: date) -> int:
    """Earlier invoices paid after their due date — not the ones the letter chases."""
    chased = set(claim.numbers)
    n = 0
    for inv in case.invoices:
        if inv.number in chased or inv.due >= at:
            continue
        last = max((p.date for p in case.payments if p.invoice == inv.number and p.date <= at), default=None)
        if last is not None and last > inv.due:
            n += 1
    return n


def _words(n: int) -> str:
    from num2words import num2words

    return num2words(n, lang="fr")


def _first_instalment(at: date) -> date:
    """Default first due date: the last day of the month after next week (gives the debtor
    time to sign and order the transfer)."""

    d = at + timedelta(days=10)
    return add_months(date(d.year, d.month, 1), 1, 1) - timedelta(days=1)


def _attachment_titles(case: Case, stage: str, claim: Claim, has_bank: bool) -> tuple[str, ...]:
    """The "P.J." list of the letter (what the email attaches, or the envelope holds)."""
    out = []
    encloses = STAGE_INFO[stage].encloses
    inv_files = [case.invoice(n) for n in claim.numbers]
    if INVOICES in encloses:
        with_file = [i.number for i in inv_files if i is not None and i.file is not None]
        if with_file:
            out.append(("Copie de la facture " if len(with_file) == 1 else "Copies des factures ") + ", ".join(with_file))
    if CONTRACT in encloses:
        out.extend(e.title for e in case.exhibits if e.kind in ("devis", "bon-de-commande") and e.file is not None)
    if has_bank and RIB in encloses:
        out.append("Relevé d'identité bancaire")
    if DECOMPTE in encloses:
        out.append("Décompte détaillé des sommes dues (en page suivante)")
    return tuple(out)


def notice_label(n: Notice) -> str:
    """"notre courriel du 6 janvier 2026" for a notice."""

    kind = {"email": "notre courriel", "lrar": "notre lettre recommandée", "letter": "notre courrier",
            "phone": "notre appel téléphonique", "lre": "notre lettre recommandée électronique"}.get(n.channel, "notre relance")
    return f"{kind} du {fmt.date_long(n.date)}"
