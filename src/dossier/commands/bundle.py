"""``dossier bundle``: the court or bailiff dossier as one indexed PDF (thin CLI layer over
:func:`dossier.bundle.write_bundle`)."""

from __future__ import annotations

import re

import click

from dossier.commands.common import at_option, case_argument, rates_option, resolve_at

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


class ByteSize(click.ParamType):
    """A file size: 10MB, 9.5M, 800K, 7MiB or a number of bytes."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        m = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        unit = m.group(2).lower() if m else ""
        if not m or unit not in _UNITS:
            self.fail(f"{value!r} is not a size (examples: 10MB, 9.5M, 800K, 7MiB)", param, ctx)
        size = int(float(m.group(1).replace(",", ".")) * _UNITS[unit])
        if size < 10_000:
            self.fail(f"{value!r} is too small for a dossier (at least 10K)", param, ctx)
        return size


def _set_evidence_limit(size: int | None) -> None:
    from dossier.limits import set_max_evidence_size

    set_max_evidence_size(size)


def _human(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    return f"{n / 1000:.0f} KB"


@click.command("bundle")
@case_argument
@at_option
@click.option("--for", "purpose", type=click.Choice(["court", "bailiff"]), default="court", show_default=True,
              help="court: requête en injonction de payer; bailiff: procédure simplifiée de recouvrement "
                   "des petites créances (claims up to 5,000 EUR).")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="PDF file or folder to write to (default: CASE/out/<reference>-dossier-<procedure>.pdf). "
                   "For court, the requête is also written as DOCX next to it.")
@click.option("--max-size", type=ByteSize(), default=None,
              help="Largest acceptable PDF (e-filing limits), e.g. 10MB: scans are re-encoded at lower "
                   "resolutions until the dossier fits.")
@click.option("--max-evidence-size", type=ByteSize(), default=None, expose_value=False,
              callback=lambda _ctx, _param, v: _set_evidence_limit(v),
              help="Largest evidence file read (default 200MB, or $DOSSIER_MAX_EVIDENCE_SIZE): a larger one "
                   "stops the dossier (exit 2) before it is read.")
@click.option("--duplex", is_flag=True,
              help="For double-sided printing: blank pages so that every section and exhibit starts on a "
                   "right-hand page.")
@click.option("--no-docx", is_flag=True, help="Do not write the requête (or the petites-créances letter) as DOCX.")
@click.option("--force", is_flag=True,
              help="If the journal records this dossier as sent (filed), write the new one under a new name "
                   "(….v2.pdf) instead of stopping.")
@rates_option
def bundle(case: str, at, purpose: str, output: str | None, max_size: int | None, duplex: bool, no_docx: bool,
           force: bool, rates_files: tuple[str, ...]) -> None:
    """The dossier for the court or the commissaire de justice, as one PDF.

    In order: cover page; the requête en injonction de payer (CPC art. 1407) or the cover
    letter to the commissaire de justice; the bordereau de pièces; a clickable table of
    contents; then every exhibit (contract documents, invoices, notices, proofs of
    receipt), each page stamped "Pièce n° X — p. y/z" and numbered "N / M", with
    bookmarks. Evidence may be PDF, JPEG/PNG/TIFF scans or .eml emails. Same inputs and
    --at date, byte-identical PDF. Bad evidence: exit 2 and nothing written. What is
    written is recorded in CASE/journal.jsonl (status "generated").
    """
    from dossier.bundle import write_bundle
    from dossier.law.rates import load_rates
    from dossier.snapshot import open_case

    at = resolve_at(at)
    if output is not None:  # not a device, a socket, a file under a file: refused before any work
        from dossier.outputs import check_target

        check_target(output)
    state = open_case(case, at, load_rates(rates_files))
    result, pdf_path, docx_path = write_bundle(
        state, purpose=purpose, output=output, max_size=max_size, with_docx=not no_docx,
        duplex=duplex, record=True, force=force,
    )
    for w in list(result.statement.warnings) + list(result.warnings):
        click.echo(f"warning: {w}", err=True)
    if purpose == "court" and result.court is not None and result.court.check:
        click.echo(f"note: court to check: {result.court.kind_label} for {result.court.postal_code} "
                   f"{result.court.town} (set `court:` in case.yaml to name it)", err=True)
    n = len(result.exhibits)
    click.echo(f"{pdf_path}: {result.pages} pages, {_human(result.size)}, {n} exhibit{'s' if n != 1 else ''}, "
               f"total claimed {_money(result.statement.total)}")
    if result.downsampled_to_dpi:
        click.echo(f"  scans reduced to {result.downsampled_to_dpi} dpi to fit --max-size {_human(max_size or 0)}")
    if docx_path is not None:
        click.echo(f"{docx_path}: the {'requête' if purpose == 'court' else 'letter to the commissaire de justice'} as DOCX")


def _money(x) -> str:
    from dossier.fmt import money

    return money(x)
