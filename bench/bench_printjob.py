"""Print-job assembly time for a batch of N letters (default 1,000), against a floor: a
bare pypdf merge of the same PDFs (PdfWriter.append of each, then write).

    python bench/bench_printjob.py [-n N] [--pairs P] [--distinct D] [--marks none|omr|2d]

D real letters are rendered once (mises en demeure and relances for varied debtors), then
reused for N letters of N different case folders: parsing, checking and merging cost the
same whatever the letter says. Each pair runs the floor and the job one after the other
(interleaved, so both see the same machine load); the medians of the pairs are printed.
The job is built without journal writes (those are one append per letter, measured
apart). Prints figures; not a timed test. Target: under 10 s for 1,000 letters.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

AT = date(2026, 6, 15)
DEBTORS = [
    ("Dupont & Fils", ("5 place Grenette",), "38000", "Grenoble", "FR"),
    ("Caisse Régionale", ("Service Contentieux", "BP 103"), "69441", "Lyon Cedex 03", "FR"),
    ("Bakkerij Peeters", ("Rue Haute 12",), "1000", "Bruxelles", "BE"),
    ("Corsica Marine", ("Port de Toga",), "20200", "Bastia", "FR"),
    ("Atelier Nord", ("2 place du Général de Gaulle",), "59000", "Lille", "FR"),
    ("Chantiers du Vieux-Port", ("4 quai du Port",), "13002", "Marseille", "FR"),
    ("Müller Maschinenbau GmbH", ("Friedrichstraße 100",), "10117", "Berlin", "DE"),
    ("Ti Case Créole", ("12 rue de Paris",), "97400", "Saint-Denis", "FR"),
]


def render(root: Path, distinct: int) -> list:
    from dossier.law.rates import load_rates
    from dossier.letters import render_stage
    from dossier.model import Address
    from dossier.postal.printjob import letter_for
    from dossier.snapshot import build_state

    from helpers import make_case

    rates = load_rates(user_file=False)
    out = []
    for k in range(distinct):
        name, lines, pc, city, cc = DEBTORS[k % len(DEBTORS)]
        case = make_case(root / f"r{k}")
        case = dataclasses.replace(case, reference=f"R-{k}", debtor=dataclasses.replace(
            case.debtor, name=f"{name} {k}" if k >= len(DEBTORS) else name, address=Address(lines, pc, city, cc)))
        stage = ("mise-en-demeure", "relance-1", "dernier-avis")[k % 3]
        pdf = render_stage(build_state(case, AT, rates), stage, formats=("pdf",)).files[f"{stage}.pdf"]
        out.append(letter_for(case, stage, pdf, AT))
    return out


def floor(letters: list) -> tuple[float, float]:
    from pypdf import PdfReader, PdfWriter

    t, c = time.perf_counter(), time.process_time()
    w = PdfWriter()
    for lt in letters:
        w.append(PdfReader(io.BytesIO(lt.pdf)))
    w.write(io.BytesIO())
    return time.perf_counter() - t, time.process_time() - c


def job(letters: list, folder: Path, marks: str) -> tuple[float, float]:
    from dossier.postal.marks import InserterMarks
    from dossier.postal.printjob import PrintProfile, build_print_job

    t, c = time.perf_counter(), time.process_time()
    build_print_job(letters, folder, PrintProfile(marks=InserterMarks(marks)), batch_id=folder.name,
                    at=datetime(2026, 6, 15, 17, tzinfo=timezone.utc), journal=False)
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--distinct", type=int, default=12)
    ap.add_argument("--marks", default="none", choices=("none", "omr", "2d"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        base = render(root, args.distinct)
        print(f"rendered {len(base)} distinct letters in {time.perf_counter() - t:.1f} s")
        letters = []
        for i in range(args.n):
            lt = base[i % len(base)]
            letters.append(dataclasses.replace(lt, case_reference=f"C-{i:05d}", case_root=root / f"case-{i:05d}"))
        pages = sum(len(__import__("pypdf").PdfReader(io.BytesIO(lt.pdf)).pages) for lt in base) * args.n / len(base)
        floors, jobs = [], []
        for p in range(args.pairs):
            floors.append(floor(letters))
            jobs.append(job(letters, root / f"job{p}", args.marks))
            print(f"pair {p + 1}: bare merge {floors[-1][0]:.2f} s (CPU {floors[-1][1]:.2f} s), "
                  f"print job {jobs[-1][0]:.2f} s (CPU {jobs[-1][1]:.2f} s)", flush=True)
        f, j = statistics.median(x[0] for x in floors), statistics.median(x[0] for x in jobs)
        fc, jc = statistics.median(x[1] for x in floors), statistics.median(x[1] for x in jobs)
        print(f"{args.n} letters (~{pages:.0f} pages), marks {args.marks}: bare pypdf merge median {f:.2f} s "
              f"(CPU {fc:.2f} s), print job median {j:.2f} s (CPU {jc:.2f} s): {j / f:.2f}x the floor, "
              f"{1000 * j / args.n:.1f} ms a letter")
        print("(wall-clock figures depend on the machine's load; the CPU time of this process is the steadier one)")

if __name__ == "__main__":
    main()
