"""Scale: a case with 20, 200, 2,000 (and 10,000) invoices.

Prints figures; not a timed test (the machine is shared and noisy, so every figure is a
ratio against a floor measured in the same run, interleaved, median of several pairs):

- ``check`` and ``compute`` on 10,000 invoices against the time to compose the case's YAML
  with libyaml (the floor no loader can beat): target ≤ 5 ×;
- growth of compute's time and peak memory from 1,000 to 10,000 invoices (linear: ≈ 10 ×);
- every letter stage (PDF, DOCX, email) and the court dossier for 2,000 invoices: they
  complete, with their time;
- a 20,000-character debtor name and exhibit title: the dossier completes.

    python bench/bench_scale.py [--quick]     (or ./dev bench)
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

AT = date(2026, 6, 15)


def mini_pdf(label: str) -> bytes:
    """A one-page A4 PDF saying ``label`` (a stand-in for a scanned invoice)."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    page = w.add_blank_page(595, 842)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): w._add_object(font)})})
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 24 Tf 72 760 Td ({label}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = w._add_object(content)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def make_case(folder: Path, n: int, *, files: int = 0, long_name: int = 0) -> Path:
    """A B2B case with ``n`` invoices, n/2 payments (a third of them unallocated), n/20
    credit notes; the first ``files`` invoices have a PDF; ``long_name``: length of the
    debtor's name and of one exhibit's title."""
    rnd = random.Random(n)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pieces").mkdir(exist_ok=True)
    # the debtor's name must fit the envelope window (2 lines of 38 characters): the long
    # text is the exhibit's title
    name = "Grossiste Rhône"
    lines = [
        f"reference: BENCH-{n}",
        "creditor:",
        "  name: Atelier Martin",
        "  legal_form: SARL",
        '  siren: "732829320"',
        '  siret: "73282932000017"',
        "  rcs_city: Lyon",
        '  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon}',
        "  email: compta@atelier-martin.example",
        "  signatory: {name: Claire Martin, title: Gérante}",
        "  bank: {iban: FR7630006000011234567890189, bic: AGRIFRPP}",
        "debtor:",
        "  kind: company",
        f'  name: "{name}"',
        "  legal_form: SAS",
        '  siren: "552100554"',
        "  representative: {name: Paul Dupont, title: Président}",
        '  address: {lines: ["3 place Bellecour"], postal_code: "69002", city: Lyon}',
        "  email: compta@grossiste.example",
        "terms: {payment_days: 30, flat_indemnity: true}",
        "invoices:",
    ]
    start = date(2024, 1, 2)
    for i in range(n):
        issued = start + timedelta(days=(i * 700) // max(n, 1))
        amount = f"{rnd.randint(10000, 900000) / 100:.2f}"
        f = ""
        if i < files:
            (folder / "pieces" / f"F{i:05d}.pdf").write_bytes(mini_pdf(f"Facture F{i:05d}"))
            f = f", file: pieces/F{i:05d}.pdf"
        lines.append(f'  - {{number: F{i:05d}, issued: {issued}, due: {issued + timedelta(days=30)}, amount_incl_tax: "{amount}"{f}}}')
    lines.append("payments:")
    for i in range(n // 2):
        d = start + timedelta(days=40 + (i * 800) // max(n // 2, 1))
        # a designated payment names an invoice issued by then (check refuses one paid before)
        issued_by_then = min(n, ((min(d, AT) - start).days * max(n, 1)) // 700 + 1)
        inv = f", invoice: F{rnd.randrange(issued_by_then):05d}" if i % 3 else ""
        lines.append(f'  - {{date: {min(d, AT)}, amount: "{rnd.randint(1000, 50000) / 100:.2f}"{inv}}}')
    if n >= 20:
        lines.append("credit_notes:")
        for i in range(n // 20):
            d = start + timedelta(days=45 + (i * 700) // max(n // 20, 1))
            lines.append(f'  - {{number: AV{i:04d}, date: {min(d, AT)}, amount: "{rnd.randint(100, 2000) / 100:.2f}", invoice: F{(i * 20) % n:05d}}}')
    (folder / "pieces" / "devis.pdf").write_bytes(mini_pdf("Devis"))
    title = ("Devis signé " * (long_name // 12 + 1))[:long_name] if long_name else "Devis signé"
    lines += ["exhibits:", f'  - {{kind: devis, title: "{title}", date: 2023-12-01, file: pieces/devis.pdf}}']
    (folder / "case.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _floor(folder: Path) -> float:
    import yaml

    text = (folder / "case.yaml").read_text(encoding="utf-8")
    t = time.perf_counter()
    yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return time.perf_counter() - t


def _timed(fn) -> float:
    gc.collect()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def ratios(folder: Path, pairs: int) -> None:
    from dossier.casefile import check_case, load_case
    from dossier.law.penalties import compute_statement
    from dossier.law.rates import load_rates

    rates = load_rates(user_file=False)
    case = load_case(folder, AT)
    check_r, compute_r, floors = [], [], []
    for _ in range(pairs):
        f = _floor(folder)
        floors.append(f)
        check_r.append(_timed(lambda: check_case(folder, AT)) / f)
        f2 = _floor(folder)
        compute_r.append(_timed(lambda: compute_statement(case, AT, rates)) / f2)
    n = len(case.invoices)
    print(f"{n:>6} invoices: YAML floor {statistics.median(floors):.3f} s; "
          f"check {statistics.median(check_r):.1f} x floor, compute {statistics.median(compute_r):.1f} x floor (target <= 5 x)")


def growth(tmp: Path, pairs: int) -> None:
    from dossier.casefile import load_case
    from dossier.law.penalties import compute_statement
    from dossier.law.rates import load_rates

    rates = load_rates(user_file=False)
    small = load_case(make_case(tmp / "g1k", 1000), AT)
    big = load_case(make_case(tmp / "g10k", 10000), AT)
    times = []
    for _ in range(pairs):
        a = _timed(lambda: compute_statement(small, AT, rates))
        b = _timed(lambda: compute_statement(big, AT, rates))
        times.append(b / a)
    mem = []
    for c in (small, big):
        tracemalloc.start()
        compute_statement(c, AT, rates)
        mem.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # the work also depends on the décompte's size: the generated 10k case has more invoices
    # per due date, so each unallocated payment is shared pro rata over more of them
    lines = []
    for c in (small, big):
        st = compute_statement(c, AT, rates)
        lines.append(sum(len(i.periods) + len(i.reductions) for i in st.invoices) + len(c.invoices))
    out = lines[1] / lines[0]
    print(f"compute 1k -> 10k invoices: time x {statistics.median(times):.1f}, peak memory x {mem[1] / mem[0]:.1f} "
          f"({mem[0] / 1e6:.1f} MB -> {mem[1] / 1e6:.1f} MB); décompte lines x {out:.1f} ({lines[0]} -> {lines[1]}): "
          f"per line, time x {statistics.median(times) / out:.2f}, memory x {mem[1] / mem[0] / out:.2f} (linear: about 1)")


def documents(tmp: Path, n: int, *, long_name: int = 0, files: int = 0) -> None:
    from dossier.bundle import build_bundle
    from dossier.law.rates import load_rates
    from dossier.letters import render_stage
    from dossier.snapshot import open_case

    folder = make_case(tmp / f"docs-{n}-{long_name}", n, long_name=long_name, files=files)
    rates = load_rates(user_file=False)
    state = open_case(folder, AT, rates)
    label = f"{n} invoices" + (f", a {long_name}-character exhibit title" if long_name else "")
    for stage in ("relance-1", "relance-2", "echeancier", "dernier-avis", "mise-en-demeure"):
        t = time.perf_counter()
        r = render_stage(state, stage)
        sizes = ", ".join(f"{k.rsplit('.', 1)[1]} {len(v) // 1024} KB" for k, v in r.files.items())
        print(f"  {label}: {stage}: {time.perf_counter() - t:.1f} s ({sizes})")
        sys.stdout.flush()
    t = time.perf_counter()
    b = build_bundle(state, purpose="court")
    print(f"  {label}: dossier (injonction de payer): {time.perf_counter() - t:.1f} s, {b.pages} pages, "
          f"{len(b.pdf) // 1024} KB PDF, {len(b.docx or b'') // 1024} KB requête DOCX")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer pairs, no 2,000-invoice documents")
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()
    pairs = 3 if args.quick else max(5, args.pairs)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for n in (20, 200, 2000, 10000):
            ratios(make_case(tmp / f"r{n}", n), pairs)
        growth(tmp, pairs)
        documents(tmp, 20, long_name=1000)  # the longest value a case file may hold
        if not args.quick:
            documents(tmp, 2000, files=200)


if __name__ == "__main__":
    main()
