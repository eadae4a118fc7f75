"""The case model: small, frozen, explicit.

Every record read from a case file carries a :class:`Source` (file, line, field path) so
that any later problem — a missing rate, an unreadable exhibit — can point back to the
line the user has to fix. Money is :class:`~decimal.Decimal`, dates are :class:`~datetime.date`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

#: ``date`` under a name that a field called ``date`` cannot shadow in annotations
Date = date
from decimal import Decimal
from pathlib import Path

#: Exhibit kinds accepted in ``exhibits[].kind`` (contract with users' case files).
EXHIBIT_KINDS = (
    "devis",
    "bon-de-commande",
    "contrat",
    "cgv",
    "facture",
    "bon-de-livraison",
    "relance",
    "correspondance",
    "autre",
)

#: Stage ids, in escalation order (contract: users know these French names).
STAGES = (
    "rappel-preventif",
    "relance-1",
    "relance-2",
    "echeancier",
    "dernier-avis",
    "mise-en-demeure",
    "injonction-de-payer",
    "petites-creances",
)

#: Legal forms of a natural person trading in their own name.
SOLE_TRADER_FORMS = frozenset({"EI", "EIRL", "ME", "MICRO-ENTREPRISE", "MICRO-ENTREPRENEUR", "AUTO-ENTREPRENEUR"})

#: Channels a notice can have been sent through.
CHANNELS = ("email", "lrar", "letter", "phone", "lre", "hand", "court", "bailiff")


@dataclass(frozen=True)
class Source:
    """Where a record came from: file, 1-based line (if known) and field path."""

    file: str
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}" if self.path else where


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    postal_code: str
    city: str
    country: str = "FR"

    def as_lines(self) -> tuple[str, ...]:
        """Postal lines, French style: street lines, then "69002 LYON", then the country
        if it is not France."""
        out = list(self.lines)
        out.append(f"{self.postal_code} {self.city.upper()}".strip())
        if self.country and self.country.upper() not in ("FR", "FRANCE"):
            out.append(self.country.upper())
        return tuple(out)


@dataclass(frozen=True)
class Person:
    name: str
    title: str | None = None
    #: "Madame" or "Monsieur" (``civility:``), None when not given
    civility: str | None = None


@dataclass(frozen=True)
class Bank:
    iban: str
    bic: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class Party:
    """Creditor or debtor. ``kind`` is ``company`` or ``consumer``."""

    name: str
    address: Address
    kind: str = "company"
    legal_form: str | None = None
    capital: Decimal | None = None
    siren: str | None = None
    siret: str | None = None
    rcs_city: str | None = None
    vat_number: str | None = None
    email: str | None = None
    phone: str | None = None
    signatory: Person | None = None
    representative: Person | None = None
    bank: Bank | None = None
    payment_link: str | None = None
    #: natural persons (a sole trader creditor): identity mentions of CPC art. 54 and 1407
    nationality: str | None = None
    birth_date: date | None = None
    birth_place: str | None = None
    profession: str | None = None
    source: Source | None = field(default=None, compare=False)

    #: "Madame" or "Monsieur" (a natural person: a consumer debtor, a sole trader, a
    #: contact); None for an organisation or when unknown
    civility: str | None = None

    @property
    def is_company(self) -> bool:
        """A legal person: a company, or a public body (``kind: public``)."""
        return self.kind in ("company", "public")

    @property
    def is_sole_trader(self) -> bool:
        """A natural person trading in their own name (entrepreneur individuel, micro-
        entrepreneur): identified as a person (CPC art. 54 3° a), not as a company."""
        form = (self.legal_form or "").upper().replace(".", "").replace(" ", "")
        return self.kind == "company" and form in SOLE_TRADER_FORMS

    @property
    def is_natural_person(self) -> bool:
        """A consumer or a sole trader."""
        return self.kind == "consumer" or self.is_sole_trader

    @property
    def person_name(self) -> str:
        """The natural person's name: a sole trader's signatory (the trader), else ``name``."""
        if self.is_sole_trader and self.signatory:
            return self.signatory.name
        return self.name

    @property
    def is_public(self) -> bool:
        """A public body buying under the Code de la commande publique (R2192-31 ff.)."""
        return self.kind == "public"


@dataclass(frozen=True)
class Terms:
    payment_days: int | None = None
    #: contractual yearly penalty rate in percent; None = legal default (ECB + 10 points)
    penalty_rate: Decimal | None = None
    flat_indemnity: bool = True
    #: also raise the *default* rate (ECB + 10 points) to 3x the legal rate when it is lower;
    #: C. com. L441-10 sets the floor for contractual rates, and common practice applies
    #: ECB + 10 as it is, so this is off by default
    floor_applies_to_default: bool = False
    #: C. civ. 1342-10 / 1343-1: "principal" (default) or "interest-first"
    payment_imputation: str = "principal"
    #: consumer legal interest starts at the mise en demeure's "received" date (default,
    #: when recorded) or its "sent" date
    interest_start: str = "received"
    #: the creditor is a natural person not acting for professional needs (higher legal rate)
    creditor_is_private_person: bool = False
    #: where the contract states the penalty rate, e.g. "article 7" (``penalty_clause:``)
    penalty_clause: str | None = None
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Invoice:
    number: str
    issued: date
    due: date
    amount_incl_tax: Decimal
    amount_excl_tax: Decimal | None = None
    file: Path | None = None
    title: str | None = None
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Payment:
    date: date
    amount: Decimal
    invoice: str | None = None
    reference: str | None = None
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CreditNote:
    number: str
    date: date
    amount: Decimal
    invoice: str | None = None
    file: Path | None = None
    source: Source | None = field(default=None, compare=False)
    #: the credit note cancels its invoice entirely from the invoice's issue (a disputed
    #: invoice, a cancelled order): the invoice was never owed, so it bears no penalty and
    #: no flat indemnity (``cancels: true``)
    cancels: bool = False


@dataclass(frozen=True)
class Judgment:
    """A decision ordering the debtor to pay (``judgment:``): C. mon. fin. L313-3 raises the
    legal interest rate by 5 points from two months after it became enforceable."""

    date: date
    court: str
    enforceable: Date
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OptionalClaims:
    """Claims the user turns on per case (``claims:``), each with its basis in the requête."""

    #: CPC art. 700: an amount for the costs not included in the dépens
    article_700: Decimal | None = None
    #: C. civ. 1343-2: interest due for a whole year bears interest (capitalisation)
    capitalisation: bool = False
    #: C. com. L441-10 II: recovery costs above the 40 EUR flat indemnity, on proof
    additional_indemnity: Decimal | None = None
    additional_indemnity_proof: str | None = None


@dataclass(frozen=True)
class Bailiff:
    """The commissaire de justice (or étude) the petites-créances file is addressed to."""

    name: str
    address: "Address | None" = None
    email: str | None = None


@dataclass(frozen=True)
class Mandate:
    """How far the commissaire de justice may negotiate (petites créances, R125-1 ff.)."""

    max_months: int | None = None
    min_instalment: Decimal | None = None
    waive_penalties: bool = False
    accept_fees: bool = True


@dataclass(frozen=True)
class Exhibit:
    kind: str
    title: str
    file: Path
    date: date | None = None
    password: str | None = None
    source: Source | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Notice:
    stage: str
    date: date
    channel: str
    file: Path | None = None
    lrar_number: str | None = None
    received: Date | None = None
    #: a payment promise recorded after a phone call (relance-2) pauses escalation
    promised_date: Date | None = None
    source: Source | None = field(default=None, compare=False)
    #: the signed avis de réception (scan or PDF): an exhibit of its own in the dossier
    receipt_file: Path | None = None


@dataclass(frozen=True)
class Case:
    """One claim: a creditor, a debtor, invoices, what was paid, the evidence and the
    notices already sent. ``root`` is the case folder; file paths are absolute."""

    reference: str
    root: Path
    creditor: Party
    debtor: Party
    terms: Terms
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    exhibits: tuple[Exhibit, ...] = ()
    notices: tuple[Notice, ...] = ()
    #: name of the competent court if the user knows it (``court:`` key)
    court: str | None = None
    #: optional per-case stage timings in days relative to the due date (``ladder:`` key)
    ladder: tuple[tuple[str, int], ...] = ()
    #: optional per-case templates folder (``templates:`` key)
    templates: Path | None = None
    currency: str = "EUR"
    #: the envelope window of the user's envelopes, mm (top, left, width, height); None: DL default
    envelope_window: tuple[float, float, float, float] | None = None
    #: letter stages the case asks on paper even when the debtor has an email address
    paper: tuple[str, ...] = ()
    #: a decision ordering payment (``judgment:``), for the L313-3 majoration
    judgment: Judgment | None = None
    #: optional claims of the requête (``claims:``)
    claims: OptionalClaims = OptionalClaims()
    #: the commissaire de justice of the petites-créances file (``bailiff:``)
    bailiff: Bailiff | None = None
    #: the petites-créances mandate (``mandate:``)
    mandate: Mandate = Mandate()

    @property
    def case_file(self) -> Path:
        return self.root / "case.yaml"

    @property
    def journal_file(self) -> Path:
        return self.root / "journal.jsonl"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    def invoice(self, number: str) -> Invoice | None:
        return next((i for i in self.invoices if i.number == number), None)

    def notices_of(self, stage: str) -> tuple[Notice, ...]:
        return tuple(n for n in self.notices if n.stage == stage)

    @property
    def mise_en_demeure(self) -> Notice | None:
        """The earliest formal notice recorded in the case file, if any."""
        found = sorted(self.notices_of("mise-en-demeure"), key=lambda n: n.date)
        return found[0] if found else None


def parse_window_mm(text: str) -> tuple[float, float, float, float]:
    """``"TOP,LEFT,WIDTH,HEIGHT"`` in millimetres from an A4 page's top-left corner (e.g.
    ``"55,110,85,33"``, a DL window on the right); ValueError with the expected form."""
    try:
        parts = [float(x.strip().replace(" ", "")) for x in str(text).split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or any(not 0 <= v <= 297 for v in parts) or parts[2] <= 0 or parts[3] <= 0 \
            or parts[0] + parts[3] > 297 or parts[1] + parts[2] > 210:
        raise ValueError(f"{text!r}: expected TOP,LEFT,WIDTH,HEIGHT in mm inside an A4 page, e.g. 55,110,85,33")
    return (parts[0], parts[1], parts[2], parts[3])
