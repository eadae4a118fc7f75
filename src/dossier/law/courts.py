"""Which court receives the requête en injonction de payer (CPC art. 1405 ff.).

Subject-matter jurisdiction (C. com. L721-3; COJ L211-3):

- the **tribunal de commerce** (in some districts, since 1 January 2025, the *tribunal des
  activités économiques*, which takes over its role) when the claim is commercial: both
  parties are traders (commerçants) or commercial companies — and artisans since
  15 May 2022 (C. com. L721-3 as amended);
- the **tribunal judiciaire** otherwise: a consumer or other non-trader debtor, or a
  civil creditor (a liberal profession, a société civile, an association).

Territory (CPC art. 1406): the court of the place where the debtor — or one of them —
lives or has its registered office; this rule is of public policy and a clause saying
otherwise is void.

A requête that does not name its court is void (CPC art. 54 1° and 57). The court is, in
this order: the case file's ``court:`` (used as given, except that a tribunal de commerce
that sits as a *tribunal des activités économiques* on the date is given that name); the
only court of the right kind in the debtor's département (``courts_table.csv``: Code de
commerce annexe 7-1, Code de l'organisation judiciaire annexes); the court of that kind
sitting in the debtor's own commune (a court's ressort includes its seat). Otherwise
:func:`require_named_court` stops with the list of the département's courts and the key
to set.

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

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from dossier.errors import DossierError
from dossier.model import SOLE_TRADER_FORMS, Party

COURTS_TABLE = Path(__file__).resolve().parent / "courts_table.csv"
#: Alsace-Moselle: no tribunal de commerce, the chambre commerciale of the tribunal judiciaire
ALSACE_MOSELLE = frozenset({"57", "67", "68"})
#: the cour d'appel of each département (C. org. jud. annexes), for the petites créances
APPEAL_COURTS = {
    "Agen": "32 46 47", "Aix-en-Provence": "04 06 13 83", "Amiens": "02 60 80", "Angers": "49 53 72",
    "Basse-Terre": "971", "Bastia": "2A 2B", "Besançon": "25 39 70 90", "Bordeaux": "16 24 33",
    "Bourges": "18 36 58", "Caen": "14 50 61", "Cayenne": "973", "Chambéry": "73 74", "Colmar": "67 68",
    "Dijon": "21 52 71", "Douai": "59 62", "Fort-de-France": "972", "Grenoble": "05 26 38",
    "Limoges": "19 23 87", "Lyon": "01 42 69", "Metz": "57", "Montpellier": "11 12 34 66",
    "Nancy": "54 55 88", "Nîmes": "07 30 48 84", "Orléans": "37 41 45", "Paris": "75 77 89 91 93 94",
    "Pau": "40 64 65", "Poitiers": "17 79 85 86", "Reims": "08 10 51", "Rennes": "22 29 35 44 56",
    "Riom": "03 15 43 63", "Rouen": "27 76", "Saint-Denis (La Réunion)": "974 976", "Toulouse": "09 31 81 82",
    "Versailles": "28 78 92 95",
}


@dataclass(frozen=True)
class CourtRow:
    kind: str  # "tj" or "tc"
    departement: str
    name: str
    seats: tuple[str, ...]
    tae_from: date | None = None
    tae_until: date | None = None

    def name_on(self, at: date) -> str:
        """The court's name on ``at``: a tribunal de commerce of the experiment sits as a
        tribunal des activités économiques from 1 January 2025 to 31 December 2028."""
        if self.tae_from and self.tae_until and self.tae_from <= at <= self.tae_until:
            return self.name.replace("Tribunal de commerce", "Tribunal des activités économiques")
        return self.name


@lru_cache(maxsize=1)
def courts_table() -> tuple[CourtRow, ...]:
    """The shipped table of tribunaux judiciaires and de commerce (see its header)."""
    rows = []
    with open(COURTS_TABLE, encoding="utf-8") as f:
        for rec in csv.DictReader(line for line in f if not line.startswith("#")):
            tae = rec["tae"].split("/") if rec["tae"] else None
            rows.append(CourtRow(rec["kind"], rec["departement"], rec["name"], tuple(rec["seat"].split("/")),
                                 date.fromisoformat(tae[0]) if tae else None, date.fromisoformat(tae[1]) if tae else None))
    return tuple(rows)


def departement_of(postal_code: str) -> str | None:
    """The département of a French postal code: its first two digits, three overseas
    (971-976), 2A/2B in Corsica (20000-20199 / 20200-20699). A few communes have a postal
    code of a neighbouring département: a named ``court:`` settles those.

    >>> departement_of("38000"), departement_of("20090"), departement_of("97400")
    ('38', '2A', '974')
    """
    pc = (postal_code or "").strip()
    if not re.fullmatch(r"\d{5}", pc):
        return None
    if pc.startswith("97"):
        return pc[:3]
    if pc.startswith("20"):
        return "2A" if int(pc[2:]) < 200 else "2B"
    return pc[:2]


def appeal_court(postal_code: str) -> str | None:
    """"Cour d'appel de Grenoble" for a postal code of the Isère, None if unknown."""
    dep = departement_of(postal_code)
    for seat, deps in APPEAL_COURTS.items():
        if dep in deps.split():
            vowel = _fold(seat[0]) in "aeiouy"
            return f"Cour d’appel {'d’' if vowel else 'de '}{seat}"
    return None


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"\bst\b", "saint", s)
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def candidates(kind: str, postal_code: str, at: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names of the courts of ``kind`` in the département of ``postal_code`` on ``at``,
    their seats), TC or TJ; in Alsace-Moselle a TC claim goes to the chambre commerciale of
    the tribunal judiciaire."""
    dep = departement_of(postal_code)
    table_kind = "tj" if kind == TJ or dep in ALSACE_MOSELLE else "tc"
    rows = [r for r in courts_table() if r.departement == dep and r.kind == table_kind]
    names = tuple(r.name_on(at) + (" (chambre commerciale)" if kind == TC and dep in ALSACE_MOSELLE else "")
                  for r in rows)
    return names, tuple("/".join(r.seats) for r in rows)


def tae_name(named: str, at: date) -> str:
    """A court named ``Tribunal de commerce de Paris`` in the case file is, on a date of the
    experiment, the ``Tribunal des activités économiques de Paris``."""
    folded = _fold(named)
    for r in courts_table():
        if r.kind == "tc" and _fold(r.name) == folded:
            return r.name_on(at)
    return named

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
INDIVIDUAL_FORMS = SOLE_TRADER_FORMS | {"GIE"}

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
    def in_text(self) -> str | None:
        """The court's name inside a sentence: "tribunal de commerce de Grenoble"."""
        if not self.name:
            return None
        name = self.name.replace("'", "’")
        return name[0].lower() + name[1:] if name.startswith("Tribunal") else name

    @property
    def addressee(self) -> str:
        """The opening line of the requête: "Madame la Présidente, Monsieur le Président"."""
        if self.name:
            return f"À Madame la Présidente ou Monsieur le Président du {self.in_text}"
        return (f"Madame, Monsieur le Président du {self.kind_label.lower()} dans le ressort duquel se trouve "
                f"{self.seat_words} ({self.postal_code} {self.town})")

    @property
    def seat_words(self) -> str:
        return "le siège du débiteur" if self._debtor_company else "le domicile du débiteur"

    #: a warning (English) when the court named in the case file is of the other kind
    mismatch: str | None = None
    _debtor_company: bool = True
    #: when the court could not be named: the courts of the département to choose from
    options: tuple[str, ...] = ()
    #: the département of the debtor's postal code
    departement: str | None = None


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


def choose_court(creditor: Party, debtor: Party, named: str | None = None, at: date | None = None) -> CourtChoice:
    """The court competent for an injonction de payer between ``creditor`` and ``debtor``
    (see the module docstring). ``named`` is the case file's ``court:`` value; ``at`` the
    date of the requête (the name of a tribunal des activités économiques depends on it)."""
    at = at or date.today()
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
    options: tuple[str, ...] = ()
    if not named:
        options, seats = candidates(kind, debtor.address.postal_code, at)
        if len(options) == 1:
            named = options[0]
            reasons.append(f"seul {kind_word(kind)} du département {departement_of(debtor.address.postal_code)} : {named}")
        else:
            here = [n for n, s in zip(options, seats, strict=True) if _fold(town) in {_fold(x) for x in s.split("/")}]
            if len(here) == 1:
                named = here[0]
                reasons.append(f"{named} : siège dans la commune du débiteur ({town})")
        if named:
            options = ()
    else:
        named = tae_name(named, at)
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
                       mismatch=mismatch, _debtor_company=debtor.is_company, options=options,
                       departement=departement_of(debtor.address.postal_code))


def kind_word(kind: str) -> str:
    return "tribunal de commerce" if kind == TC else "tribunal judiciaire"


def court_for_case(case, at: date | None = None) -> CourtChoice:
    """:func:`choose_court` for a :class:`~dossier.model.Case`."""
    return choose_court(case.creditor, case.debtor, case.court, at)


def public_body_route(case) -> str | None:
    """Why no injonction de payer (nor petites créances) lies against a public body, and the
    route instead (French), or None for another debtor."""
    if not case.debtor.is_public:
        return None
    return ("le débiteur est une personne publique : pas d'injonction de payer ni de procédure simplifiée "
            "contre elle (les biens publics sont insaisissables). Adressez une demande de paiement des "
            "sommes et des intérêts moratoires (Code de la commande publique, art. R2192-31 et suivants) à "
            "l'ordonnateur et au comptable public ; à défaut, saisissez le juge administratif en "
            "référé-provision (code de justice administrative, art. R541-1).")


def require_named_court(case, choice: CourtChoice) -> None:
    """Stop (:class:`DossierError`) when the requête could not name its court: the list of
    the département's courts to choose from and the key to set (CPC art. 54 1° and 57)."""
    route = public_body_route(case)
    if route:
        raise DossierError(f"{case.case_file}: debtor.kind: {route}")
    if choice.name:
        return
    if choice.options:
        listed = "".join(f"\n  - {n}" for n in choice.options)
        raise DossierError(
            f"{case.case_file}: court: the requête must name its court (CPC art. 54 1° and 57). The "
            f"département {choice.departement} has several courts of the right kind "
            f"({kind_word(choice.kind)}); the one whose ressort includes {choice.postal_code} "
            f"{choice.town} (annuaire des juridictions, justice.fr) is one of:{listed}\n"
            f"Set it with the `court:` key of case.yaml, e.g. court: \"{choice.options[0]}\""
        )
    raise DossierError(
        f"{case.case_file}: court: the requête must name its court (CPC art. 54 1° and 57) and no "
        f"{kind_word(choice.kind)} is known for the postal code {choice.postal_code!r}: set `court:` in "
        "case.yaml (annuaire des juridictions, justice.fr)."
    )
