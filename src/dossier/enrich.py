"""Debtor identity from the public company directory of the French administration
(API Recherche d'entreprises, ``GET /search?q=SIREN``): legal name, legal form, registered
office and administrative status (active, or closed — "cessée").

Optional and never required: nothing else depends on the network. Answers are cached under
the portfolio (``cache/sirene/SIREN.json``) and reused; ``DOSSIER_SIRENE_URL`` sets the
base URL (tests serve recorded answers on 127.0.0.1).

What the directory gives is written to the debtor block of the case's ``imported.yaml``
(never to case.yaml): the name, form and office when the case has none, and ``status``
(``active`` or ``closed``). Collective proceedings (sauvegarde, redressement, liquidation
judiciaire) are published in the BODACC, not by this directory: a person records them as
``debtor.status`` in case.yaml, and ``dossier check`` then warns that the claim is to be
declared to the mandataire judiciaire (C. com. L622-24), not chased.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dossier.casefile import CASE_FILE, IMPORTED_FILE
from dossier.imports import normalise_name
from dossier.imports.merge import imported_text
from dossier.journal import write_atomic
from dossier.portfolio import load_portfolio

DEFAULT_URL = "https://recherche-entreprises.api.gouv.fr"
#: the directory allows about 7 requests a second
PAUSE = 0.15
TIMEOUT = 10
#: an answer larger than this is not a directory answer
MAX_ANSWER = 2_000_000
#: catégories juridiques (INSEE) met most often among debtors
LEGAL_FORMS = {
    "1000": "EI", "5410": "SARL", "5422": "SARL", "5498": "EURL", "5499": "SARL", "5505": "SA", "5510": "SA",
    "5599": "SA", "5699": "SA", "5710": "SAS", "5720": "SASU", "5202": "SNC", "5306": "SCS", "6540": "SCI",
    "5385": "SCA", "5460": "SARL", "5485": "SELARL", "5785": "SELAS", "9220": "Association",
}


class DirectoryUnavailable(Exception):
    """Offline, or the directory did not answer: enrichment is skipped, never an error."""


@dataclass(frozen=True)
class Identity:
    siren: str
    name: str | None
    legal_form: str | None
    address_lines: tuple[str, ...]
    postal_code: str | None
    city: str | None
    #: "active" or "closed"
    status: str | None


def identity_from_answer(answer: Any, siren: str) -> Identity | None:
    """The entry for ``siren`` in a /search answer, or None if the answer does not have it."""
    results = answer.get("results") if isinstance(answer, dict) else None
    for r in results or []:
        if not isinstance(r, dict) or str(r.get("siren")) != siren:
            continue
        siege = r.get("siege") if isinstance(r.get("siege"), dict) else {}
        street = " ".join(str(siege.get(k) or "").strip() for k in ("numero_voie", "indice_repetition", "type_voie", "libelle_voie"))
        street = " ".join(street.split())
        lines = tuple(x for x in (str(siege.get("complement_adresse") or "").strip(), street) if x)
        if not lines and siege.get("adresse"):
            lines = (str(siege["adresse"]).split(str(siege.get("code_postal") or "\0"))[0].strip(" ,"),)
        etat = r.get("etat_administratif")
        return Identity(
            siren, r.get("nom_raison_sociale") or r.get("nom_complet"), LEGAL_FORMS.get(str(r.get("nature_juridique") or "")),
            tuple(x[:200] for x in lines if x), siege.get("code_postal"), siege.get("libelle_commune"),
            "active" if etat == "A" else "closed" if etat == "C" else None)
    return None


def fetch(siren: str, cache_dir: Path, *, refresh: bool = False, base_url: str | None = None) -> Any:
    """The directory's answer for ``siren`` (cached). Raises :class:`DirectoryUnavailable`."""
    import urllib.error
    import urllib.request

    if not re.fullmatch(r"\d{9}", siren):
        raise ValueError(siren)
    cached = cache_dir / f"{siren}.json"
    if cached.is_file() and not refresh:
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # a damaged cache entry is fetched again
    base = (base_url or os.environ.get("DOSSIER_SIRENE_URL") or DEFAULT_URL).rstrip("/")
    req = urllib.request.Request(f"{base}/search?q={siren}&page=1&per_page=1",
                                 headers={"Accept": "application/json", "User-Agent": "dossier (debt recovery toolkit)"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - https or the configured URL
            body = resp.read(MAX_ANSWER + 1)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise DirectoryUnavailable(str(getattr(e, "reason", e))) from None
    if len(body) > MAX_ANSWER:
        raise DirectoryUnavailable("answer too large")
    try:
        answer = json.loads(body)
    except ValueError:
        raise DirectoryUnavailable("not a JSON answer") from None
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, cached)
    time.sleep(PAUSE)
    return answer


@dataclass(frozen=True)
class EnrichResult:
    case: str
    siren: str | None
    #: "updated", "unchanged", "not found", "no siren", "offline"
    outcome: str
    notes: tuple[str, ...] = ()


def _case_debtor(folder: Path) -> tuple[dict, dict]:
    """(imported.yaml data, the debtor as the case reads it: imported then case.yaml keys)."""
    import yaml


    def load(p: Path) -> dict:
        try:
            d = yaml.safe_load(p.read_text(encoding="utf-8")) if p.is_file() else {}
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            d = {}
        return d if isinstance(d, dict) else {}

    imported, case = load(folder / IMPORTED_FILE), load(folder / CASE_FILE)
    debtor = dict(imported.get("debtor") or {}) if isinstance(imported.get("debtor"), dict) else {}
    if isinstance(case.get("debtor"), dict):
        debtor.update(case["debtor"])
    return imported, debtor


def enrich_case(folder: Path, cache_dir: Path, *, refresh: bool = False, dry_run: bool = False) -> EnrichResult:
    """Fill or check one case's debtor from the directory."""

    imported, debtor = _case_debtor(folder)
    siren = str(debtor.get("siren") or "").replace(" ", "")
    if not re.fullmatch(r"\d{9}", siren):
        return EnrichResult(folder.name, None, "no siren")
    try:
        ident = identity_from_answer(fetch(siren, cache_dir, refresh=refresh), siren)
    except DirectoryUnavailable as e:
        return EnrichResult(folder.name, siren, "offline", (str(e),))
    if ident is None:
        return EnrichResult(folder.name, siren, "not found", ("the directory does not know this SIREN: check it",))
    notes = []
    new = dict(imported.get("debtor") or {})
    if ident.name and debtor.get("name") and _norm(debtor["name"]) != _norm(ident.name):
        notes.append(f"name in the case: {debtor['name']!r}; in the directory: {ident.name!r}")
    for key, value in (("name", ident.name), ("legal_form", ident.legal_form)):
        if value and not debtor.get(key):
            new[key] = value
    if ident.address_lines and ident.postal_code and ident.city and not debtor.get("address"):
        new["address"] = {"lines": list(ident.address_lines), "postal_code": ident.postal_code, "city": ident.city, "country": "FR"}
    if ident.status and str(debtor.get("status") or "") not in ("sauvegarde", "redressement", "liquidation"):
        new["status"] = ident.status
        new["status_source"] = "annuaire des entreprises (API Recherche d'entreprises)"
    if ident.status == "closed":
        notes.append("the company is closed (cessée): check for a liquidation in the BODACC before any step")
    if new == (imported.get("debtor") or {}):
        return EnrichResult(folder.name, siren, "unchanged", tuple(notes))
    if not dry_run:
        data = dict(imported)
        new.setdefault("kind", "company")
        data["debtor"] = new
        if "invoices" not in data and imported == {}:
            data = {"debtor": new}
        write_atomic(folder / "imported.yaml", imported_text(data).encode("utf-8"))
    return EnrichResult(folder.name, siren, "updated", tuple(notes))


def _norm(name: str) -> str:

    return normalise_name(name)


def enrich_portfolio(path: str | Path, *, refresh: bool = False, dry_run: bool = False) -> list[EnrichResult]:

    pf = load_portfolio(path)
    cache = pf.root / "cache" / "sirene"
    out = []
    offline = False
    for folder in pf.case_dirs():
        if offline:
            out.append(EnrichResult(folder.name, None, "offline"))
            continue
        r = enrich_case(folder, cache, refresh=refresh, dry_run=dry_run)
        offline = r.outcome == "offline"
        out.append(r)
    return out
