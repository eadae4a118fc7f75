"""The escalation documents: reminders, payment plan, dernier avis, mise en demeure.

``render_stage`` turns a case, a stage and a date into bytes (PDF letter, DOCX, ``.eml``,
and the relance-2 phone-call sheet) without touching the disk; ``write_stage`` writes them
atomically, refuses to overwrite what the journal records as sent, sends the email when
asked and records everything in the case's ``journal.jsonl``.

Templates (``templates/letters/``, overridable with ``--templates DIR`` or the case's
``templates:`` key):

- ``<stage>.html`` — the stage's content, shared by the PDF letter, the DOCX and the email;
- ``_letter.html`` + ``letter.css`` — the printed letter's frame (sender, window, refs,
  signature); ``letter.docx`` — the same frame for Word;
- ``_email.html`` — the email's HTML part; ``<stage>.txt`` (optional) — hand-written text
  part, otherwise derived from the HTML;
- ``_cover.html`` — body of the email carrying a letter as PDF; ``_rib.html``,
  ``_call-sheet.html``, ``_accord.html``, ``_decompte.html``… — parts and extra pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from dossier.letters.context import LetterOptions, Window, build_context  # noqa: F401 (API)
from dossier.model import Case
from dossier.stages import CONTRACT, INVOICES, LETTER_STAGES, RIB, STAGE_INFO

if TYPE_CHECKING:
    from dossier.snapshot import CaseState
from dossier import journal, mail
from dossier.delivery import Dispatcher, refusal
from dossier.errors import DeliveryError, DossierError, JournalError
from dossier.fmt import slug
from dossier.journal import case_lock
from dossier.limits import read_evidence
from dossier.outputs import write_set
from dossier.render.docx import render_docx
from dossier.render.pdf import PdfMeta, html_to_pdf
from dossier.render.templates import SHIPPED_DIR, confined_dirs, find_template, has_template, render
from dossier.render.text import html_to_text

FORMATS = ("pdf", "docx", "eml")
QR_CID = "qr-sepa@dossier"


@dataclass(frozen=True)
class Rendered:
    """One stage's documents in memory: file name -> bytes."""

    stage: str
    files: dict[str, bytes]
    #: the email's recipient (None without email)
    recipient: str | None
    sender: str | None
    message_id: str | None
    invoices: tuple[str, ...]
    total: str
    context: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class Written:
    stage: str
    paths: tuple[Path, ...]
    entry: Any  # the JournalEntry recorded, or None
    sent: bool


def parse_formats(text: str | Iterable[str]) -> tuple[str, ...]:
    items = [x.strip().lower() for x in (text.split(",") if isinstance(text, str) else text) if x.strip()]
    bad = [x for x in items if x not in FORMATS]
    if bad or not items:
        raise DossierError(f"--format: {','.join(bad) or text!r}: expected a comma-separated list of {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(items))


def _slug(s: str) -> str:

    return slug(s, "document")


def template_dirs(case: Case, options: LetterOptions) -> tuple:
    """Template folders, first match wins: ``--templates``, the case's ``templates:`` key,
    then a ``templates/`` folder of the portfolio (the folder holding the case folders);
    the shipped templates come last (:mod:`dossier.render.templates`)."""
    portfolio = Path(case.root).parent / "templates" if case.root is not None else None
    if portfolio is not None and not portfolio.is_dir():
        portfolio = None

    return confined_dirs(case.root, (*options.templates, case.templates, portfolio))


def _render(name: str, ctx: dict, dirs) -> str:

    return render(name, ctx, dirs)


def _pdf(html: str, ctx: dict, title: str, dirs) -> bytes:

    meta = PdfMeta(
        title=title,
        date=ctx["at"],
        author=ctx["creditor"].name,
        subject=f"{ctx['reference']} — {ctx['stage_title']}",
        keywords=(ctx["stage"], ctx["reference"], *ctx["claim"].numbers),
    )
    base = next((str(d) for d in dirs if d is not None), str(SHIPPED_DIR))
    return html_to_pdf(html, base_url=base, metadata=meta)


def render_stage(
    state: CaseState,
    stage: str,
    *,
    options: LetterOptions = LetterOptions(),
    formats: Iterable[str] = FORMATS,
    when: datetime | None = None,
) -> Rendered:
    """Every document of ``stage`` for the case snapshot ``state``, as bytes (nothing is
    read or written). ``when`` is the email's Date (default: the snapshot's date at 09:00
    Paris time, so the file is reproducible)."""

    formats = tuple(formats)
    case = state.case
    ctx = build_context(state, stage, options=options)
    dirs = template_dirs(case, options)
    body_name = f"letters/{stage}.html"
    after = {"echeancier": "letters/_accord.html", "mise-en-demeure": "letters/_mise-en-demeure-annex.html"}.get(stage)
    files: dict[str, bytes] = {}
    info = STAGE_INFO[stage]
    title = ctx["subject"]

    letter_pdf = None
    if "pdf" in formats or "eml" in formats and not info.email_stage or stage == "dernier-avis" and "eml" in formats:
        html = _render("letters/_letter.html", {**ctx, "body_template": body_name, "after_template": after}, dirs)
        letter_pdf = _pdf(html, ctx, title, dirs)
        if "pdf" in formats:
            files[f"{stage}.pdf"] = letter_pdf
    if stage == "relance-2" and "pdf" in formats:
        html = _render("letters/_call-sheet.html", ctx, dirs)
        files["relance-2-fiche-appel.pdf"] = _pdf(html, ctx, f"Fiche d'appel — {case.reference}", dirs)

    if "docx" in formats:
        files[f"{stage}.docx"] = _docx_letter(ctx, dirs, body_name, after, title)
    recipient = sender = message_id = None
    if "eml" in formats:
        raw = _email(state, ctx, dirs, body_name, letter_pdf, when)
        files[f"{stage}.eml"] = raw
        recipient, sender, message_id = case.debtor.email, case.creditor.email, mail.message_id(raw)

    claim = ctx["claim"]
    return Rendered(stage, files, recipient, sender, message_id, claim.numbers, str(claim.total), ctx)


def _docx_letter(ctx: dict, dirs, body_name: str, after: str | None, title: str) -> bytes:
    """The letter as DOCX: the same stage text in the Word frame (``letters/letter.docx``
    or the stage's own ``.docx`` template)."""
    from docxtpl import Listing


    stage = ctx["stage"]
    name = f"letters/{stage}.docx" if has_template(f"letters/{stage}.docx", dirs) else "letters/letter.docx"
    body_html = _render(body_name, ctx, dirs)
    after_html = _render(after, ctx, dirs) if after else ""
    images = {}
    pay = ctx["payment"]
    if pay and pay.qr_svg and pay.qr_png:
        images[pay.qr_svg] = pay.qr_png
    c = ctx["creditor"]
    sender_lines = [x for x in (c.form_line, *c.address_lines) if x]
    if c.phone:
        sender_lines.append(f"Tél. {c.phone}")
    if c.email:
        sender_lines.append(c.email)
    ids = " — ".join(x for x in (c.rcs, f"SIRET {c.siret}" if c.siret else None, f"TVA {c.vat_number}" if c.vat_number else None) if x)
    if ids:
        sender_lines.append(ids)
    docx_ctx = {
        **ctx,
        "sender_lines": Listing("\n".join(sender_lines)),
        "recipient_block": Listing("\n".join(ctx["recipient_lines"])),
        "docx_window": _twips(ctx["window"]),
    }
    return _docx(find_template(name, dirs), docx_ctx, body_html, after_html, images, ctx, title)


def _email(state: CaseState, ctx: dict, dirs, body_name: str, letter_pdf: bytes | None, when: datetime | None) -> bytes:
    """The stage's email (.eml bytes): HTML and text parts, the QR code inline, the
    stage's attachments."""

    case, stage = state.case, ctx["stage"]
    if not case.debtor.email:
        raise DossierError(f"{case.case_file}: debtor.email: needed to write the {stage} email (or use --format pdf,docx)")
    if not case.creditor.email:
        raise DossierError(f"{case.case_file}: creditor.email: needed as the email's sender")
    pay = ctx["payment"]
    inline = {QR_CID: pay.qr_png} if pay and pay.qr_png else {}
    ectx = {**ctx, "qr_cid": f"cid:{QR_CID}" if inline else None}
    email_body = body_name if STAGE_INFO[stage].email_stage else "letters/_cover.html"
    html = _render("letters/_email.html", {**ectx, "body_template": email_body}, dirs)
    if has_template(f"letters/{stage}.txt", dirs):
        text = _render(f"letters/{stage}.txt", ctx, dirs)
    else:
        text = html_to_text(_render(email_body, {**ectx, "qr_cid": None}, dirs)) + _text_signature(ctx)
    return mail.build_email(
        sender=(case.creditor.name, case.creditor.email),
        to=[(case.debtor.name, case.debtor.email)],
        subject=ctx["subject"],
        text=text,
        html=html,
        attachments=_email_attachments(case, stage, ctx, letter_pdf, dirs),
        inline_images=inline,
        when=when or mail.paris_morning(state.at),
        headers={"X-Dossier-Reference": case.reference},  # no internal stage name to the debtor
    )


def _twips(w: Window) -> dict[str, int]:
    """The window frame in twips (1/1440 inch) for the DOCX paragraph frame, the text
    starting 3 mm below the frame's top as in the PDF."""
    t = lambda mm: round(mm * 1440 / 25.4)  # noqa: E731
    return {"x": t(w.left), "y": t(w.top + 3), "w": t(w.width), "h": t(w.height - 3)}


def _docx(template: Path, docx_ctx: dict, body_html: str, after_html: str, images: dict, ctx: dict, title: str) -> bytes:

    return render_docx(
        template,
        docx_ctx,
        body_html=body_html,
        after_html=after_html,
        at=ctx["at"],
        title=title,
        author=ctx["creditor"].name,
        subject=ctx["subject"],
        images=images,
    )


def _text_signature(ctx: dict) -> str:
    c = ctx["creditor"]
    lines = ["", "-- "]  # the signature separator, with its space (RFC 3676)
    if c.person:
        lines.append(c.person + (f", {c.person_title}" if c.person_title else ""))
    lines.append(c.name)
    lines.extend(c.address_lines)
    if c.phone:
        lines.append(f"Tél. {c.phone}")
    if c.email:
        lines.append(c.email)
    lines.append(f"{c.legal_line} — Réf. {ctx['reference']}")
    return "\n".join(lines) + "\n"


def _email_attachments(case: Case, stage: str, ctx: dict, letter_pdf: bytes | None, dirs) -> list:
    """What each stage's email carries: the invoices chased, the signed quote or order, the
    creditor's bank details (RIB), and the letter itself as PDF for the formal stages."""

    out: list[mail.Attachment] = []
    info = STAGE_INFO[stage]
    if letter_pdf is not None and (not info.email_stage or stage == "dernier-avis"):
        out.append(mail.Attachment(f"{stage}-{_slug(case.reference)}.pdf", letter_pdf))
    if INVOICES in info.encloses:
        for number in ctx["claim"].numbers:
            inv = case.invoice(number)
            if inv is not None and inv.file is not None:
                out.append(_file_attachment(inv.file, f"{_slug(number)}{inv.file.suffix.lower()}", case))
    if CONTRACT in info.encloses:
        for e in case.exhibits:
            if e.kind in ("devis", "bon-de-commande") and e.file is not None:
                out.append(_file_attachment(e.file, e.file.name, case))
    pay = ctx["payment"]
    if pay is not None and RIB in info.encloses:
        html = _render("letters/_rib.html", ctx, dirs)
        out.append(mail.Attachment(f"RIB-{_slug(case.creditor.name)}.pdf", _pdf(html, ctx, f"RIB — {case.creditor.name}", dirs)))
    return out


_MIME = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
         ".eml": "message/rfc822", ".txt": "text/plain"}


def _file_attachment(path: Path, name: str, case: Case):

    p = path if path.is_absolute() else case.root / path
    # never a file outside the case folder, a FIFO or a device; its size checked first
    data = read_evidence(p, f"{case.case_file}: attachment", root=case.root)
    mime = _MIME.get(p.suffix.lower(), "application/octet-stream")
    if mime == "message/rfc822":
        mime = "application/octet-stream"  # attach as a file, not re-parsed
    return mail.Attachment(name, data, mime)


def _case_locked(fn):
    """Hold the case's lock (:func:`dossier.journal.case_lock`) around a call that sends or
    records a notice as sent, so that check → send → record is one step per case."""
    import functools

    @functools.wraps(fn)
    def wrapper(state: CaseState, *args: Any, **kwargs: Any):
        root = state.filed.root
        if (kwargs.get("send") or kwargs.get("mark_sent")) and root is not None:

            with case_lock(root):
                return fn(state, *args, **kwargs)
        return fn(state, *args, **kwargs)

    return wrapper


@_case_locked
def write_stage(
    state: CaseState,
    stage: str,
    *,
    out_dir: Path | None = None,
    formats: Iterable[str] = FORMATS,
    options: LetterOptions = LetterOptions(),
    force: bool = False,
    record: bool = True,
    send: bool = False,
    mark_sent: bool = False,
    smtp=None,
    dispatcher=None,
) -> Written:
    """Render ``stage`` for the case snapshot ``state`` and write its files to ``out_dir``
    (default: the case's ``out/``).

    ``send``: deliver the email over SMTP (``smtp``: a :class:`dossier.mail.SmtpConfig`,
    default from the environment) through :mod:`dossier.delivery` (``dispatcher``: a
    :class:`dossier.delivery.Dispatcher` to reuse, e.g. a batch's SMTP session): the case
    is locked, and the journal records ``sending`` before the message is handed over, then
    ``sent``, ``failed`` or ``unknown``; a delivery left unknown is not retried without
    ``force``. ``mark_sent``: record a printed
    letter as posted (with ``options.lrar_number`` for an LRAR). A stage already recorded
    as sent for the same invoices is refused unless ``force``; a file recorded as sent is
    never overwritten (``force`` writes ``name.v2.ext``).
    """

    if stage not in LETTER_STAGES:
        raise DossierError(f"{stage}: unknown letter stage; expected one of {', '.join(LETTER_STAGES)}")
    case, at = state.filed, state.at
    formats = tuple(formats)
    if send and "eml" not in formats:
        formats = (*formats, "eml")
    when = datetime.now(timezone.utc).astimezone() if send else None
    rendered = render_stage(state, stage, options=options, formats=formats, when=when)

    if send:
        channel = "email"
    elif mark_sent:
        channel = "lrar" if stage == "mise-en-demeure" else ("letter" if not STAGE_INFO[stage].email_stage else "email")
    else:
        channel = STAGE_INFO[stage].channels[0]
    if (send or mark_sent) and not force:
        prior = journal.was_sent(case, stage, rendered.invoices, channel)
        if prior is not None:
            raise JournalError(
                f"{stage}: already sent by {prior.channel} on {prior.date.isoformat()} ({journal.journal_path(case)}:{prior.line}); "
                "use --force to send it again"
            )
        if send:

            # under the case's lock: the journal as it is now, not as the snapshot read it
            delivery = journal.delivery_state(journal.read_journal(case), stage, rendered.invoices)
            if not delivery.may_send:
                raise refusal(case.root, stage, delivery)

    out_dir = Path(out_dir) if out_dir is not None else case.out_dir
    paths = write_set({journal.guard_output(case, out_dir / n, force=force): d for n, d in rendered.files.items()}, case=case)

    entry = None
    sent = False
    if send:
        return _deliver(case, stage, at, rendered, paths, options, smtp, dispatcher, force)
    if record or send or mark_sent:
        entry = _record(case, stage, at, "sent" if (sent or mark_sent) else "generated", channel, rendered, paths, options)
    return Written(stage, tuple(paths), entry, sent or mark_sent)


def _deliver(case: Case, stage: str, at: date, rendered: Rendered, paths, options, smtp, dispatcher, force: bool) -> Written:
    """Send the stage's email (already written to ``paths``) and record each step."""
    import hashlib


    files = tuple(
        journal.JournalFile(journal.relative(case, p), hashlib.sha256(data).hexdigest())
        for p, data in zip(paths, rendered.files.values(), strict=True)
    )
    entry = journal.JournalEntry(
        stage=stage, date=at, channel="email", status="sending", recipient=rendered.recipient, files=files,
        invoices=rendered.invoices, amount=rendered.total,
        schedule=tuple((i.due, str(i.amount)) for i in rendered.context.get("schedule", ())),
    )
    raw = rendered.files[f"{stage}.eml"]
    own = dispatcher is None
    d = dispatcher or Dispatcher(smtp or mail.smtp_config(), retries=1, backoff=1.0)
    try:
        result = d.deliver(case.root, raw, rendered.sender, [rendered.recipient], entry=entry, force=force)
    finally:
        if own:
            d.close()
    if result.status == "failed":
        raise DeliveryError(f"{d.where}: server refused the message: {result.reply}")
    if result.status == "not-sent":
        raise DeliveryError(f"{d.where}: cannot deliver: {result.reply}")
    if result.status == "unknown":
        raise DeliveryError(
            f"{d.where}: delivery unknown: {result.reply}; {journal.journal_path(case)} records it "
            "and it will not be sent again "
            "without --force: check the mailbox's sent folder first"
        )
    return Written(stage, tuple(paths), result.entry, True)


def _record(case: Case, stage: str, at: date, status: str, channel: str, rendered: Rendered, paths, options):

    return journal.record(
        case,
        journal.JournalEntry(
            stage=stage,
            date=at,
            channel=channel,
            status=status,
            recipient=rendered.recipient if channel == "email" else case.debtor.name,
            files=tuple(journal.file_entry(case, p) for p in paths),
            message_id=rendered.message_id if channel == "email" and status == "sent" else None,
            invoices=rendered.invoices,
            amount=rendered.total,
            lrar_number=options.lrar_number if channel == "lrar" else None,
            schedule=tuple((i.due, str(i.amount)) for i in rendered.context.get("schedule", ())),
        ),
    )


def write_all_stages(state: CaseState, out_dir: Path, *, options: LetterOptions = LetterOptions()) -> list[Path]:
    """Every letter stage's documents for the case snapshot ``state`` into ``out_dir``
    (for ``dossier demo``): nothing is recorded in the journal, nothing is sent, and a file
    the journal records as sent is never overwritten (:class:`JournalError`). A stage with
    nothing to claim on that date is skipped."""

    case = state.filed
    out: list[Path] = []
    formats = FORMATS if case.debtor.email and case.creditor.email else ("pdf", "docx")
    for stage in LETTER_STAGES:
        try:
            rendered = render_stage(state, stage, options=options, formats=formats)
        except DossierError as e:
            if "nothing to claim" in str(e):
                continue
            raise
        # never over a sent file; the stage's files all together or none
        out += write_set({journal.guard_output(case, Path(out_dir) / n): d for n, d in rendered.files.items()}, case=case)
    return out
