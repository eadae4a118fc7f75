"""Assemble the court or bailiff dossier: one indexed, stamped, deterministic PDF.

Order (issue #4): cover page; the requête en injonction de payer (court) or the cover
letter to the commissaire de justice (bailiff); the bordereau de pièces; the table of
contents; then each exhibit. Page numbers in the bordereau and the table of contents are
the real PDF page numbers: the front matter is laid out, its pages counted, and laid out
again until the counts no longer change (usually once) — never estimated.

Links: the templates write ``<a href="https://dossier.invalid/page/N">``; WeasyPrint lays
them out as URI links with exact rectangles, and the assembler turns each one into a
``/Dest`` to page N of the dossier. The outline (bookmarks) has one entry per section and
per exhibit; an exhibit PDF's own bookmarks are nested, closed, under its entry.

Determinism: no clock is read. The metadata dates come from ``at``, the file identifier
is a hash of the inputs, and every number written in a content stream is formatted with
a fixed precision — the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

from dossier.bundle import stamp as st
from dossier.bundle.collect import GROUP_TITLES, collect_exhibits, notice_title
from dossier.bundle.exhibits import ImagePolicy, LoadedExhibit, OutlineItem, _quiet_pypdf, load_exhibit
from dossier.errors import DossierError, EvidenceError, TemplateError
from dossier.model import Case

#: CPCE L125-1 / R125-1: the procédure simplifiée is open up to 5,000 EUR in principal and
#: interest.
PETITES_CREANCES_CEILING = Decimal("5000.00")

LINK_PREFIX = "https://dossier.invalid/page/"

PURPOSES = ("court", "bailiff")

#: --max-size: successive settings for scans until the dossier fits
SIZE_STEPS = (ImagePolicy(), ImagePolicy(200, 80), ImagePolicy(150, 70), ImagePolicy(110, 60))

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


@dataclass
class BundleResult:
    pdf: bytes
    pages: int
    exhibits: list[BundleExhibit]
    sections: list[Section]
    purpose: str
    statement: Any
    court: Any = None
    warnings: list[str] = field(default_factory=list)
    #: the requête as a Word document (court only)
    docx: bytes | None = None
    #: the scan setting that made the dossier fit --max-size (None: scans untouched)
    downsampled_to_dpi: int | None = None
    #: pages left blank for duplex printing (1-based)
    blank_pages: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        return len(self.pdf)

    @property
    def front_pages(self) -> int:
        """Pages of the cover, application, bordereau and table of contents (without the
        duplex blank pages)."""
        return sum(s.pages for s in self.sections)


# --------------------------------------------------------------------------- public API


def build_bundle(
    case: Case,
    at: date,
    rates=None,
    *,
    purpose: str = "court",
    max_size: int | None = None,
    statement=None,
    journal: Sequence | None = None,
    with_docx: bool = True,
    duplex: bool = False,
) -> BundleResult:
    """Build the dossier of ``case`` as of ``at`` and return it in memory.

    ``purpose`` is ``"court"`` (requête en injonction de payer) or ``"bailiff"``
    (procédure simplifiée de recouvrement des petites créances, refused above 5,000 EUR of
    principal and interest). ``statement`` defaults to
    ``compute_statement(case, at, rates)``; ``journal`` to the case's journal entries.
    ``max_size`` (bytes): re-encode scans at lower resolutions until the PDF fits, else
    raise :class:`DossierError`. ``duplex``: blank pages so that every section and
    exhibit starts on a right-hand page. Raises :class:`~dossier.errors.EvidenceError` for any
    unusable evidence file, naming the case-file field and the file.
    """
    if purpose not in PURPOSES:
        raise DossierError(f"--for: {purpose!r} is not one of {', '.join(PURPOSES)}")
    if statement is None:
        from dossier.law.penalties import compute_statement

        if rates is None:
            from dossier.law.rates import load_rates

            rates = load_rates()
        statement = compute_statement(case, at, rates)
    if journal is None:
        journal = _journal(case)
    if statement.outstanding <= 0:
        raise DossierError(
            f"{case.case_file}: nothing is outstanding on {at.isoformat()} (principal fully paid or credited); "
            "there is no claim to file"
        )
    if purpose == "bailiff":
        claim = statement.outstanding + statement.penalties
        if claim > PETITES_CREANCES_CEILING:
            from dossier.fmt import money

            raise DossierError(
                f"{case.case_file}: the claim is {money(claim)} in principal and interest on {at.isoformat()}, "
                f"above the {money(PETITES_CREANCES_CEILING)} ceiling of the procédure simplifiée de recouvrement "
                "des petites créances (CPCE L125-1, R125-1); use `--for court` (injonction de payer)"
            )
    from dossier.law.courts import court_for_case

    court = court_for_case(case)
    specs = collect_exhibits(case, journal)
    steps = SIZE_STEPS if max_size else SIZE_STEPS[:1]
    result = None
    cache: dict = {}
    for i, policy in enumerate(steps):
        with _quiet_pypdf():
            result = _build(case, at, statement, court, specs, journal, purpose, policy, duplex, cache)
        if i > 0:
            result.downsampled_to_dpi = policy.max_dpi
        if not max_size or result.size <= max_size:
            break
    else:
        assert result is not None
        raise DossierError(
            f"the dossier is {_mb(result.size)} even with scans reduced to {steps[-1].max_dpi} dpi, above "
            f"--max-size {_mb(max_size)}: the large files are exhibit PDFs — reduce them (e.g. print to PDF "
            "at a lower quality) or file the exhibits in several parts"
        )
    if purpose == "court" and with_docx:
        from dossier.bundle.docx import requete_docx

        result.docx = requete_docx(_context(case, at, statement, court, purpose, result.sections,
                                            result.exhibits, journal, result.pages))
    return result


def default_output(case: Case, purpose: str) -> Path:
    name = "injonction-de-payer" if purpose == "court" else "petites-creances"
    return case.out_dir / f"{_slug(case.reference)}-dossier-{name}.pdf"


def write_bundle(
    case: Case,
    at: date,
    rates=None,
    *,
    purpose: str = "court",
    output: Path | str | None = None,
    max_size: int | None = None,
    statement=None,
    journal: Sequence | None = None,
    with_docx: bool = True,
    duplex: bool = False,
) -> tuple[BundleResult, Path, Path | None]:
    """:func:`build_bundle`, then write the PDF (and, for court, the requête as DOCX next
    to it, ``…-requete.docx``) atomically: a temporary file in the same folder renamed
    over the target; on any error nothing is written. Returns (result, pdf path, docx
    path or None)."""
    result = build_bundle(case, at, rates, purpose=purpose, max_size=max_size, statement=statement,
                          journal=journal, with_docx=with_docx, duplex=duplex)
    out = Path(output) if output is not None else default_output(case, purpose)
    if out.is_dir() or str(output).endswith(("/", "\\")):
        out = out / default_output(case, purpose).name
    docx_path = None
    if result.docx is not None:
        stem = out.name[:-4] if out.name.lower().endswith(".pdf") else out.name
        stem = stem.replace("-dossier-injonction-de-payer", "")
        docx_path = out.with_name(f"{stem}-requete.docx")
    # both files reach their final names only once both are fully on disk
    pending = [(_write_temp(out, result.pdf), out)]
    try:
        if docx_path is not None:
            pending.append((_write_temp(docx_path, result.docx), docx_path))
        for tmp, final in pending:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in pending:
            Path(tmp).unlink(missing_ok=True)
        raise
    return result, out, docx_path


def _write_temp(path: Path, data: bytes) -> str:
    """``data`` in a temporary file next to ``path`` (same file system, so the final
    rename is atomic), flushed to disk; returns its name."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise DossierError(f"{path}: cannot write here ({e.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise DossierError(f"{path}: cannot write the file ({e.strerror})") from None
        raise
    return tmp


def _journal(case: Case) -> tuple:
    try:
        from dossier.journal import read_journal
    except ImportError:  # pragma: no cover - the journal module ships with the package
        return ()
    return tuple(read_journal(case))


# --------------------------------------------------------------------------- building


def _build(case, at, statement, court, specs, journal, purpose, policy, duplex=False, cache=None) -> BundleResult:
    from pypdf import PdfReader

    email_renderer = _email_renderer(case, at)
    loaded: list[LoadedExhibit] = [load_exhibit(s, policy=policy, email_renderer=email_renderer) for s in specs]
    warnings = [w for ex in loaded for w in ex.warnings]

    # Front matter, laid out with WeasyPrint (the letters' fonts and templates). Page
    # numbers in the bordereau and the table of contents depend on the front matter's own
    # length: cover + application are laid out once (they cite exhibit numbers, never
    # pages); bordereau + table of contents are laid out with an estimate of their length,
    # their real length is read back, and they are laid out again until it no longer
    # changes (one pass when the estimate is right). One PDF is written at the end.
    meta = _meta(case, at, statement, purpose)
    key = tuple(len(ex.pages) for ex in loaded)
    if cache is not None and key in cache:  # --max-size retries: same pages, same front matter
        sections, exhibits, total, blanks, front_pdf = cache[key]
    else:
        sections, exhibits, total, blanks, front_pdf = _front_matter(
            case, at, statement, court, journal, purpose, loaded, meta, duplex)
        if cache is not None:
            cache[key] = (sections, exhibits, total, blanks, front_pdf)
    front = PdfReader(io.BytesIO(front_pdf))
    warnings.extend(_completeness_warnings(case, loaded, journal, purpose))
    if purpose == "court" and court.mismatch:
        warnings.append(f"{case.case_file}: {court.mismatch}")
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(front_pdf).digest())
    for ex in loaded:
        digest.update(ex.digest.encode())
    digest.update(f"{purpose}|{at.isoformat()}|{policy}|{duplex}".encode())

    pdf = _write_pdf(
        front=front,
        sections=sections,
        loaded=loaded,
        exhibits=exhibits,
        total=total,
        meta=meta,
        header=_header(case, purpose),
        file_id=digest.digest()[:16],
        blanks=blanks,
    )
    return BundleResult(pdf, total, exhibits, sections, purpose, statement, court, warnings, blank_pages=blanks)


def _front_matter(case, at, statement, court, journal, purpose, loaded, meta, duplex):
    """Lay out and write the front matter; returns (sections, exhibits, total pages,
    blank pages, front-matter PDF bytes)."""
    app = "dossiers/requete.html" if purpose == "court" else "dossiers/petites-creances.html"
    _, numbered, _, _ = _layout(loaded, 0, 0, 0, 0, purpose)
    ctx = _context(case, at, statement, court, purpose, [], numbered, journal, 0)
    head = _layout_html(case, dict(ctx, front_sections=["dossiers/cover.html", app]))
    n_cover, n_app = _section_pages(head, ("section-cover", "section-application"))
    n_bord, n_toc = _guess_counts(loaded)
    for _ in range(6):
        sections, exhibits, total, blanks = _layout(loaded, n_cover, n_app, n_bord, n_toc, purpose, duplex)
        ctx = _context(case, at, statement, court, purpose, sections, exhibits, journal, total)
        tail = _layout_html(case, dict(ctx, front_sections=["dossiers/bordereau.html", "dossiers/toc.html"]))
        counts = _section_pages(tail, ("section-bordereau", "section-toc"))
        if counts == (n_bord, n_toc):
            break
        n_bord, n_toc = counts
    else:  # pragma: no cover - would need a layout that oscillates
        raise DossierError("the bordereau and table of contents could not be laid out stably")
    return sections, exhibits, total, blanks, _write_front(head, tail, meta)


def _completeness_warnings(case, loaded, journal, purpose) -> list[str]:
    """What a clerk or a judge would find missing (the dossier is still built)."""
    out = []
    if not loaded:
        out.append(f"{case.case_file}: no evidence file at all — the requête must come with the documents "
                   "that prove the claim (CPC art. 1407): add the invoices' `file:` and the contract or quote")
    for i, inv in enumerate(case.invoices):
        if inv.file is None:
            where = inv.source.path if inv.source and inv.source.path else f"invoices[{i}]"
            out.append(f"{case.case_file}: {where}: invoice {inv.number} has no `file:` — the invoice itself is "
                       "the main proof of the claim")
    kinds = {ex.spec.kind for ex in loaded}
    if not kinds & {"devis", "bon-de-commande", "contrat", "cgv"}:
        out.append(f"{case.case_file}: no contractual document (quote, purchase order, contract or terms of sale) "
                   "among the exhibits — a judge looks for the debtor's agreement")
    sent_med = any(n.stage == "mise-en-demeure" for n in case.notices) or any(
        getattr(e, "stage", "") == "mise-en-demeure" and getattr(e, "status", "") == "sent" for e in journal)
    if not sent_med:
        out.append(f"{case.case_file}: no mise en demeure recorded (notices or journal) — send one "
                   "(`dossier letter mise-en-demeure`) before going to court, or record it under `notices:`")
    return out


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


_weasy_lock = __import__("threading").Lock()
_weasy_css: list = []


def _layout_html(case: Case, ctx: dict):
    """Render ``dossiers/front.html`` and lay it out (no PDF yet): a WeasyPrint Document
    with the vendored fonts of :mod:`dossier.render.pdf` and its shared FontConfiguration."""
    from weasyprint import CSS, HTML

    from dossier.render.pdf import font_configuration, font_face_css
    from dossier.render.templates import SHIPPED_DIR, render

    html = render("dossiers/front.html", ctx, [case.templates] if case.templates else ())
    fc = font_configuration()
    with _weasy_lock:
        if not _weasy_css:
            _weasy_css.append(CSS(string=font_face_css(), font_config=fc))
    try:
        return HTML(string=html, base_url=str(SHIPPED_DIR / "dossiers") + "/").render(
            font_config=fc, stylesheets=_weasy_css)
    except Exception as e:  # WeasyPrint raises assorted errors on broken input
        raise TemplateError(f"dossiers/front.html: cannot lay out the front matter: {e}") from e


def _write_front(head, tail, meta) -> bytes:
    """The laid-out front matter documents as one PDF (fonts subset once). Its metadata
    are not used: the dossier has its own."""
    doc = head.copy(head.pages + tail.pages)
    doc.metadata.title = meta.title
    doc.metadata.created = doc.metadata.modified = meta.w3c_date
    return doc.write_pdf()


def _layout(loaded, n_cover, n_app, n_bord, n_toc, purpose, duplex=False):
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


def _header(case: Case, purpose: str) -> str:
    what = "Injonction de payer" if purpose == "court" else "Petites créances"
    return f"{case.creditor.name} c/ {case.debtor.name} — {what} — réf. {case.reference}"


def _meta(case, at, statement, purpose):
    from dossier.fmt import money
    from dossier.render.pdf import PdfMeta

    if purpose == "court":
        title = f"Requête en injonction de payer — {case.creditor.name} c/ {case.debtor.name}"
    else:
        title = f"Procédure simplifiée de recouvrement des petites créances — {case.creditor.name} c/ {case.debtor.name}"
    subject = (f"Dossier {case.reference} : créance de {money(statement.total)} arrêtée au "
               f"{at.strftime('%d/%m/%Y')}, pièces numérotées")
    return PdfMeta(title=title, date=at, author=case.creditor.name, subject=subject,
                   keywords=("dossier", case.reference, "injonction de payer" if purpose == "court" else "petites créances"))


def _render(name: str, ctx: dict, case: Case, meta) -> bytes:
    from dossier.render.pdf import html_to_pdf
    from dossier.render.templates import SHIPPED_DIR, render

    html = render(name, ctx, [case.templates] if case.templates else ())
    return html_to_pdf(html, base_url=str(SHIPPED_DIR / "dossiers") + "/", metadata=meta)


def _email_renderer(case: Case, at: date) -> Callable[[dict], bytes]:
    def renderer(message: dict) -> bytes:
        from dossier.render.pdf import PdfMeta

        meta = PdfMeta(title=message["headers"].get("Subject") or message["file"], date=at, author=case.creditor.name)
        return _render("dossiers/email.html", {"message": message, "case": case}, case, meta)

    return renderer


# --------------------------------------------------------------------------- context


def _context(case, at, statement, court, purpose, sections, exhibits, journal, total) -> dict:
    """Everything the dossier templates see (one context for all of them)."""
    notices = _notices(case, journal, exhibits)
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
        "creditor_is_person": not case.creditor.is_company or (case.creditor.legal_form or "").upper() in ("EI", "EIRL", "ME", ""),
        "late_invoices": [i for i in statement.invoices if i.outstanding > 0 or i.penalties > 0 or i.indemnity > 0],
    }


def _notices(case, journal, exhibits) -> list[dict]:
    """Amicable steps taken, oldest first, from the case file and the journal."""
    by_file = {Path(e.file).resolve(): e.number for e in exhibits}
    seen = set()
    out = []
    items = [(n.stage, n.date, n.channel, n.lrar_number, n.received, n.file) for n in case.notices]
    for e in journal:
        if getattr(e, "status", "") != "sent":
            continue
        f = case.root / e.files[0].path if e.files else None
        if e.files:
            from dossier.bundle.collect import _evidence_file

            f = case.root / _evidence_file(list(e.files)).path
        items.append((e.stage, e.date, e.channel, getattr(e, "lrar_number", None), None, f))
    for stage, when, channel, lrar, received, f in sorted(items, key=lambda t: (t[1], t[0])):
        key = (stage, when, channel)
        if key in seen:
            continue
        seen.add(key)
        out.append({
            "stage": stage,
            "date": when,
            "channel": channel,
            "lrar_number": lrar,
            "received": received,
            "title": notice_title(stage, when, channel, lrar),
            "exhibit": by_file.get(Path(f).resolve()) if f else None,
        })
    return out


def _invoice_exhibit_numbers(case, exhibits) -> dict[str, int]:
    by_file = {Path(e.file).resolve(): e.number for e in exhibits}
    return {i.number: by_file[Path(i.file).resolve()] for i in case.invoices if i.file and Path(i.file).resolve() in by_file}


# --------------------------------------------------------------------------- the PDF


def _write_pdf(*, front, sections, loaded, exhibits, total, meta, header, file_id, blanks=()) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject, ByteStringObject, DictionaryObject, NameObject, NullObject, NumberObject,
        TextStringObject,
    )

    w = PdfWriter()
    fonts_ref = stamp_fonts(w)
    page_refs: list = []
    pending_links: list[tuple[Any, list]] = []  # (writer page, [(rect, target page)])

    def blank_pages() -> None:  # duplex: a left-hand page before a new section or exhibit
        nonlocal n
        while n + 1 in blanks:
            n += 1
            content = st.blank_notice(st.A4) + st.page_number(st.A4, n, total)
            page_refs.append(_new_page(w, st.A4, DictionaryObject(), fonts_ref, content).indirect_reference)

    # front matter: placed as is (WeasyPrint A4), numbered, links kept
    n = 0
    for src in front.pages:
        blank_pages()
        n += 1
        page, _ = _place(w, src, fonts_ref, fit=False, footer=(n, total, ""))
        page_refs.append(page.indirect_reference)
        links = _internal_links(src)
        if links:
            pending_links.append((page, links))

    # exhibits: normalised, fitted, stamped
    for ex, info in zip(loaded, exhibits):
        blank_pages()
        page_refs.extend(place_exhibit(w, ex, info.number, n + 1, total, fonts_ref, header))
        n += len(ex.pages)
    assert n == total, (n, total)

    for page, links in pending_links:
        annots = ArrayObject()
        for rect, target in links:
            if not 1 <= target <= total:
                continue
            a = DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(_num(v) for v in rect),
                NameObject("/Border"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(0)]),
                NameObject("/F"): NumberObject(4),
                NameObject("/Dest"): ArrayObject([page_refs[target - 1], NameObject("/XYZ"), NullObject(), NullObject(), NullObject()]),
            })
            annots.append(w._add_object(a))
        if annots:
            page[NameObject("/Annots")] = annots

    # outline: one entry per section, one per exhibit (its own bookmarks nested, closed)
    for s in sections:
        w.add_outline_item(title=s.title, page_number=s.first_page - 1)
    for ex, info in zip(loaded, exhibits):
        parent = w.add_outline_item(title=f"Pièce n° {info.number} — {info.title}", page_number=info.first_page - 1,
                                    is_open=False)
        _nest_outline(w, parent, ex.outline, info)

    w.add_metadata({
        "/Title": meta.title,
        "/Author": meta.author or "",
        "/Subject": meta.subject or "",
        "/Keywords": ", ".join(meta.keywords),
        "/Creator": "dossier",
        "/Producer": "dossier (pypdf)",
        "/CreationDate": _pdf_date(meta.date),
        "/ModDate": _pdf_date(meta.date),
    })
    root = w._root_object
    root[NameObject("/PageMode")] = NameObject("/UseOutlines")
    root[NameObject("/Lang")] = TextStringObject(meta.lang)
    root[NameObject("/ViewerPreferences")] = DictionaryObject({NameObject("/DisplayDocTitle"): _bool(True)})
    w._ID = ArrayObject([ByteStringObject(file_id), ByteStringObject(file_id)])
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def stamp_fonts(w):
    """The /Font resource dictionary of the stamps (Helvetica, Helvetica-Bold), added to
    ``w`` once and shared by every page."""
    from pypdf.generic import DictionaryObject, NameObject

    return w._add_object(DictionaryObject({
        NameObject(st.FONT_REGULAR): w._add_object(_font("Helvetica")),
        NameObject(st.FONT_BOLD): w._add_object(_font("Helvetica-Bold")),
    }))


def place_exhibit(w, ex: LoadedExhibit, number: int, first: int, total: int, fonts_ref, header: str = "") -> list:
    """Add the pages of exhibit ``number`` to writer ``w``, normalised and stamped, the
    first one being dossier page ``first`` of ``total``; returns their references. Any
    failure to copy a page is an :class:`EvidenceError` naming the exhibit."""
    refs = []
    k = len(ex.pages)
    for i, sp in enumerate(ex.pages, start=1):
        n = first + i - 1
        try:
            if sp.image is not None:
                page = _place_image(w, sp.image, fonts_ref, (number, i, k), (n, total), header)
            else:
                page, _ = _place(w, sp.page, fonts_ref, fit=True, footer=(n, total, ""), exhibit=(number, i, k),
                                 header=header)
        except Exception as e:  # noqa: BLE001 - a damaged object deep in the file
            raise EvidenceError(
                f"{ex.spec.where()}: page {i} cannot be copied into the dossier ({type(e).__name__}: {e}); "
                "print the document to a new PDF and use that"
            ) from None
        refs.append(page.indirect_reference)
    return refs


def _nest_outline(w, parent, items: list[OutlineItem], info: BundleExhibit) -> None:
    for it in items:
        page = info.first_page - 1 + (it.page if 0 <= it.page < info.pages else 0)
        ref = w.add_outline_item(title=it.title, page_number=page, parent=parent, is_open=False)
        if it.children:
            _nest_outline(w, ref, it.children, info)


def _bool(v: bool):
    from pypdf.generic import BooleanObject

    return BooleanObject(v)


def _num(v: float):
    from pypdf.generic import FloatObject

    return FloatObject(round(float(v), 3))


def _pdf_date(d: date) -> str:
    return f"D:{d.strftime('%Y%m%d')}000000Z"


def _font(base: str):
    from pypdf.generic import DictionaryObject, NameObject

    return DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/" + base),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })


def _internal_links(src) -> list[tuple[tuple[float, ...], int]]:
    """The dossier-internal links WeasyPrint wrote on a front-matter page: (rect, page)."""
    out = []
    for ref in src.get("/Annots") or []:
        a = ref.get_object()
        if a.get("/Subtype") != "/Link":
            continue
        action = a.get("/A")
        uri = action.get_object().get("/URI") if action is not None else None
        if uri is None:
            continue
        m = re.match(re.escape(LINK_PREFIX) + r"(\d+)$", str(uri))
        if m:
            x0, y0, x1, y1 = (float(v) for v in a["/Rect"])
            out.append(((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), int(m.group(1))))
    return out


def _box(page) -> tuple[float, float, float, float]:
    box = page.cropbox
    x0, y0, x1, y1 = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    if x1 - x0 <= 1 or y1 - y0 <= 1:
        box = page.mediabox
        x0, y0, x1, y1 = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _place(w, src, fonts_ref, *, fit, footer, exhibit=None, header=""):
    """A new sheet with ``src`` drawn on it (as a form XObject), its annotations with an
    appearance flattened into it, and the stamps."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    box = _box(src)
    rotate = int(src.get("/Rotate", 0) or 0)
    pl = st.place(box, rotate, fit=fit)
    xobjects = DictionaryObject()
    xobjects[NameObject("/Pg")] = _form_xobject(w, src, box)
    ops = [b"q " + st.matrix_bytes(pl.matrix) + b" cm /Pg Do"]
    uses_gs = False
    if fit and "/Annots" in src:  # exhibits: what the sender saw, burnt in
        from dossier.bundle.annotations import flatten

        marks, drawing, uses_gs = flatten(w, src, True)
        for name, ref in marks:
            xobjects[NameObject(name)] = ref
        if drawing:
            ops.append(drawing)
    ops.append(b"Q\n")
    if fit:
        ops.append(st.frame(pl.frame))
    if exhibit is not None:
        ops.append(st.exhibit_stamp(pl.sheet, *exhibit, header=header))
    ops.append(st.page_number(pl.sheet, footer[0], footer[1], footer[2]))
    page = _new_page(w, pl.sheet, xobjects, fonts_ref, b"\n".join(ops), highlight=uses_gs)
    return page, None


def _place_image(w, img, fonts_ref, exhibit, footer, header):
    from pypdf.generic import DictionaryObject, NameObject

    pl = st.place((0, 0, img.natural_size[0], img.natural_size[1]), 0, fit=True)
    x0, y0, x1, y1 = pl.frame
    xobjects = DictionaryObject({NameObject("/Im"): _image_xobject(w, img)})
    ops = [
        b"q %s 0 0 %s %s %s cm /Im Do Q\n" % (st._n(x1 - x0), st._n(y1 - y0), st._n(x0), st._n(y0)),
        st.frame(pl.frame),
        st.exhibit_stamp(pl.sheet, *exhibit, header=header),
        st.page_number(pl.sheet, footer[0], footer[1]),
    ]
    return _new_page(w, pl.sheet, xobjects, fonts_ref, b"".join(ops))


def _new_page(w, sheet, xobjects, fonts_ref, content: bytes, highlight: bool = False):
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

    page = w.add_blank_page(round(sheet[0], 3), round(sheet[1], 3))
    resources = DictionaryObject({
        NameObject("/Font"): fonts_ref,
        NameObject("/XObject"): xobjects,
        NameObject("/ProcSet"): ArrayObject([NameObject("/PDF"), NameObject("/Text"), NameObject("/ImageB"),
                                             NameObject("/ImageC")]),
    })
    if highlight:
        from dossier.bundle.annotations import GS_HIGHLIGHT

        resources[NameObject("/ExtGState")] = DictionaryObject({NameObject(GS_HIGHLIGHT): DictionaryObject({
            NameObject("/Type"): NameObject("/ExtGState"), NameObject("/ca"): FloatObject(0.4),
            NameObject("/CA"): FloatObject(0.4), NameObject("/BM"): NameObject("/Multiply")})})
    page[NameObject("/Resources")] = resources
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = w._add_object(stream.flate_encode())
    return page


def _form_xobject(w, src, box):
    """``src`` as a form XObject in ``w``: its content stream (kept encoded when it is one
    stream), its resources (cloned once per source file), its crop box as /BBox."""
    from pypdf.generic import (
        ArrayObject, DecodedStreamObject, DictionaryObject, EncodedStreamObject, NameObject,
    )

    raw = src.raw_get("/Contents") if "/Contents" in src else None
    obj = raw.get_object() if raw is not None else None
    if isinstance(obj, EncodedStreamObject):
        xo = EncodedStreamObject()
        xo._data = obj._data
        for key in ("/Filter", "/DecodeParms"):
            if key in obj:
                xo[NameObject(key)] = obj[key].clone(w)
    else:
        contents = src.get_contents()
        data = contents.get_data() if contents is not None else b""
        plain = DecodedStreamObject()
        plain.set_data(data)
        xo = plain.flate_encode()
    xo[NameObject("/Type")] = NameObject("/XObject")
    xo[NameObject("/Subtype")] = NameObject("/Form")
    xo[NameObject("/BBox")] = ArrayObject(_num(v) for v in box)
    if "/Resources" in src:
        xo[NameObject("/Resources")] = src.raw_get("/Resources").clone(w)
    else:
        xo[NameObject("/Resources")] = DictionaryObject()
    if "/Group" in src:
        xo[NameObject("/Group")] = src.raw_get("/Group").clone(w)
    return w._add_object(xo)


def _image_xobject(w, img):
    from pypdf.generic import EncodedStreamObject, NameObject, NumberObject

    xo = EncodedStreamObject()
    xo._data = img.data
    xo[NameObject("/Type")] = NameObject("/XObject")
    xo[NameObject("/Subtype")] = NameObject("/Image")
    xo[NameObject("/Width")] = NumberObject(img.width)
    xo[NameObject("/Height")] = NumberObject(img.height)
    xo[NameObject("/ColorSpace")] = NameObject(img.colorspace)
    xo[NameObject("/BitsPerComponent")] = NumberObject(img.bits)
    xo[NameObject("/Filter")] = NameObject(img.filter)
    return w._add_object(xo)


def _slug(text: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or "dossier"


def _mb(size: int | None) -> str:
    return f"{(size or 0) / 1_000_000:.1f} MB"
