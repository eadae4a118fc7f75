"""The dossier's layout: which page each section and exhibit starts on, and the front
matter — cover, requête or cover letter, bordereau, table of contents.

- **Cover and application** (:func:`render_head`) are typeset with WeasyPrint from the
  ``templates/dossiers/`` templates and the letters' vendored fonts. They cite exhibit
  numbers, never pages, so they are laid out from the list of exhibits alone, before any
  evidence file is read — :mod:`dossier.bundle.assemble` runs this in a background process
  while the evidence is loaded and stamped.
- **Bordereau and table of contents** (:func:`index_pages`) print page numbers that
  depend on their own length. They are drawn directly (:mod:`dossier.bundle.tables`),
  laid out with an estimate of their length and again until that length no longer changes
  (one or two passes of a few milliseconds). A user who overrides
  ``dossiers/bordereau.html`` or ``dossiers/toc.html``, or a text outside WinAnsi (a name
  in Polish or Greek), gets them typeset by WeasyPrint with the same loop.

Links to dossier pages in the templates are written ``<a href="{{ link(N) }}">``
(``LINK_PREFIX`` + N); :mod:`dossier.bundle.assemble` turns them into ``/Dest`` links.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from dossier.bundle import tables
from dossier.bundle.collect import COURT_STAGES, GROUP_TITLES, notice_title
from dossier.errors import DossierError, TemplateError
from dossier.fmt import civility_short, money, rate
from dossier.law.courts import PETITES_CREANCES_CEILING, appeal_court
from dossier.model import Case
from dossier.render.pdf import PdfMeta, confined_fetcher, font_configuration, font_face_css, html_to_pdf, import_weasyprint
from dossier.render.templates import SHIPPED_DIR, render

#: CPCE L125-1 / R125-1: the procédure simplifiée is open up to 5,000 EUR in principal and
#: interest.


LINK_PREFIX = "https://dossier.invalid/page/"


KIND_LABELS = {
    "devis": "Devis",
    "bon-de-commande": "Bon de commande",
    "contrat": "Contrat",
    "cgv": "Conditions générales de vente",
    "facture": "Facture",
    "avoir": "Avoir",
    "bon-de-livraison": "Bon de livraison",
    "relance": "Relance",
    "correspondance": "Correspondance",
    "notice": "Relance / mise en demeure",
    "autre": "Autre pièce",
    "accuse-de-reception": "Avis de réception",
}


@dataclass(frozen=True)
class BundleExhibit:
    """An exhibit as produced in the dossier: its number, where it starts (1-based PDF
    page number) and how many pages it has."""

    number: int
    title: str
    kind: str
    date: date | None
    file: Path
    field: str
    first_page: int
    pages: int
    format: str
    group: int = 4

    @property
    def last_page(self) -> int:
        return self.first_page + self.pages - 1


@dataclass(frozen=True)
class Section:
    title: str
    first_page: int
    pages: int


def head_exhibits(specs) -> list[BundleExhibit]:
    """The exhibits as the cover and the application see them: numbered, titled and dated,
    before their files are read (no pages yet: ``first_page`` and ``pages`` are 0)."""
    return [BundleExhibit(i, s.title, s.kind, s.date, s.file, s.field, 0, 0, "", s.group)
            for i, s in enumerate(specs, start=1)]


def render_head(case, at, statement, court, purpose, specs, meta) -> tuple[bytes, int, int]:
    """The cover and the requête (court) or cover letter (bailiff) as one PDF, typeset by
    WeasyPrint; returns (PDF bytes, cover pages, application pages)."""
    app = "dossiers/requete.html" if purpose == "court" else "dossiers/petites-creances.html"
    ctx = context(case, at, statement, court, purpose, [], head_exhibits(specs), 0)
    doc = _layout_html(case, dict(ctx, front_sections=["dossiers/cover.html", app]))
    n_cover, n_app = _section_pages(doc, ("section-cover", "section-application"))
    return _write_front(doc, meta), n_cover, n_app


def index_pages(case, at, statement, court, purpose, loaded, n_cover, n_app, duplex):
    """Lay out the bordereau and the table of contents after a cover of ``n_cover`` and an
    application of ``n_app`` pages; returns (sections, exhibits, total pages, blank pages,
    pages) where pages are :class:`~dossier.bundle.tables.DrawnPage` objects, or pypdf
    pages from WeasyPrint when the user overrides the templates or a text is outside
    WinAnsi."""

    html = _overridden(case, ("dossiers/bordereau.html", "dossiers/toc.html"))
    n_bord, n_toc = _guess_counts(loaded)
    for _ in range(6):
        sections, exhibits, total, blanks = layout(loaded, n_cover, n_app, n_bord, n_toc, purpose, duplex)
        ctx = context(case, at, statement, court, purpose, sections, exhibits, total)
        html = html or not tables.can_draw(ctx)  # (the same on every pass: texts, not page numbers)
        if html:
            doc = _layout_html(case, dict(ctx, front_sections=["dossiers/bordereau.html", "dossiers/toc.html"]))
            counts = _section_pages(doc, ("section-bordereau", "section-toc"))
        else:
            bord, toc = tables.bordereau(ctx), tables.toc(ctx)
            counts = (len(bord), len(toc))
        if counts == (n_bord, n_toc):
            break
        n_bord, n_toc = counts
    else:  # pragma: no cover - would need a layout that oscillates
        raise DossierError("the bordereau and table of contents could not be laid out stably")
    if html:
        import io

        from pypdf import PdfReader

        pages = list(PdfReader(io.BytesIO(_write_front(doc, metadata(case, at, statement, purpose)))).pages)
    else:
        pages = bord + toc
    return sections, exhibits, total, blanks, pages


def _overridden(case: Case, names: tuple[str, ...]) -> bool:
    """Whether the case's templates folder overrides one of ``names``."""
    return bool(case.templates) and any((Path(case.templates) / n).is_file() for n in names)


def _section_pages(doc, ids: tuple[str, ...]) -> tuple[int, ...]:
    """Pages of each section of a laid-out WeasyPrint document, from the page where each
    section's id is anchored."""
    starts: dict[str, int] = {}
    for i, page in enumerate(doc.pages):
        for anchor in page.anchors:
            if anchor in ids:
                starts.setdefault(anchor, i)
    missing = [x for x in ids if x not in starts]
    if missing:
        raise TemplateError(
            "dossier templates: no element with id " + ", ".join(missing)
            + " — an overridden dossiers/*.html template must keep its section's id"
        )
    firsts = [starts[x] for x in ids] + [len(doc.pages)]
    return tuple(max(1, firsts[i + 1] - firsts[i]) for i in range(len(ids)))


def _guess_counts(loaded) -> tuple[int, int]:
    """Estimated pages of the bordereau and the table of contents (rows of one or two
    lines; the layout loop corrects a wrong estimate)."""
    lines = sum(1 + len(ex.spec.title) // 75 for ex in loaded)
    return 1 + (lines + 2) // 38, 1 + (lines + 6) // 40


_weasy_lock = threading.Lock()


_weasy_css: list = []


def _layout_html(case: Case, ctx: dict):
    """Render ``dossiers/front.html`` and lay it out (no PDF yet): a WeasyPrint Document
    with the vendored fonts of :mod:`dossier.render.pdf` and its shared FontConfiguration."""

    import_weasyprint()
    from weasyprint import CSS, HTML


    html = render("dossiers/front.html", ctx, [case.templates] if case.templates else ())
    fc = font_configuration()
    with _weasy_lock:
        if not _weasy_css:
            _weasy_css.append(CSS(string=font_face_css(), font_config=fc))
    try:
        base = str(SHIPPED_DIR / "dossiers") + "/"
        return HTML(string=html, base_url=base, url_fetcher=confined_fetcher(base)).render(
            font_config=fc, stylesheets=_weasy_css)
    except Exception as e:  # WeasyPrint raises assorted errors on broken input
        raise TemplateError(f"dossiers/front.html: cannot lay out the front matter: {e}") from e


def _write_front(doc, meta) -> bytes:
    """A laid-out WeasyPrint document as PDF (fonts subset once). Its metadata are not
    used: the dossier has its own."""
    doc.metadata.title = meta.title
    doc.metadata.created = doc.metadata.modified = meta.w3c_date
    return doc.write_pdf()


def layout(loaded, n_cover, n_app, n_bord, n_toc, purpose, duplex=False):
    """Sections and exhibits with their first page, the total, and the blank pages added
    for duplex printing (each section and exhibit then starts on a right-hand page)."""
    titles = (
        "Page de garde",
        "Requête en injonction de payer" if purpose == "court" else "Lettre au commissaire de justice",
        "Bordereau des pièces communiquées",
        "Sommaire",
    )
    sections, page, blanks = [], 1, []

    def pad() -> None:
        nonlocal page
        if duplex and page % 2 == 0:
            blanks.append(page)
            page += 1

    for title, n in zip(titles, (n_cover, n_app, n_bord, n_toc)):
        pad()
        sections.append(Section(title, page, n))
        page += n
    exhibits = []
    for i, ex in enumerate(loaded, start=1):
        s = ex.spec
        pad()
        exhibits.append(BundleExhibit(i, s.title, s.kind, s.date, s.file, s.field, page, len(ex.pages), ex.fmt, s.group))
        page += len(ex.pages)
    return sections, exhibits, page - 1, tuple(blanks)


def metadata(case, at, statement, purpose):

    if purpose == "court":
        title = f"Requête en injonction de payer — {case.creditor.name} c/ {case.debtor.name}"
    else:
        title = f"Procédure simplifiée de recouvrement des petites créances — {case.creditor.name} c/ {case.debtor.name}"
    subject = (f"Dossier {case.reference} : créance de {money(statement.total)} arrêtée au "
               f"{at.strftime('%d/%m/%Y')}, pièces numérotées")
    return PdfMeta(title=title, date=at, author=case.creditor.name, subject=subject,
                   keywords=("dossier", case.reference, "injonction de payer" if purpose == "court" else "petites créances"))


def _render(name: str, ctx: dict, case: Case, meta) -> bytes:

    html = render(name, ctx, [case.templates] if case.templates else ())
    return html_to_pdf(html, base_url=str(SHIPPED_DIR / "dossiers") + "/", metadata=meta)


def email_renderer(case: Case, at: date) -> Callable[[dict], bytes]:
    def renderer(message: dict) -> bytes:

        meta = PdfMeta(title=message["headers"].get("Subject") or message["file"], date=at, author=case.creditor.name)
        return _render("dossiers/email.html", {"message": message, "case": case}, case, meta)

    return renderer


def context(case, at, statement, court, purpose, sections, exhibits, total) -> dict:
    """Everything the dossier templates see (one context for all of them)."""
    notices = _notices(case, exhibits)
    claim_pi = statement.outstanding + statement.penalties
    next_day = at + timedelta(days=1)
    return {
        "case": case,
        "creditor": case.creditor,
        "debtor": case.debtor,
        "at": at,
        "next_day": next_day,
        "purpose": purpose,
        "statement": statement,
        "court": court,
        "sections": sections,
        "exhibits": exhibits,
        "notices": notices,
        "total_pages": total,
        "claim_principal_interest": claim_pi,
        "ceiling": PETITES_CREANCES_CEILING,
        "kind_labels": KIND_LABELS,
        "group_titles": GROUP_TITLES,
        "link": lambda page: f"{LINK_PREFIX}{page}",
        "invoice_exhibit": _invoice_exhibit_numbers(case, exhibits),
        "creditor_is_person": case.creditor.is_natural_person,
        "late_invoices": [i for i in statement.invoices if i.outstanding > 0 or i.penalties > 0 or i.indemnity > 0],
        **requete_context(case, statement, exhibits, notices),
    }


#: how the requête names a contractual document: (in a list "le …", after "en exécution" "du …")
_CONTRACT_WORDS = {
    "devis": ("le devis", "du devis"),
    "bon-de-commande": ("le bon de commande", "du bon de commande"),
    "contrat": ("le contrat", "du contrat"),
}


def short_name(p) -> str:
    """A party in a sentence: "Atelier Martin", "M. Marc Durand", "Mme Sophie Lefèvre"."""

    if p.is_natural_person:
        civ = civility_short(p.civility or (p.signatory.civility if p.signatory else None))
        return f"{civ} {p.person_name}".strip()
    return p.name


def requete_context(case: Case, statement, exhibits, notices) -> dict:
    """The requête's wording choices, computed once for the PDF and the DOCX: the contract
    documents cited by exhibit number, the contractual rate's exhibit and clause, how the
    running penalties are described (a fixed rate, or ECB + 10 revised each half-year)."""
    from num2words import num2words


    by_file = {Path(e.file).resolve(): e.number for e in exhibits}

    def number_of(e) -> int | None:
        return by_file.get(Path(e.file).resolve())

    docs = [{"the": _CONTRACT_WORDS[e.kind][0], "of": _CONTRACT_WORDS[e.kind][1], "date": e.date, "number": number_of(e)}
            for e in case.exhibits if e.kind in _CONTRACT_WORDS and number_of(e)]
    terms = case.terms
    rate_doc = next((e for e in case.exhibits if e.kind == "cgv" and number_of(e)), None) \
        or next((e for e in case.exhibits if e.kind == "contrat" and number_of(e)), None)
    rate_ref = None
    if rate_doc is not None:
        what = "conditions générales de vente" if rate_doc.kind == "cgv" else "contrat"
        rate_ref = f"{what}, pièce n°\u00a0{number_of(rate_doc)}"
        if terms.penalty_clause:
            rate_ref += f", {terms.penalty_clause}"
    public = case.debtor.is_public
    b2b = statement.regime == "b2b"
    rates = {p.rate for i in statement.invoices for p in i.periods}
    fixed = public or (b2b and terms.penalty_rate is not None and len(rates) <= 1)
    if public:
        penalty_words = "intérêts moratoires"
        running = f"les intérêts moratoires au taux fixe de {_rate(next(iter(rates)))} l’an" if rates else "les intérêts moratoires"
    elif b2b:
        penalty_words = "pénalités de retard"
        if fixed and rates:
            running = f"les pénalités de retard au taux de {_rate(next(iter(rates)))} l’an"
        else:
            running = ("les pénalités de retard au taux prévu par l’article L441-10 du Code de commerce (taux de la "
                       "Banque centrale européenne majoré de dix points, fixé pour chaque semestre)")
    else:
        penalty_words = "intérêts au taux légal"
        running = "les intérêts au taux légal"
    n = len(statement.invoices)
    return {
        "creditor_short": short_name(case.creditor),
        "debtor_short": short_name(case.debtor),
        "count_words": num2words(n, lang="fr") if n < 10 else str(n),
        "notices_words": num2words(len(notices), lang="fr") if len(notices) < 10 else str(len(notices)),
        "contract_docs": docs,
        "contractual_rate": terms.penalty_rate,
        "rate_ref": rate_ref,
        "public": public,
        "penalty_words": penalty_words,
        "running_words": running,
        "claims": case.claims,
        "docx": False,
        "bailiff": case.bailiff,
        "mandate": case.mandate,
        "appeal_court": appeal_court(case.debtor.address.postal_code),
        "bank": case.creditor.bank,
    }


def _rate(r) -> str:

    return rate(r)


def _notices(case, exhibits) -> list[dict]:
    """Amicable steps taken, oldest first: ``case.notices`` holds the case file's and the
    journal's, merged by the case snapshot; ``refs`` cites the exhibits that prove each
    ("pièce n° 7 ; avis de réception : pièce n° 9")."""
    by_file = {Path(e.file).resolve(): e.number for e in exhibits}
    seen = set()
    out = []
    items = [(n.stage, n.date, n.channel, n.lrar_number, n.received, n.file, n.receipt_file) for n in case.notices
             if not (n.source is not None and n.source.path == "journal" and n.stage in COURT_STAGES)]
    for stage, when, channel, lrar, received, f, receipt in sorted(items, key=lambda t: (t[1], t[0])):
        key = (stage, when, channel)
        if key in seen:
            continue
        seen.add(key)
        exhibit = by_file.get(Path(f).resolve()) if f else None
        receipt_exhibit = by_file.get(Path(receipt).resolve()) if receipt else None
        refs = [f"pièce n° {exhibit}"] if exhibit else []
        if receipt_exhibit:
            refs.append(f"avis de réception : pièce n° {receipt_exhibit}")
        out.append({
            "stage": stage,
            "date": when,
            "channel": channel,
            "lrar_number": lrar,
            "received": received,
            "title": notice_title(stage, when, channel, lrar),
            "exhibit": exhibit,
            "receipt_exhibit": receipt_exhibit,
            "refs": " ; ".join(refs),
        })
    return out


def _invoice_exhibit_numbers(case, exhibits) -> dict[str, int]:
    by_file = {Path(e.file).resolve(): e.number for e in exhibits}
    return {i.number: by_file[Path(i.file).resolve()] for i in case.invoices if i.file and Path(i.file).resolve() in by_file}
