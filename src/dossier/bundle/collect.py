"""Which exhibits a dossier produces, in which order, under which number.

The order follows the way a judge reads a claim (and the usual order of a bordereau de
pièces): first the contract (quote, purchase order, contract, terms of sale), then its
performance (delivery notes), then the invoices and credit notes, then the amicable steps
(reminders, correspondence, the mise en demeure — from ``notices:`` and from the journal's
"sent" entries), other documents, and last the proofs of receipt. Within a group: by date,
then in the order of the case file. A file cited twice (an invoice also listed under
``exhibits:``, a notice both in the case file and in the journal) is produced once.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Iterable, Iterator

from dossier.bundle.exhibits import ExhibitSpec
from dossier.fmt import date_long
from dossier.model import Case
from dossier.stages import CHANNEL_LABELS, STAGE_INFO

#: group of each exhibit kind (lower first)
GROUPS = {
    "devis": 0,
    "bon-de-commande": 0,
    "contrat": 0,
    "cgv": 0,
    "bon-de-livraison": 1,
    "facture": 2,
    "avoir": 2,
    "relance": 3,
    "correspondance": 3,
    "notice": 3,
    "autre": 4,
    "accuse-de-reception": 5,
}
#: headings of the groups in the bordereau
GROUP_TITLES = (
    "Documents contractuels",
    "Exécution et livraison",
    "Factures et avoirs",
    "Relances, correspondance et mise en demeure",
    "Autres pièces",
    "Preuves de réception",
)
#: tie-break inside the contractual group when dates are equal
KIND_RANK = {"contrat": 0, "devis": 1, "bon-de-commande": 2, "cgv": 3}

_RECEIPT = re.compile(r"\b(avis|accus[ée]) de r[ée]ception\b|\bAR\b|\bLRAR\b.*\bpreuve\b", re.I)

#: stages that are not notices to the debtor (a filed dossier is not an exhibit of the next)
COURT_STAGES = ("injonction-de-payer", "petites-creances")

#: French names of the stages, for the titles of notices
def notice_title(stage: str, when: date, channel: str, lrar_number: str | None = None) -> str:

    info = STAGE_INFO.get(stage)
    title = f"{info.exhibit_title if info else stage} du {date_long(when)}"
    how = CHANNEL_LABELS.get(channel, channel)
    if lrar_number:
        how = f"{how} n° {lrar_number}"
    return f"{title} ({how})"


def collect_exhibits(case: Case, journal_entries: Iterable = ()) -> list[ExhibitSpec]:
    """The exhibits of ``case`` in dossier order (numbered 1.. in that order)."""
    found: list[tuple[tuple, ExhibitSpec]] = []
    seen: dict[Path, int] = {}

    def add(spec: ExhibitSpec, group: int, rank: int, order: int) -> None:
        key = _key(spec.file)
        if key in seen:
            # the more specific description wins (an `exhibits:` entry over an invoice)
            i = seen[key]
            old_sort, old = found[i]
            if spec.origin == "exhibit" and old.origin != "exhibit":
                found[i] = (old_sort, replace(spec, group=old.group))
            elif old.sha256 is None and spec.sha256:
                found[i] = (old_sort, replace(old, sha256=spec.sha256))
            return
        # contractual documents in their logical order (contract, quote, order, terms),
        # everything else chronologically
        sort = (group, rank, spec.date or date.max, order) if group == 0 else (group, spec.date or date.max, rank, order)
        seen[key] = len(found)
        found.append((sort, replace(spec, group=group)))

    for order, (spec, group, rank) in enumerate(_candidates(case, journal_entries), start=1):
        add(spec, group, rank, order)
    found.sort(key=lambda t: t[0])
    return [spec for _, spec in found]


def _candidates(case: Case, journal_entries: Iterable) -> Iterator[tuple[ExhibitSpec, int, int]]:
    """Every exhibit the case cites, as (spec, legal-order group, rank), in case-file order:
    the ``exhibits:`` entries, the invoices, the credit notes, the notices and their
    receipts, then the journal's sent notices."""
    yield from _listed_exhibits(case)
    yield from _accounting_documents(case)
    yield from _notice_exhibits(case)
    yield from _journal_exhibits(case, journal_entries)


def _listed_exhibits(case: Case) -> Iterator[tuple[ExhibitSpec, int, int]]:
    for i, ex in enumerate(case.exhibits):
        group = GROUPS.get(ex.kind, 4)
        if ex.kind == "autre" and _RECEIPT.search(ex.title or ""):
            group = GROUPS["accuse-de-reception"]
        yield (ExhibitSpec(ex.kind, ex.title, Path(ex.file), _field(ex, f"exhibits[{i}]") + ".file",
                           ex.date, ex.password, "exhibit", location=_location(ex)),
               group, KIND_RANK.get(ex.kind, 9))


def _accounting_documents(case: Case) -> Iterator[tuple[ExhibitSpec, int, int]]:

    for i, inv in enumerate(case.invoices):
        if inv.file is None:
            continue
        title = f"Facture n° {inv.number} du {date_long(inv.issued)}"
        if inv.title:
            title += f" — {inv.title}"
        yield (ExhibitSpec("facture", title, Path(inv.file), _field(inv, f"invoices[{i}]") + ".file",
                           inv.issued, None, "invoice", location=_location(inv)), GROUPS["facture"], 0)
    for i, cn in enumerate(case.credit_notes):
        if cn.file is None:
            continue
        title = f"Avoir n° {cn.number} du {date_long(cn.date)}"
        if cn.invoice:
            title += f" (sur la facture n° {cn.invoice})"
        yield (ExhibitSpec("avoir", title, Path(cn.file), _field(cn, f"credit_notes[{i}]") + ".file",
                           cn.date, None, "credit_note", location=_location(cn)), GROUPS["avoir"], 1)


def _notice_exhibits(case: Case) -> Iterator[tuple[ExhibitSpec, int, int]]:

    for i, no in enumerate(case.notices):
        if no.file is not None:
            yield (ExhibitSpec("notice", notice_title(no.stage, no.date, no.channel, no.lrar_number), Path(no.file),
                               _field(no, f"notices[{i}]") + ".file", no.date, None, "notice", location=_location(no)),
                   GROUPS["notice"], 0)
        if no.receipt_file is not None:  # the signed avis de réception: among the proofs of receipt
            title = f"Avis de réception — {notice_title(no.stage, no.date, no.channel, no.lrar_number)}"
            if no.received:
                title += f", signé le {date_long(no.received)}"
            yield (ExhibitSpec("accuse-de-reception", title, Path(no.receipt_file),
                               _field(no, f"notices[{i}]") + ".receipt_file", no.received or no.date, None, "receipt",
                               location=_location(no)),
                   GROUPS["accuse-de-reception"], 0)


def _journal_exhibits(case: Case, journal_entries: Iterable) -> Iterator[tuple[ExhibitSpec, int, int]]:
    for entry in journal_entries:
        if entry.status != "sent" or entry.stage in COURT_STAGES:
            continue
        chosen = entry.evidence_file()
        if chosen is None:
            continue
        where = f"journal.jsonl:{entry.line}" if entry.line else "journal.jsonl"
        yield (ExhibitSpec("notice", notice_title(entry.stage, entry.date, entry.channel, entry.lrar_number),
                           case.root / chosen.path, f"files[{list(entry.files).index(chosen)}].path", entry.date, None,
                           "journal", chosen.sha256, location=where),
               GROUPS["notice"], 0)


def _field(record, default: str) -> str:
    src = getattr(record, "source", None)
    path = getattr(src, "path", "") if src is not None else ""
    return path or default


def _location(record) -> str:
    src = getattr(record, "source", None)
    if src is None or not getattr(src, "file", None):
        return ""
    name = Path(src.file).name
    return f"{name}:{src.line}" if src.line else name


def _key(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(path)
