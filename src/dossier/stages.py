"""The stages of the recovery ladder and the channels of a notice: one table, the one home
of each stage's names, timing, channels and what its letter encloses.

Used by the ladder (timings, channels), the letters (subject, enclosures, email
attachments) and the dossier (how a notice is named in the bordereau).
"""

from __future__ import annotations

from dataclasses import dataclass

from dossier.model import CHANNELS, STAGES

#: ``ladder:`` key of a case or portfolio setting the catching-up delay in days (a claim
#: found late skips the reminders whose moment passed longer ago than that)
CATCH_UP_KEY = "catch_up_after"

#: what a letter may enclose (its "P.J." list and its email's attachments)
INVOICES = "invoices"  # copies of the invoices chased
CONTRACT = "contract"  # the signed quote or purchase order
RIB = "rib"  # the creditor's bank details
DECOMPTE = "decompte"  # the detailed décompte, as a page of the letter


@dataclass(frozen=True)
class StageInfo:
    id: str
    #: French name used in subjects and documents
    title: str
    #: how a notice of this stage is named among the exhibits of a dossier
    exhibit_title: str
    #: default timing in days after the due date (None: relative to the previous stage)
    offset: int | None
    #: channels, primary first
    channels: tuple[str, ...]
    #: formal stages: no softening, always "vous", penalties claimed in full
    formal: bool
    #: the stage is delivered as an email (the PDF is its printable version)
    email_stage: bool
    #: what the letter encloses (INVOICES, CONTRACT, RIB, DECOMPTE)
    encloses: frozenset[str] = frozenset()


STAGE_INFO: dict[str, StageInfo] = {
    s.id: s
    for s in (
        StageInfo("rappel-preventif", "Rappel d'échéance", "Rappel avant échéance", -5, ("email",), False, True,
                  frozenset({INVOICES, RIB})),
        StageInfo("relance-1", "Relance\u00a0: 1er rappel", "Relance (1er rappel)", 1, ("email",), False, True,
                  frozenset({INVOICES, CONTRACT, RIB})),
        StageInfo("relance-2", "2e relance", "Deuxième relance", 7, ("email", "phone"), False, True,
                  frozenset({INVOICES, RIB})),
        StageInfo("echeancier", "Proposition d'échéancier de paiement", "Proposition d'échéancier", 14,
                  ("email", "letter"), False, False),
        StageInfo("dernier-avis", "Dernier avis avant mise en demeure", "Dernier avis avant mise en demeure", 30,
                  ("email", "letter"), True, True, frozenset({INVOICES, CONTRACT, RIB})),
        StageInfo("mise-en-demeure", "Mise en demeure de payer", "Mise en demeure", None, ("lrar", "email"), True, False,
                  frozenset({INVOICES, CONTRACT, RIB, DECOMPTE})),
        StageInfo("injonction-de-payer", "Requête en injonction de payer", "Requête en injonction de payer", None,
                  ("court",), True, False),
        StageInfo("petites-creances", "Procédure simplifiée de recouvrement des petites créances",
                  "Procédure simplifiée de recouvrement", None, ("bailiff",), True, False),
    )
}
assert tuple(STAGE_INFO) == STAGES

#: the stages whose document is a letter (the court stages are documents of the dossier)
LETTER_STAGES = STAGES[:6]

#: how each channel is named in French documents ("par lettre recommandée avec accusé de
#: réception", "Mise en demeure du … (courriel)")
CHANNEL_LABELS: dict[str, str] = {
    "email": "courriel",
    "lrar": "lettre recommandée avec accusé de réception",
    "letter": "lettre simple",
    "phone": "appel téléphonique",
    "lre": "lettre recommandée électronique",
    "hand": "remise en main propre",
    "court": "greffe",
    "bailiff": "commissaire de justice",
}
assert set(CHANNEL_LABELS) == set(CHANNELS)
