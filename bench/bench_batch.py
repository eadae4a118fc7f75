"""The daily batch's rendering speed, against a floor run in the same script.

    python bench/bench_batch.py [-n LETTERS] [--pairs 5] [--jobs 1,2]

A portfolio of N cases whose debtors have no email address, each due for a relance-1 on
paper: the batch renders N letters (`dossier.batch.render_all`, warmed-up forked workers).
The floor is a bare WeasyPrint loop (`HTML(string=…).write_pdf()`, one shared font
configuration) over exactly the same HTML, in the same number of forked processes. Each
(floor, batch) pair runs interleaved; the medians of the pairs are printed, with the ratio
batch/floor throughput and the scaling from 1 to 2 workers. The peak memory (max RSS) of a
worker is printed for N and for N/10 letters: it should stay flat.

Prints figures; not a timed test. Targets: batch throughput >= 0.9 x the floor's with the
same number of processes, >= 1.8x from 1 to 2 workers, 30 letters/s on 2 cores, a worker's
peak memory under 150 MB and flat from 100 to 1,000 letters.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
AT = date(2026, 6, 15)


def portfolio(root: Path, n: int) -> Path:
    from helpers import make_portfolio

    # every case due for relance-1 (stage index 1 of the sample ladder), no email: paper
    pf = make_portfolio(root, n * 6, no_email_every=1)
    for folder in sorted(p for p in pf.iterdir() if p.is_dir()):
        if int(folder.name[1:]) % 6 != 1:  # case Ck is at stage k % 6 of the sample ladder
            import shutil

            shutil.rmtree(folder)
    return pf


def capture_html(pf: Path, rates) -> list[tuple[str, str]]:
    """The HTML (and base URL) of every letter, as the batch hands it to WeasyPrint."""
    from dossier.letters import render_stage
    from dossier.render import pdf as pdfmod
    from dossier.snapshot import open_case

    seen: list[tuple[str, str]] = []
    real = pdfmod._render

    def spy(html, base_url, metadata, stylesheets, attachments):
        seen.append((html, base_url))
        return b"%PDF-"

    pdfmod._render = spy
    try:
        for folder in sorted(p for p in pf.iterdir() if (p / "case.yaml").is_file()):
            render_stage(open_case(folder, AT, rates), "relance-1", formats=("pdf",))
    finally:
        pdfmod._render = real
        pdfmod._cache.clear()
    return seen


_HTML: list = []


def _bare(i: int) -> int:
    from weasyprint import HTML

    from dossier.render.pdf import _shared

    fc, font_css = _shared()
    html, base = _HTML[i]
    return len(HTML(string=html, base_url=base).render(font_config=fc, stylesheets=[font_css]).write_pdf())


def _maxrss(_: int) -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def floor(jobs: int) -> float:
    _bare(0)  # warm the parent (fonts, first layout) before forking, as the batch does
    t = time.perf_counter()
    if jobs == 1:
        for i in range(len(_HTML)):
            _bare(i)
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            list(pool.imap_unordered(_bare, range(len(_HTML)), chunksize=4))
    return time.perf_counter() - t


def batch(pf: Path, jobs: int, rates) -> tuple[float, int]:
    from dossier import batch as b

    options = b.RunOptions(at=AT, jobs=jobs)
    plan = b.plan_run(pf, options, rates)
    t = time.perf_counter()
    n = sum(1 for r in b.render_all(plan, options, rates) if not r.error)
    return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--jobs", default="1,2")
    args = ap.parse_args()
    from dossier.law.rates import load_rates

    rates = load_rates(user_file=False)
    with tempfile.TemporaryDirectory() as tmp:
        pf = portfolio(Path(tmp) / "pf", args.n)
        _HTML[:] = capture_html(pf, rates)
        print(f"{len(_HTML)} relance-1 letters on paper")
        results = {}
        for jobs in (int(x) for x in args.jobs.split(",")):
            pairs = []
            for p in range(args.pairs):
                f = floor(jobs)
                bt, n = batch(pf, jobs, rates)
                assert n == len(_HTML), (n, len(_HTML))
                pairs.append((f, bt))
                print(f"  jobs={jobs} pair {p + 1}: bare WeasyPrint {len(_HTML) / f:.1f} letters/s, "
                      f"batch {n / bt:.1f} letters/s", flush=True)
            f = statistics.median(x[0] for x in pairs)
            bt = statistics.median(x[1] for x in pairs)
            ratio = statistics.median(x[0] / x[1] for x in pairs)
            results[jobs] = len(_HTML) / bt
            print(f"jobs={jobs}: floor {len(_HTML) / f:.1f} letters/s, batch {len(_HTML) / bt:.1f} letters/s, "
                  f"batch/floor throughput {ratio:.2f} (median of {args.pairs} pairs)")
        if 1 in results and 2 in results:
            print(f"scaling 1 -> 2 workers: {results[2] / results[1]:.2f}x")
        # a worker's peak memory: N/10 letters, then N letters
        for n in (max(1, len(_HTML) // 10), len(_HTML)):
            from dossier import batch as b

            with multiprocessing.get_context("fork").Pool(1) as pool:
                options = b.RunOptions(at=AT, jobs=1)
                plan = b.plan_run(pf, options, rates)[:n]
                tasks = [(d.folder, d.stage, d.email, d.paper, AT, False, None, d.state) for d in plan]
                b._RATES = rates
                list(pool.imap(b._render_in_worker, tasks))
                rss = pool.apply(_maxrss, (0,))
            print(f"worker peak memory after {n} letters: {rss} MB")


if __name__ == "__main__":
    main()
