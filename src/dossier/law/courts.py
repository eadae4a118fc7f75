"""Which court receives the requête en injonction de payer (CPC art. 1405 ff.).

Subject-matter jurisdiction (shared/LEGAL.md §6):

- the **tribunal de commerce** (in some districts, since 1 January 2025, the *tribunal des
  activités économiques*, which takes over its role) when the claim is commercial: both
  parties are traders (commerçants) or commercial companies — and artisans since
  15 May 2022 (C. com. L721-3 as amended);
- the **tribunal judiciaire** otherwise: a consumer or other non-trader debtor, or a
  civil creditor (a liberal profession, a société civile, an association).

Territory (CPC art. 1406): the court of the place where the debtor — or one of them —
lives or has its registered office; this rule is of public policy and a clause saying
otherwise is void.

A case can name the court (``court: Tribunal de commerce de Grenoble``); the name is then
used as given. Otherwise the dossier names the kind of court and the debtor's town, and
says that the exact court must be checked (the annuaire des juridictions on justice.fr
maps a postcode to its courts).

>>> from dossier.model import Party, Address
>>> a = Address(("1 rue A",), "69002", "Lyon")
>>> seller = Party("Atelier Martin", a, legal_form="SARL", rcs_city="Lyon")
>>> buyer = Party("Maison Vercors", Address(("5 place Grenette",), "38000", "Grenoble"), legal_form="SAS")
>>> choose_court(seller, buyer).kind
'tribunal-de-commerce'
>>> choose_court(seller, Party("Sophie Lefèvre", a, kind="consumer")).kind
'tribunal-judiciaire'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from dossier.model import Party

#: CPCE L125-1 and R125-1: the procédure simplifiée de recouvrement des petites créances
#: covers claims of at most 5,000 EUR in principal and interest (flat indemnities excluded).
PETITES_CREANCES_CEILING = Decimal("5000.00")


def petites_creances_open(principal: Decimal, interest: Decimal = Decimal("0")) -> bool:
    """Whether a claim of ``principal`` plus ``interest`` (late penalties or legal
    interest) may go through the procédure simplifiée (CPCE L125-1)."""
    return principal + interest <= PETITES_CREANCES_CEILING

#: Companies commercial by their form whatever their business (C. com. L210-1).
COMMERCIAL_FORMS = frozenset({
    "SA", "SAS", "SASU", "SARL", "EURL", "SNC", "SCS", "SCA", "SE", "SELAS", "SELARL", "SELAFA",
    "SELCA", "SELEURL", "SELASU",
})
#: Forms that are civil whatever they do: the tribunal judiciaire hears claims against them.
CIVIL_FORMS = frozenset({"SCI", "SCP", "SCM", "SC", "ASSOCIATION", "GAEC", "EARL", "GFA", "SCEA", "FONDATION", "COPROPRIETE", "SYNDICAT"})
#: Individual or group forms whose commercial character depends on the activity.
INDIVIDUAL_FORMS = frozenset({"EI", "EIRL", "ME", "MICRO-ENTREPRISE", "MICRO-ENTREPRENEUR", "AUTO-ENTREPRENEUR", "GIE"})

#: The liberal professions' companies (SEL) have a commercial form but a civil object: the
#: case law is divided, so the dossier says to check.
SEL_FORMS = frozenset({"SELAS", "SELARL", "SELAFA", "SELCA", "SELEURL", "SELASU"})

TC = "tribunal-de-commerce"
TJ = "tribunal-judiciaire"


@dataclass(frozen=True)
class CourtChoice:
    """The court for the requête. ``name`` is the court's full name when the case file
    gives it (``court:``), else None; ``label`` is what the documents print in any case.
    ``reasons`` explain the choice in French; ``check`` is a French sentence telling the
    user what to verify (None when the case names the court)."""

    kind: str  # TC or TJ
    town: str
    postal_code: str
    name: str | None
    reasons: tuple[str, ...]
    check: str | None
    certain: bool

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"{self.kind_label} dans le ressort duquel se trouve {self.seat_words} ({self.postal_code} {self.town})"

    @property
    def kind_label(self) -> str:
        return "Tribunal de commerce" if self.kind == TC else "Tribunal judiciaire"

    @property
    def addressee(self) -> str:
        """The opening line of the requête: "Monsieur le Président / Madame la Présidente"."""
        if self.name:
            return f"Madame, Monsieur le Président du {self.name}"
        return (f"Madame, Monsieur le Président du {self.kind_label.lower()} dans le ressort duquel se trouve "
                f"{self.seat_words} ({self.postal_code} {self.town})")

    @property
    def seat_words(self) -> str:
        return "le siège du débiteur" if self._debtor_company else "le domicile du débiteur"

    #: a warning (English) when the court named in the case file is of the other kind
    mismatch: str | None = None
    _debtor_company: bool = True


def _norm(form: str | None) -> str:
    if not form:
        return ""
    s = unicodedata.normalize("NFKD", form).encode("ascii", "ignore").decode().upper()
    s = re.sub(r"[.\s]+", "", s) if len(s) <= 12 else s.strip()
    return s


def trader_status(party: Party) -> tuple[bool | None, str]:
    """Is ``party`` a trader or commercial company? (True, False or None when the case
    file does not tell) with the reason, in French."""
    if party.kind != "company":
        return False, f"{party.name} est un consommateur (particulier)"
    form = _norm(party.legal_form)
    if form in SEL_FORMS:
        return None, f"{party.name} est une société d'exercice libéral ({party.legal_form}) : forme commerciale, objet civil"
    if form in COMMERCIAL_FORMS:
        return True, f"{party.name} est une société commerciale par la forme ({party.legal_form})"
    if form in CIVIL_FORMS or form.startswith("ASSOC"):
        return False, f"{party.name} est une personne morale civile ({party.legal_form})"
    if party.rcs_city:
        return True, f"{party.name} est immatriculé(e) au RCS de {party.rcs_city} (commerçant)"
    if form in INDIVIDUAL_FORMS or not form:
        what = f"({party.legal_form})" if party.legal_form else "(forme non précisée)"
        return None, (f"{party.name} {what} : commerçant ou artisan si son activité est commerciale ou "
                      "artisanale, sinon non commerçant")
    return None, f"{party.name} ({party.legal_form}) : forme non reconnue"


def choose_court(creditor: Party, debtor: Party, named: str | None = None) -> CourtChoice:
    """The court competent for an injonction de payer between ``creditor`` and ``debtor``
    (see the module docstring). ``named`` is the case file's ``court:`` value."""
    c_ok, c_why = trader_status(creditor)
    d_ok, d_why = trader_status(debtor)
    reasons = [c_why, d_why]
    if c_ok is False or d_ok is False:
        kind, certain = TJ, True
        reasons.append("la créance n'est pas commerciale pour les deux parties : tribunal judiciaire")
    elif c_ok and d_ok:
        kind, certain = TC, True
        reasons.append("créance entre commerçants ou sociétés commerciales : tribunal de commerce "
                       "(ou tribunal des activités économiques là où il existe)")
    else:
        kind, certain = TC, False
        reasons.append("le caractère commercial n'est pas établi par le dossier : tribunal de commerce "
                       "retenu par défaut si les deux parties sont commerçantes ou artisans, "
                       "tribunal judiciaire sinon")
    town = debtor.address.city
    reasons.append(f"compétence territoriale : {'siège' if debtor.is_company else 'domicile'} du débiteur à "
                   f"{town} (CPC art. 1406, d'ordre public)")
    mismatch = None
    if named:
        check = None
        low = unicodedata.normalize("NFKD", named).encode("ascii", "ignore").decode().lower()
        says_tj = "judiciaire" in low
        says_tc = "commerce" in low or "activites economiques" in low
        if certain and kind == TC and says_tj and not says_tc:
            mismatch = (f"court: {named!r} is a tribunal judiciaire, but both parties are traders or commercial "
                        "companies: the requête goes to the tribunal de commerce (or tribunal des activités économiques)")
        elif certain and kind == TJ and says_tc and not says_tj:
            mismatch = (f"court: {named!r} is a commercial court, but the claim is not commercial for both parties "
                        "(consumer or civil party): the requête goes to the tribunal judiciaire")
    else:
        kind_words = "tribunal de commerce (ou tribunal des activités économiques)" if kind == TC else "tribunal judiciaire"
        check = (f"Le {kind_words} compétent pour le code postal "
                 f"{debtor.address.postal_code} ({town}) — annuaire des juridictions sur justice.fr ; "
                 "indiquez-le avec la clé « court: » du dossier.")
        if not certain:
            check += " Vérifiez aussi la qualité de commerçant ou d'artisan des parties."
    return CourtChoice(kind, town, debtor.address.postal_code, named, tuple(reasons), check, certain,
                       mismatch=mismatch, _debtor_company=debtor.is_company)


def court_for_case(case) -> CourtChoice:
    """:func:`choose_court` for a :class:`~dossier.model.Case`."""
    return choose_court(case.creditor, case.debtor, case.court)
