"""Fuzzing the case file: hypothesis mutates a valid sample case (types, sizes, unicode,
control characters, paths, dates, raw bytes) and runs ``check``, ``compute``, ``plan`` and
``letter relance-1 --format pdf`` in-process on each mutant.

Whatever the input: exit 0 or 2 (never 1), no traceback, nothing written outside the
output folder (and the case's journal), each run within a time bound. Derandomized, so CI
sees the same inputs every time; the summary line printed at the end says how many inputs
were tried and how each command exited.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import DEMO_DATE, SAMPLES, invoke

#: raise for a deeper run: DOSSIER_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py
MAX_EXAMPLES = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "70"))
SECONDS_PER_RUN = 20
COMMANDS = (("check",), ("compute",), ("plan",), ("letter", "relance-1"))

SAMPLE = yaml.safe_load((SAMPLES / "atelier-martin" / "case.yaml").read_text(encoding="utf-8"))

#: every place of the sample where a value sits, as a key path
def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


KEY_PATHS = sorted(_paths(SAMPLE), key=repr)
FILE_PATHS = [p for p in KEY_PATHS if p[-1] in ("file", "receipt_file")]
DATE_PATHS = [p for p in KEY_PATHS if p[-1] in ("date", "issued", "due", "received", "promised_date", "birth_date")]
NEW_KEYS = ("templates", "court", "envelope_window", "ladder", "reference", "currency")

CONTROL = st.sampled_from(["\n", "\r\n", "\x00", "\x1b[31m", "\u2028", "\u202e", "\t", "\x7f", "\x85", "\ufeff"])
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=10), CONTROL, st.text(max_size=10)),
    st.integers(min_value=1, max_value=6).map(lambda n: "x" * 10 ** n),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["nan", "-Infinity", "1e999", "1_000", "0.001", "-0.00", "999999999.99", "1000000000.00",
                     "12,5", " 12.50 ", "0x10", "١٢٣"]),
)
date_strings = st.one_of(
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-6-5", "20260605", "2026-W23-5", "2026-06-05T10:00:00",
                     "2026-02-30", "2199-12-31", "1900-01-01", "1899-12-31", "2026-06-05 10:00", "today", ""]),
    st.dates().map(str),
)
ANYWHERE = ("/etc/hostname", "/proc/self/environ", "/dev/zero", "../../../../etc/passwd", "..", "/",
            "pieces", "pieces/../../other/secret.pdf", "pieces/link-out.pdf", "pieces/fifo.pdf",
            "pieces/loop.pdf", "pieces/\x00.pdf", "pieces/" + "a" * 300 + ".pdf", "journal.jsonl", "case.yaml")
values = st.one_of(
    hostile_text, numbers, date_strings, st.booleans(), st.none(),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


def _set(doc, path, value):
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _delete(doc, path):
    node = doc
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


@st.composite
def mutations(draw):
    """A list of edits to the sample (applied in order), as data so failures print well."""
    edits = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["value", "value", "file", "date", "delete", "new-key", "grow", "raw", "journal"]))
        if kind == "value":
            edits.append(("set", draw(st.sampled_from(KEY_PATHS)), draw(values)))
        elif kind == "file":
            edits.append(("set", draw(st.sampled_from(FILE_PATHS)), draw(st.sampled_from(ANYWHERE))))
        elif kind == "date":
            edits.append(("set", draw(st.sampled_from(DATE_PATHS)), draw(date_strings)))
        elif kind == "delete":
            edits.append(("delete", draw(st.sampled_from(KEY_PATHS)), None))
        elif kind == "new-key":
            edits.append(("set", (draw(st.sampled_from(NEW_KEYS)),), draw(st.one_of(values, st.sampled_from(ANYWHERE)))))
        elif kind == "grow":
            edits.append(("grow", draw(st.sampled_from(["invoices", "payments", "exhibits", "notices"])),
                          draw(st.integers(min_value=2, max_value=400))))
        elif kind == "journal":
            entry = {"stage": draw(st.sampled_from(["relance-1", "mise-en-demeure", "x", ""])),
                     "date": draw(date_strings), "channel": draw(st.sampled_from(["email", "lrar", "court"])),
                     "status": draw(st.sampled_from(["sent", "generated", "lost"])),
                     "files": [{"path": draw(st.sampled_from(ANYWHERE)), "sha256": "0" * 64}],
                     draw(st.sampled_from(["invoices", "amount", "schedule", "note"])): draw(values)}
            edits.append(("journal", None, entry))
        else:
            edits.append(("raw", draw(st.integers(min_value=0, max_value=3000)), draw(st.binary(min_size=1, max_size=8))))
    return edits


def _journal(edits) -> bytes:
    """The journal lines of the ``journal`` edits (hostile paths, types, dates)."""
    import json

    lines = [json.dumps(what, default=str) + "\n" for op, _, what in edits if op == "journal"]
    return "".join(lines).encode("utf-8")


def _apply(edits) -> bytes:
    import copy

    doc = copy.deepcopy(SAMPLE)
    raw: list[tuple[int, bytes]] = []
    for op, where, what in edits:
        try:
            if op == "journal":
                continue
            if op == "set":
                _set(doc, where, what)
            elif op == "delete":
                _delete(doc, where)
            elif op == "grow":
                doc[where] = (doc.get(where) or [{}]) * what
            else:
                raw.append((where, what))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier edit removed or replaced the parent: nothing to do
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")
    for pos, data in raw:
        pos = min(pos, len(text))
        text = text[:pos] + data + text[pos:]
    return text


def _snapshot(folder: Path) -> dict[str, tuple[float, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames + dirnames:
            p = Path(dirpath) / name
            try:
                st_ = p.lstat()
            except OSError:
                continue
            out[str(p.relative_to(folder))] = (st_.st_mtime_ns, st_.st_size)
    return out


@pytest.fixture(scope="module")
def arena(tmp_path_factory) -> Path:
    """A portfolio with another client's case (must never be read or written) and the
    outside world a hostile case may point at."""
    root = tmp_path_factory.mktemp("fuzz")
    other = root / "other" / "pieces"
    other.mkdir(parents=True)
    (other / "secret.pdf").write_bytes(b"%PDF-1.4\nSECRET\n%%EOF\n")
    return root


def _make_case(arena: Path, n: int, text: bytes, journal: bytes = b"") -> Path:
    case = arena / f"case-{n}"
    shutil.copytree(SAMPLES / "atelier-martin", case, ignore=shutil.ignore_patterns("out", "journal.jsonl"))
    (case / "pieces" / "link-out.pdf").symlink_to(arena / "other" / "pieces" / "secret.pdf")
    (case / "pieces" / "loop.pdf").symlink_to(case / "pieces" / "loop.pdf")
    os.mkfifo(case / "pieces" / "fifo.pdf")
    (case / "case.yaml").write_bytes(text)
    if journal:
        (case / "journal.jsonl").write_bytes(journal)
    return case


def _run(case: Path, command: tuple[str, ...], counts: Counter) -> None:
    args = [*command, case, "--at", DEMO_DATE]
    if command[0] == "letter":
        args += ["--format", "pdf", "-o", case / "out"]
    start = time.monotonic()
    code, out, err = invoke(*args)
    elapsed = time.monotonic() - start
    counts[(command[0], code)] += 1
    assert code in (0, 2), f"{' '.join(map(str, args))}: exit {code}\n{err}"
    assert "Traceback" not in out + err and "internal error" not in err, err
    assert elapsed < SECONDS_PER_RUN, f"{command[0]} took {elapsed:.1f} s"


def test_fuzz_case_files(arena, capsys):
    counts: Counter = Counter()
    tried = [0]
    outside_before = _snapshot(arena / "other")

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=timedelta(seconds=60),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)
    @given(mutations())
    def one(edits):
        tried[0] += 1
        case = _make_case(arena, tried[0], _apply(edits), _journal(edits))
        before = _snapshot(case)
        try:
            for command in COMMANDS:
                _run(case, command, counts)
            after = _snapshot(case)
            changed = {k for k in after.keys() | before.keys() if before.get(k) != after.get(k)}
            stray = {k for k in changed if k != "journal.jsonl" and k != "out" and not k.startswith("out/")}
            assert not stray, f"written outside the output folder: {sorted(stray)}"
        finally:
            shutil.rmtree(case, ignore_errors=True)

    one()
    assert _snapshot(arena / "other") == outside_before, "another client's folder was touched"
    by_code = Counter()
    for (_, code), n in counts.items():
        by_code[code] += n
    per_command = ", ".join(f"{c[0]} {sum(n for (k, _), n in counts.items() if k == c[0])}" for c in COMMANDS)
    with capsys.disabled():
        print(f"\nfuzz: {tried[0]} case files tried, {sum(counts.values())} runs ({per_command}): "
              f"exit 0: {by_code[0]}, exit 2: {by_code[2]}, exit 1: {by_code[1]}")
    assert by_code[1] == 0
    assert by_code[2] > 0 and by_code[0] > 0  # the mutants reach both outcomes
