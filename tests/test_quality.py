"""Gates that keep the code base as it is meant to be: ruff (pyflakes, bugbear, import order,
complexity ≤ 15), mypy on the pure core, no import cycle, no private cross-import, nothing
shipped that points outside the repository. Each gate fails with the offending place."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

SRC = ROOT / "src" / "dossier"


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        if "samples" in path.parts:
            continue
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(path: Path, module: str) -> list[tuple[str, int, tuple[str, ...]]]:
    """(imported module, line, names) for every import outside ``if TYPE_CHECKING:``, at
    module level or inside functions (a lazy import is a dependency too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    out = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno, ()) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
            out.append((base, node.lineno, tuple(a.name for a in node.names)))
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        for target, _, names in _imports(path, mod):
            # ``from dossier.bundle import stamp`` names a submodule
            for candidate in [f"{target}.{n}" for n in names] + [target]:
                if candidate in mods and candidate != mod:
                    graph[mod].add(candidate)
                    break
    return graph


def test_no_import_cycle_between_modules():
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    # a package's __init__ that re-exports its modules is not a cycle of theirs
    real = [c for c in cycles if not any(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(c, c[1:]))]
    assert not real, "import cycles:\n" + "\n".join(" -> ".join(c) for c in real)


def test_storage_does_not_depend_on_policy_nor_fmt_on_the_law():
    graph = _graph()
    assert "dossier.ladder" not in graph["dossier.journal"]
    assert not {m for m in graph["dossier.fmt"] if m.startswith("dossier.law")}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_uses_another_modules_private_names():
    """Neither ``from dossier.x import _y`` nor ``x._y`` on a module imported as ``x``."""
    mods = _modules()
    found = []
    for mod, path in mods.items():
        aliases = {}
        for target, line, names in _imports(path, mod):
            if not target.startswith("dossier"):
                continue
            found.extend(f"{path.relative_to(ROOT)}:{line}: imports {target}.{n}" for n in names if _private(n))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dossier"):
                for a in node.names:
                    if f"{node.module}.{a.name}" in mods:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("dossier") and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: uses {aliases[node.value.id]}.{node.attr}")
    assert not found, "\n".join(found)


def test_ruff_is_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "bench", "tools"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean_on_the_pure_core(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


SHIPPED = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md")),
           *sorted(p for p in SRC.rglob("*") if p.is_file() and p.suffix in (".py", ".html", ".css", ".txt", ".csv", ".md"))]
OUTSIDE = re.compile(r"shared/|\.\./shared|DESIGN\.md|LEGAL\.md|POSTAL-AND-IMPORTS\.md|STYLE\.md|[Ii]ssue #?\d")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_shipped_points_outside_the_repository(path):
    hits = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for n, line in
            enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert not hits, "\n".join(hits)


def test_help_texts_point_nowhere_outside():
    from click.testing import CliRunner

    from dossier.cli import COMMANDS, cli

    runner = CliRunner()
    for name in COMMANDS:
        out = runner.invoke(cli, [name, "--help"]).output
        assert not OUTSIDE.search(out), f"dossier {name} --help: {out}"
