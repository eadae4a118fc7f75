"""Benchmarks for the foundation: CLI start-up and the décompte on a large case.

Prints figures; targets: `dossier --help` < 0.3 s; compute on 1,000 invoices.
Run: python bench/bench_core.py   (or ./dev bench)
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def time_cmd(args: list[str], runs: int = 7) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def make_case(folder: Path, n: int) -> None:
    rnd = random.Random(1)
    lines = [
        "reference: BENCH-1000",
        "creditor:",
        "  name: Atelier Martin",
        '  siren: "732829320"',
        '  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon}',
        "  bank: {iban: FR7630006000011234567890189, bic: AGRIFRPP}",
        "debtor:",
        "  kind: company",
        "  name: Grossiste Rhône",
        '  siren: "552100554"',
        '  address: {lines: ["3 place Bellecour"], postal_code: "69002", city: Lyon}',
        "invoices:",
    ]
    start = date(2023, 1, 2)
    for i in range(n):
        issued = start + timedelta(days=i % 900)
        amount = f"{rnd.randint(100, 90000) / 100:.2f}"
        lines.append(f'  - {{number: F{i:05d}, issued: {issued}, due: {issued + timedelta(days=30)}, amount_incl_tax: "{amount}"}}')
    lines.append("payments:")
    for i in range(n // 2):
        d = start + timedelta(days=60 + i % 1000)
        # an invoice issued by then: F0j is issued j % 900 days after the start
        inv = f", invoice: F{rnd.randrange(min(n, (d - start).days + 1)):05d}" if i % 3 else ""
        lines.append(f'  - {{date: {d}, amount: "{rnd.randint(100, 50000) / 100:.2f}"{inv}}}')
    (folder / "case.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    exe = [sys.executable, "-m", "dossier.cli"]
    helps = time_cmd(exe + ["--help"])
    print(f"dossier --help: median {statistics.median(helps) * 1000:.0f} ms, min {min(helps) * 1000:.0f} ms (target < 300 ms)")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "big"
        folder.mkdir()
        make_case(folder, 1000)
        env = dict(os.environ, DOSSIER_RATES_FILE=str(Path(tmp) / "none.csv"))
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            p = subprocess.run(exe + ["compute", str(folder), "--at", "2026-06-15", "--json"], capture_output=True, env=env)
            runs.append(time.perf_counter() - t)
            assert p.returncode == 0, p.stderr.decode()
        print(f"dossier compute, 1,000 invoices + 500 payments (CLI, JSON): median {statistics.median(runs):.2f} s")

        from dossier.casefile import load_case
        from dossier.law.penalties import compute_statement
        from dossier.law.rates import load_rates

        t = time.perf_counter()
        case = load_case(folder, date(2026, 6, 15))
        t_load = time.perf_counter() - t
        rates = load_rates(user_file=False)
        t = time.perf_counter()
        st = compute_statement(case, date(2026, 6, 15), rates)
        t_comp = time.perf_counter() - t
        lines = sum(len(i.periods) for i in st.invoices)
        print(f"  in-process: load+validate {t_load:.2f} s, compute {t_comp:.2f} s ({lines} period lines, total {st.total} EUR)")


if __name__ == "__main__":
    main()
