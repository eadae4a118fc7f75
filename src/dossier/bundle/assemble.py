"""Assemble the court or bailiff dossier: one indexed, stamped, deterministic PDF.

Order: cover page; the requête en injonction de payer (court) or the cover
letter to the commissaire de justice (bailiff); the bordereau de pièces; the table of
contents; then each exhibit. The pipeline: :mod:`~dossier.bundle.collect` (which exhibits,
in which order) → :mod:`~dossier.bundle.layout` starts typesetting the cover and
application with WeasyPrint, in a background process (:mod:`~dossier.bundle.background`)
→ :mod:`~dossier.bundle.exhibits` (files to pages, or a refusal naming the exhibit) →
:mod:`~dossier.bundle.pages` (normalised, stamped sheets, numbered later) →
:mod:`~dossier.bundle.layout` again (page numbers; bordereau and table of contents drawn
by :mod:`~dossier.bundle.tables`) → this module (front pages put before the exhibits,
page numbers, links, outline, metadata, the file; atomic writes).

Links: the front matter's ``https://dossier.invalid/page/N`` links, laid out by WeasyPrint
with exact rectangles, become ``/Dest`` links to page N of the dossier. The outline has
one entry per section and per exhibit; an exhibit PDF's own bookmarks are nested, closed,
under its entry.

Determinism: no clock is read. The metadata dates come from ``at``, the file identifier
is a hash of the inputs, and every number written in a content stream is formatted with
a fixed precision — the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dossier.bundle import stamp as st
from dossier.bundle.background import Background
from dossier.bundle.exhibits import ImagePolicy, LoadedExhibit, OutlineItem, load_all, quiet_pypdf
from dossier.bundle.layout import (
    LINK_PREFIX,
    PETITES_CREANCES_CEILING,
    BundleExhibit,
    Section,
    context,
    email_renderer,
    index_pages,
    metadata,
    render_head,
)
from dossier.bundle.pages import new_page, num, place_exhibit, place_page, stamp_fonts
from dossier.errors import DossierError
from dossier.law.courts import petites_creances_open, public_body_route, require_named_court
from dossier.law.statement import due_part
from dossier.model import Case
from dossier.render import pdfapi

if TYPE_CHECKING:
    from dossier.snapshot import CaseState
from dossier import journal as jr
from dossier.bundle.docx import application_docx
from dossier.bundle.tables import DrawnPage
from dossier.fmt import money, slug
from dossier.outputs import write_set

__all__ = ["BundleExhibit", "BundleResult", "Section", "build_bundle", "default_output", "write_bundle",
           "PETITES_CREANCES_CEILING"]

PURPOSES = ("court", "bailiff")

#: --max-size: successive settings for scans until the dossier fits
SIZE_STEPS = (ImagePolicy(), ImagePolicy(200, 80), ImagePolicy(150, 70), ImagePolicy(110, 60))


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
    state: CaseState,
    *,
    purpose: str = "court",
    max_size: int | None = None,
    with_docx: bool = True,
    duplex: bool = False,
) -> BundleResult:
    """Build the dossier of the case snapshot ``state`` (:func:`dossier.snapshot.open_case`)
    and return it in memory.

    ``purpose`` is ``"court"`` (requête en injonction de payer) or ``"bailiff"``
    (procédure simplifiée de recouvrement des petites créances, refused above 5,000 EUR of
    principal and interest). ``max_size`` (bytes): re-encode scans at lower resolutions
    until the PDF fits, else raise :class:`DossierError`. ``duplex``: blank pages so that
    every section and exhibit starts on a right-hand page. Raises
    :class:`~dossier.errors.EvidenceError` listing every unusable evidence file, each
    naming the case-file field and the file.
    """
    if purpose not in PURPOSES:
        raise DossierError(f"--for: {purpose!r} is not one of {', '.join(PURPOSES)}")
    case, at = state.case, state.at
    statement = due_part(state.require_statement())  # only what is due is claimed; the rest is listed apart
    if statement.outstanding <= 0:
        raise DossierError(
            f"{case.case_file}: nothing is outstanding on {at.isoformat()} (principal fully paid or credited); "
            "there is no claim to file"
        )
    if public_body_route(case):
        require_named_court(case, state.court)  # explains the route instead
    if purpose == "bailiff":
        claim = statement.outstanding + statement.penalties
        if not petites_creances_open(statement.outstanding, statement.penalties):

            raise DossierError(
                f"{case.case_file}: the claim is {money(claim)} in principal and interest on {at.isoformat()}, "
                f"above the {money(PETITES_CREANCES_CEILING)} ceiling of the procédure simplifiée de recouvrement "
                "des petites créances (CPCE L125-1, R125-1); use `--for court` (injonction de payer)"
            )
    court = state.court
    if purpose == "court":
        require_named_court(case, court)  # a requête that does not name its court is void
    specs = list(state.exhibits)
    meta = metadata(case, at, statement, purpose)
    # the cover and application cite exhibit numbers, never pages: typeset them (in a
    # background process when the machine allows) while the evidence is read and stamped
    head = Background(lambda: render_head(case, at, statement, court, purpose, specs, meta))
    steps = SIZE_STEPS if max_size else SIZE_STEPS[:1]
    result = None
    try:
        for i, policy in enumerate(steps):
            with quiet_pypdf():
                result = _build(case, at, statement, court, specs, purpose, policy, duplex, head, meta)
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
    finally:
        head.cancel()
    if with_docx:  # the requête (court) or the letter to the commissaire de justice (bailiff)

        result.docx = application_docx(context(case, at, statement, court, purpose, result.sections,
                                               result.exhibits, result.pages), purpose)
    return result


def default_output(case: Case, purpose: str) -> Path:
    name = "injonction-de-payer" if purpose == "court" else "petites-creances"
    return case.out_dir / f"{_slug(case.reference)}-dossier-{name}.pdf"


def write_bundle(
    state: CaseState,
    *,
    purpose: str = "court",
    output: Path | str | None = None,
    max_size: int | None = None,
    with_docx: bool = True,
    duplex: bool = False,
    record: bool = False,
    force: bool = False,
) -> tuple[BundleResult, Path, Path | None]:
    """:func:`build_bundle`, then write the PDF (and, for court, the requête as DOCX next
    to it, ``…-requete.docx``) atomically: a temporary file in the same folder renamed
    over the target; on any error nothing is written. ``record``: append a "generated"
    entry to the case journal (stage ``injonction-de-payer`` or ``petites-creances``, the
    files with their SHA-256). A file the journal records as sent (a filed dossier) is
    never overwritten: :class:`~dossier.errors.JournalError`, or with ``force`` a new name
    (``….v2.pdf``). Returns (result, pdf path, docx path or None)."""

    result = build_bundle(state, purpose=purpose, max_size=max_size, with_docx=with_docx, duplex=duplex)
    case, at = state.filed, state.at
    out = Path(output) if output is not None else default_output(case, purpose)
    if out.is_dir() or str(output).endswith(("/", "\\")):
        out = out / default_output(case, purpose).name
    docx_path = None
    if result.docx is not None:
        stem = out.name[:-4] if out.name.lower().endswith(".pdf") else out.name
        stem = stem.replace("-dossier-injonction-de-payer", "").replace("-dossier-petites-creances", "")
        docx_path = out.with_name(f"{stem}-{'requete' if purpose == 'court' else 'petites-creances'}.docx")
    out = jr.guard_output(case, out, force=force)
    if docx_path is not None:
        docx_path = jr.guard_output(case, docx_path, force=force)
    # both files reach their final names only once both are fully on disk
    write_set({out: result.pdf, **({docx_path: result.docx} if docx_path is not None else {})}, case=case)
    if record:
        paths = [out] + ([docx_path] if docx_path is not None else [])
        court = result.court
        jr.record(case, jr.JournalEntry(
            stage="injonction-de-payer" if purpose == "court" else "petites-creances",
            date=at,
            channel="court" if purpose == "court" else "bailiff",
            status="generated",
            recipient=(court.label if court is not None else None) if purpose == "court" else "commissaire de justice",
            files=tuple(jr.file_entry(case, p) for p in paths),
            invoices=tuple(i.number for i in result.statement.invoices if i.outstanding > 0),
            amount=f"{result.statement.total:.2f}",
            note=f"{result.pages} pages, {len(result.exhibits)} exhibits",
        ))
    return result, out, docx_path


# --------------------------------------------------------------------------- building


def _build(case, at, statement, court, specs, purpose, policy, duplex, head, meta) -> BundleResult:
    from pypdf import PdfReader, PdfWriter

    render_email = email_renderer(case, at)
    loaded: list[LoadedExhibit] = load_all(specs, policy=policy, email_renderer=render_email, root=case.root)
    warnings = [w for ex in loaded for w in ex.warnings]

    # Exhibits first (normalised and stamped; numbered once the front matter's length is
    # known), while the cover and application are typeset in the background.
    w = PdfWriter()
    fonts_ref = stamp_fonts(w)
    header = _header(case, purpose)
    placed = [place_exhibit(w, ex, number, fonts_ref, header) for number, ex in enumerate(loaded, start=1)]

    head_pdf, n_cover, n_app = head.result()
    sections, exhibits, total, blanks, index = index_pages(
        case, at, statement, court, purpose, loaded, n_cover, n_app, duplex)
    warnings.extend(_completeness_warnings(case, loaded, purpose))
    if purpose == "court" and court.mismatch:
        warnings.append(f"{case.case_file}: {court.mismatch}")
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(head_pdf).digest())
    for ex in loaded:
        digest.update(ex.digest.encode())
    digest.update(f"{purpose}|{at.isoformat()}|{policy}|{duplex}".encode())

    pdf = _write_pdf(
        w, fonts_ref,
        head=list(PdfReader(io.BytesIO(head_pdf)).pages),
        index=index,
        placed=placed,
        sections=sections,
        loaded=loaded,
        exhibits=exhibits,
        total=total,
        meta=meta,
        file_id=digest.digest()[:16],
        blanks=blanks,
    )
    return BundleResult(pdf, total, exhibits, sections, purpose, statement, court, warnings, blank_pages=blanks)


def _completeness_warnings(case, loaded, purpose) -> list[str]:
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
    sent_med = any(n.stage == "mise-en-demeure" for n in case.notices)  # case file and journal, merged
    if not sent_med:
        out.append(f"{case.case_file}: no mise en demeure recorded (notices or journal) — send one "
                   "(`dossier letter mise-en-demeure`) before going to court, or record it under `notices:`")
    return out


def _header(case: Case, purpose: str) -> str:
    what = "Injonction de payer" if purpose == "court" else "Petites créances"
    return f"{case.creditor.name} c/ {case.debtor.name} — {what} — réf. {case.reference}"


# --------------------------------------------------------------------------- context


# --------------------------------------------------------------------------- the PDF


def _write_pdf(w, fonts_ref, *, head, index, placed, sections, loaded, exhibits, total, meta, file_id,
               blanks=()) -> bytes:
    """Put the front matter (``head``: WeasyPrint pages of the cover and application;
    ``index``: bordereau and table of contents, drawn or typeset) and the duplex blank
    pages before and between the exhibits already ``placed`` in ``w``; number every page;
    add the links, the outline and the metadata; return the file."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NullObject,
        NumberObject,
        TextStringObject,
    )


    pending_links: list[tuple[Any, list]] = []  # (writer page, [(rect, target page)])
    pos = 0  # 0-based index in the writer = dossier page number - 1

    def blank_pages() -> None:  # duplex: a left-hand page before a new section or exhibit
        nonlocal pos
        while pos + 1 in blanks:
            content = st.blank_notice(st.A4) + st.page_number(st.A4, pos + 1, total)
            new_page(w, st.A4, DictionaryObject(), fonts_ref, content, index=pos)
            pos += 1

    for src in head + index:  # front matter, as laid out (A4), numbered, links kept
        blank_pages()
        if isinstance(src, DrawnPage):
            page = new_page(w, st.A4, DictionaryObject(), fonts_ref, src.content + st.page_number(st.A4, pos + 1, total),
                            index=pos)
            links = list(src.links)
        else:
            front = place_page(w, src, fonts_ref, fit=False, index=pos)
            front.finish(w, pos + 1, total)
            page, links = front.page, _internal_links(src)
        if links:
            pending_links.append((page, links))
        pos += 1
    for sheets in placed:  # exhibits: numbered now
        blank_pages()
        for sheet in sheets:
            sheet.finish(w, pos + 1, total)
            pos += 1
    assert pos == total == len(w.pages), (pos, total, len(w.pages))
    page_refs = [p.indirect_reference for p in w.pages]

    for page, links in pending_links:
        annots = ArrayObject()
        for rect, target in links:
            if not 1 <= target <= total:
                continue
            a = DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(num(v) for v in rect),
                NameObject("/Border"): ArrayObject([NumberObject(0), NumberObject(0), NumberObject(0)]),
                NameObject("/F"): NumberObject(4),
                NameObject("/Dest"): ArrayObject([page_refs[target - 1], NameObject("/XYZ"), NullObject(), NullObject(), NullObject()]),
            })
            annots.append(pdfapi.add_object(w, a))
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
    root = pdfapi.catalog(w)
    root[NameObject("/PageMode")] = NameObject("/UseOutlines")
    root[NameObject("/Lang")] = TextStringObject(meta.lang)
    root[NameObject("/ViewerPreferences")] = DictionaryObject({NameObject("/DisplayDocTitle"): _bool(True)})
    pdfapi.set_file_id(w, file_id)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _nest_outline(w, parent, items: list[OutlineItem], info: BundleExhibit) -> None:
    for it in items:
        page = info.first_page - 1 + (it.page if 0 <= it.page < info.pages else 0)
        ref = w.add_outline_item(title=it.title, page_number=page, parent=parent, is_open=False)
        if it.children:
            _nest_outline(w, ref, it.children, info)


def _bool(v: bool):
    from pypdf.generic import BooleanObject

    return BooleanObject(v)


def _pdf_date(d: date) -> str:
    return f"D:{d.strftime('%Y%m%d')}000000Z"


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


def _slug(text: str) -> str:

    return slug(text, "dossier", lower=True)


def _mb(size: int | None) -> str:
    return f"{(size or 0) / 1_000_000:.1f} MB"
