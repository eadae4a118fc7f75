import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"
DEMO_DATE = "2026-06-15"


def run_cli(*args, cwd=None, env=None):
    """Run the real console entry point in a subprocess; returns CompletedProcess."""
    e = dict(os.environ)
    e.pop("DOSSIER_DEBUG", None)
    e.setdefault("DOSSIER_RATES_FILE", str(Path(cwd or ROOT) / "no-user-rates.csv"))
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-m", "dossier.cli", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=e, timeout=300,
    )


@pytest.fixture(autouse=True)
def _isolated_user_rates(tmp_path, monkeypatch):
    """Never read or write the developer's own ~/.config/dossier/rates.csv in tests."""
    monkeypatch.setenv("DOSSIER_RATES_FILE", str(tmp_path / "user-rates.csv"))


@pytest.fixture(scope="session")
def rates():
    from dossier.law.rates import load_rates

    return load_rates(user_file=False)
