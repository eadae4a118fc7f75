"""Benchmark: import a 100,000-line FEC into a portfolio, rerun it, and the balance âgée
over 1,000 cases.

    python bench/bench_imports.py [--lines 100000] [--cases 1000] [--repeat 3]

Figures (best of ``--repeat``):

- **floor**: reading the same FEC with the stdlib csv module (split into fields, nothing
  else) — the least any reader does;
- **read_fec**: decoding, column checks, customer lines, lettering groups, open items;
- **import (new)**: read + plan + writing every case folder (imported.yaml, case.yaml);
- **import (rerun)**: the same file again into the filled portfolio (nothing changes);
- **report**: ``portfolio_ageing`` over ``--cases`` cases (each case's layers, journal,
  décompte and next step) and the HTML page.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dossier.imports.fec import COLUMNS, read_fec  # noqa: E402
from dossier.imports.merge import apply_plan, plan_import  # noqa: E402
from dossier.portfolio import load_portfolio  # noqa: E402

PORTFOLIO = """\
creditor:
  name: Atelier Martin
  legal_form: SARL
  siren: "732829320"
  address: {lines: ["12 rue de la Paix"], postal_code: "69002", city: Lyon}
  email: compta@atelier.example
terms:
  default_payment_days: 30
"""


def make_fec(lines: int, customers: int, seed: int = 7) -> str:
    """A FEC of ``lines`` lines: sales (customer + revenue line), bank payments lettered
    with their invoice (most settled, some partial), unlettered invoices left open."""
    rnd = random.Random(seed)
    out = ["\t".join(COLUMNS)]
    entry = 0
    start = date(2025, 1, 1)
    while len(out) - 1 < lines:
        entry += 1
        c = rnd.randrange(customers)
        d = start + timedelta(days=rnd.randrange(430))
        ds = d.strftime("%Y%m%d")
        amount = rnd.randrange(5_000, 500_000)
        let = f"L{entry}" if rnd.random() < 0.8 else ""
        cust = [f"C{c:05d}", f"Client {c:05d} SAS"]
        out.append("\t".join(["VE", "Ventes", str(entry), ds, "411000", "Clients", *cust, f"F{entry:07d}", ds,
                              f"Facture F{entry:07d}", f"{amount / 100:.2f}".replace(".", ","), "0,00", let, "", ds, "", ""]))
        out.append("\t".join(["VE", "Ventes", str(entry), ds, "706000", "Prestations", "", "", f"F{entry:07d}", ds,
                              f"Facture F{entry:07d}", "0,00", f"{amount / 100:.2f}".replace(".", ","), "", "", ds, "", ""]))
        if let:
            paid = amount if rnd.random() < 0.9 else amount // 2
            pd = (d + timedelta(days=rnd.randrange(10, 90))).strftime("%Y%m%d")
            out.append("\t".join(["BQ", "Banque", f"B{entry}", pd, "411000", "Clients", *cust, "VIR", pd,
                                  "Virement reçu", "0,00", f"{paid / 100:.2f}".replace(".", ","), let, pd, pd, "", ""]))
    return "\n".join(out[: lines + 1]) + "\n"


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    try:
        fec = tmp / "732829320FEC20261231.txt"
        fec.write_text(make_fec(args.lines, args.cases), encoding="utf-8")

        def floor():
            return sum(1 for _ in csv.reader(io.StringIO(fec.read_text(encoding="utf-8")), delimiter="\t"))

        t_floor, _ = best(floor, args.repeat)
        t_read, result = best(lambda: read_fec(fec, 30), args.repeat)
        open_items = sum(1 for d in result.debtors for i in d.invoices if not i.settled)
        print(f"FEC of {args.lines} lines, {len(result.debtors)} customers, {open_items} open invoices")
        print(f"  floor (csv module)   {t_floor:7.3f} s")
        print(f"  read_fec             {t_read:7.3f} s   ({t_read / t_floor:.1f}x the floor)")

        pf = tmp / "pf"

        def fresh_import():
            shutil.rmtree(pf, ignore_errors=True)
            pf.mkdir()
            (pf / "portfolio.yaml").write_text(PORTFOLIO, encoding="utf-8")
            apply_plan(plan_import(load_portfolio(pf), read_fec(fec, 30)))

        t_new, _ = best(fresh_import, args.repeat)
        cases = len(load_portfolio(pf).case_dirs())
        t_rerun, _ = best(lambda: apply_plan(plan_import(load_portfolio(pf), read_fec(fec, 30))), args.repeat)
        print(f"  import (new)         {t_new:7.3f} s   ({cases} case folders written)")
        print(f"  import (rerun)       {t_rerun:7.3f} s")

        # the report needs complete cases: give each debtor an address, as a person would
        for d in load_portfolio(pf).case_dirs():
            (d / "case.yaml").write_text(
                "debtor:\n  address: {lines: [1 rue de la Gare], postal_code: '69001', city: Lyon}\n", encoding="utf-8")
        from dossier.ageing import portfolio_ageing
        from dossier.law.rates import load_rates
        from dossier.render.ageing import html_page

        rates = load_rates()
        at = date(2026, 6, 15)
        t_report, report = best(lambda: portfolio_ageing(pf, at, rates), 1)
        t_html, page = best(lambda: html_page(report, "bench"), args.repeat)
        print(f"report over {len(report.rows)} cases ({len(report.errors)} unreadable)")
        print(f"  portfolio_ageing     {t_report:7.3f} s   ({t_report / max(len(report.rows), 1) * 1000:.1f} ms a case)")
        print(f"  HTML page            {t_html:7.3f} s   ({len(page) // 1024} kB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
