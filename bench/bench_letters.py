"""Letter rendering times: one letter cold (fresh process: imports, fonts, first layout)
and warm per-letter (same process, shared FontConfiguration).

    python bench/bench_letters.py [CASE] [--at DATE] [-n N]

Prints figures; not a timed test. Target: cold < 1 s for a single letter.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD = r"""
import sys, time
t0 = time.perf_counter()
from datetime import date
from dossier.law.rates import load_rates
from dossier.snapshot import open_case
from dossier.letters import render_stage
t1 = time.perf_counter()
state = open_case(sys.argv[1], date.fromisoformat(sys.argv[2]), load_rates(user_file=False))
r = render_stage(state, sys.argv[3], formats=("pdf",))
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t2 - t0:.3f}")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case", nargs="?", default=str(ROOT / "samples" / "atelier-martin"))
    ap.add_argument("--at", default="2026-06-15")
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()

    import ctypes.util

    print(f"harfbuzz-subset: {ctypes.util.find_library('harfbuzz-subset') or 'NOT FOUND'}")
    for stage in ("relance-1", "mise-en-demeure"):
        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", COLD, args.case, args.at, stage], capture_output=True,
                                 text=True, check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).stdout.split()
            runs.append(tuple(float(x) for x in out))
        best = min(runs, key=lambda r: r[2])
        print(f"cold {stage:16s} (pdf only, fresh process, best of 3): imports {best[0]:.3f} s + render {best[1]:.3f} s = {best[2]:.3f} s")

    from dossier.law.rates import load_rates
    from dossier.letters import render_stage
    from dossier.snapshot import open_case

    at = date.fromisoformat(args.at)
    state = open_case(args.case, at, load_rates(user_file=False))
    from dossier.render import pdf as pdfmod

    render_stage(state, "relance-1")  # warm up
    for formats in (("pdf",), ("pdf", "docx", "eml")):
        for stage in ("relance-1", "mise-en-demeure"):
            total = 0.0
            for _ in range(args.n):
                pdfmod._cache.clear()  # measure real renders, not the in-process cache
                t = time.perf_counter()
                render_stage(state, stage, formats=formats)
                total += time.perf_counter() - t
            print(f"warm {stage:16s} {'+'.join(formats):13s}: {total / args.n * 1000:.0f} ms per letter (n={args.n}, no cache)")

    import tempfile

    from dossier.letters import write_all_stages

    pdfmod._cache.clear()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        paths = write_all_stages(state, Path(tmp))
        dt = time.perf_counter() - t
    print(f"all six stages, every format ({len(paths)} files, warm process): {dt:.2f} s")


if __name__ == "__main__":
    main()
