"""Benchmark: bundle a ~300-page court dossier, beside a bare pypdf merge-and-stamp of the
same evidence files, in the same run.

    python bench/bench_bundle.py [--pages 300] [--repeat 3]

Each variant runs in a fresh subprocess (so peak memory is its own), with its imports
done before the clock starts; the figures are the best of ``--repeat`` runs (time) and
the peak resident memory of the process (ru_maxrss; the dossier's background process is
reported apart).

- **dossier**: ``build_bundle`` — evidence loading and checks, EXIF/scan handling, page
  normalisation, stamps, page numbers, cover + requête typeset by WeasyPrint (in a
  background process on a multi-core Linux machine), bordereau + table of contents drawn
  directly (laid out until page numbers are stable), links, outline.
- **bare pypdf**: ``PdfWriter.append`` of every PDF, each scan turned into a PDF page by
  Pillow, then ``merge_page`` of a per-page stamp overlay (same text) — what a short
  script would do, with no front matter, no normalisation and no checks.

Target: dossier within 1.5x of the bare merge.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

CASE = """\
reference: BENCH-300
creditor:
  name: Atelier Martin
  legal_form: SARL
  capital: "10000"
  siren: "732829320"
  rcs_city: Lyon
  address: {{lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon, country: FR}}
  signatory: {{name: Claire Martin, title: Gérante}}
debtor:
  kind: company
  name: Maison Vercors
  legal_form: SAS
  siren: "539749960"
  address: {{lines: ["5 place Grenette"], postal_code: "38000", city: Grenoble, country: FR}}
terms: {{payment_days: 30, flat_indemnity: true}}
invoices:
{invoices}exhibits:
{exhibits}"""


def make_case(folder: Path, target_pages: int) -> tuple[Path, int]:
    """A case whose exhibits total about ``target_pages`` pages: real sample invoices and
    quotes (WeasyPrint PDFs with embedded fonts), 150 dpi JPEG scans, long generated
    contracts, landscape and A3 plans, rotated pages."""
    import make_awkward as mk

    pieces = folder / "pieces"
    pieces.mkdir(parents=True)
    real = sorted((SAMPLES / "atelier-martin" / "pieces").glob("*.pdf")) + sorted(
        (SAMPLES / "studio-graphique" / "pieces").glob("*.pdf"))
    scan = SAMPLES / "atelier-martin" / "pieces" / "bon-de-commande-BC-2025-031.jpg"
    invoices, exhibits, pages, i = [], [], 0, 0
    contract = mk.pdf_pages([(mk.A4, f"CONTRAT page {n}") for n in range(1, 21)])
    plan = mk.pdf_pages([((mk.A4[1], mk.A4[0]), "PLAN paysage"), (mk.A3, "PLAN A3")])
    rotated = mk.pdf_pages([(mk.A4, "ROTATED")] * 2, rotate=90)
    from pypdf import PdfReader

    while pages < target_pages:
        i += 1
        kind = i % 8
        if kind == 0:
            data, ext, n, k = contract, "pdf", 20, "contrat"
        elif kind == 1:
            data, ext, n, k = scan.read_bytes(), "jpg", 1, "bon-de-commande"
        elif kind == 2:
            data, ext, n, k = plan, "pdf", 2, "bon-de-livraison"
        elif kind == 3:
            data, ext, n, k = rotated, "pdf", 2, "correspondance"
        else:
            src = real[i % len(real)]
            data, ext = src.read_bytes(), "pdf"
            n, k = len(PdfReader(src).pages), "autre"
        name = f"piece-{i:03d}.{ext}"
        (pieces / name).write_bytes(data)
        if k == "autre" and i % 3 == 0:
            invoices.append(f'  - {{number: F-{i:03d}, issued: 2026-01-05, due: 2026-02-04, '
                            f'amount_incl_tax: "100.00", file: pieces/{name}}}\n')
        else:
            exhibits.append(f'  - {{kind: {k}, title: "Pièce de test {i}", date: 2026-01-02, file: pieces/{name}}}\n')
        pages += n
    if not invoices:
        invoices.append('  - {number: F-000, issued: 2026-01-05, due: 2026-02-04, amount_incl_tax: "100.00"}\n')
    (folder / "case.yaml").write_text(CASE.format(invoices="".join(invoices), exhibits="".join(exhibits)), encoding="utf-8")
    return folder, pages


CHILD = r"""
import json, resource, sys, time, io
from datetime import date
variant, case_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, {fixtures!r})
if variant == "dossier":
    from dossier.snapshot import open_case
    from dossier.law.rates import load_rates
    from dossier.bundle import build_bundle
    import weasyprint, pypdf, PIL.Image  # imports before the clock
    import dossier.bundle.assemble as A
    import dossier.bundle.background as B
    parts = {{}}
    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - t0
        return wrapper
    A.load_all = timed("load evidence", A.load_all)
    A.place_exhibit = timed("normalise + stamp exhibits", A.place_exhibit)
    B.Background.result = timed("wait for cover + requête", B.Background.result)
    A.index_pages = timed("bordereau + table of contents", A.index_pages)
    A._write_pdf = timed("number, link, outline, write", A._write_pdf)
    at = date(2026, 6, 15)
    t = time.perf_counter()
    r = build_bundle(open_case(case_dir, at, load_rates()), with_docx=False)
    pdf, pages = r.pdf, r.pages
else:
    parts = {{}}
    import yaml, pypdf, PIL.Image
    from pathlib import Path
    from pypdf import PdfReader, PdfWriter
    from dossier.bundle import stamp as st
    t = time.perf_counter()
    data = yaml.safe_load(open(Path(case_dir) / "case.yaml", encoding="utf-8"))
    files = [x["file"] for x in data["exhibits"]] + [x["file"] for x in data["invoices"] if x.get("file")]
    w = PdfWriter()
    starts = []
    for f in files:
        p = Path(case_dir) / f
        if p.suffix == ".jpg":
            buf = io.BytesIO()
            PIL.Image.open(p).save(buf, "PDF", resolution=150)
            src = PdfReader(buf)
        else:
            src = PdfReader(p)
        starts.append((len(w.pages), len(src.pages)))
        w.append(src)
    total = len(w.pages)
    font = {{"/F": "Helvetica"}}
    from pypdf.generic import DictionaryObject, NameObject, DecodedStreamObject
    n = 0
    for number, (first, count) in enumerate(starts, start=1):
        for k in range(count):
            page = w.pages[first + k]
            n += 1
            sheet = (float(page.mediabox.width), float(page.mediabox.height))
            overlay = pypdf.PageObject.create_blank_page(None, *sheet)
            s = DecodedStreamObject()
            s.set_data(st.exhibit_stamp(sheet, number, k + 1, count) + st.page_number(sheet, n, total))
            overlay[NameObject("/Contents")] = s
            overlay[NameObject("/Resources")] = DictionaryObject({{NameObject("/Font"): DictionaryObject({{
                NameObject(st.FONT_REGULAR): DictionaryObject({{NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"), NameObject("/BaseFont"): NameObject("/Helvetica")}}),
                NameObject(st.FONT_BOLD): DictionaryObject({{NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"), NameObject("/BaseFont"): NameObject("/Helvetica-Bold")}}),
            }})}})
            page.merge_page(overlay)
    buf = io.BytesIO()
    w.write(buf)
    pdf, pages = buf.getvalue(), total
elapsed = time.perf_counter() - t
open(out, "wb").write(pdf)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"seconds": elapsed, "pages": pages, "bytes": len(pdf), "peak_rss_mb": me.ru_maxrss / 1024,
                  "child_rss_mb": kids.ru_maxrss / 1024, "parts": parts}}))
"""


def run(variant: str, case_dir: Path, out: Path) -> dict:
    code = CHILD.format(fixtures=str(ROOT / "tests" / "fixtures"))
    proc = subprocess.run([sys.executable, "-c", code, variant, str(case_dir), str(out)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=300, help="approximate dossier size in pages")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dossier-bench-"))
    try:
        case_dir, exhibit_pages = make_case(tmp / "case", args.pages - 8)
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for variant in ("bare", "dossier"):
                r = run(variant, case_dir, tmp / f"{variant}.pdf")
                if variant not in best or r["seconds"] < best[variant]["seconds"]:
                    best[variant] = r
                else:
                    best[variant]["peak_rss_mb"] = max(best[variant]["peak_rss_mb"], r["peak_rss_mb"])
        print(f"evidence: {exhibit_pages} exhibit pages; best of {args.repeat} runs, each in a fresh process")
        print(f"{'variant':<34}{'pages':>6}{'time s':>9}{'peak RSS MB':>13}{'size MB':>9}")
        labels = {"bare": "bare pypdf merge + stamp", "dossier": "dossier build_bundle (court)"}
        for v in ("bare", "dossier"):
            r = best[v]
            print(f"{labels[v]:<34}{r['pages']:>6}{r['seconds']:>9.2f}{r['peak_rss_mb']:>13.0f}{r['bytes'] / 1e6:>9.2f}")
        d, b = best["dossier"], best["bare"]
        ratio = d["seconds"] / b["seconds"]
        print(f"time ratio dossier / bare: {ratio:.2f}x (target <= 1.5x)")
        print("  dossier, where the time goes (the cover and requête are typeset by WeasyPrint in a background "
              "process meanwhile):")
        for name, secs in d["parts"].items():
            print(f"    {name:<32}{secs:>6.2f} s")
        print(f"memory ratio dossier / bare: {d['peak_rss_mb'] / b['peak_rss_mb']:.2f}x "
              f"(the background process peaked at {d['child_rss_mb']:.0f} MB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
