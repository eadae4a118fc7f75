import os
import sys
from pathlib import Path

import pytest

# constants and helpers shared by the test modules: tests/helpers.py


def pytest_configure(config):
    """Compiled templates go to a cache of the test run, never the developer's ~/.cache."""
    import tempfile

    os.environ.setdefault("DOSSIER_CACHE_DIR", tempfile.mkdtemp(prefix="dossier-test-cache-"))
    # doctests too: never the developer's own ~/.config/dossier/rates.csv
    os.environ["DOSSIER_RATES_FILE"] = os.path.join(tempfile.mkdtemp(prefix="dossier-test-rates-"), "rates.csv")


@pytest.fixture(autouse=True)
def _isolated_user_rates(tmp_path, monkeypatch):
    """Never read or write the developer's own ~/.config/dossier/rates.csv in tests."""
    monkeypatch.setenv("DOSSIER_RATES_FILE", str(tmp_path / "user-rates.csv"))


@pytest.fixture(scope="session")
def rates():
    from dossier.law.rates import load_rates

    return load_rates(user_file=False)


# --------------------------------------------------------------------------- dossier fixtures
# (the case and helpers are in test_bundle.py; shared by the bundle test modules)


@pytest.fixture(scope="session")
def awkward(tmp_path_factory):
    sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
    import make_awkward

    return make_awkward.make_all(tmp_path_factory.mktemp("awkward"))


@pytest.fixture(scope="session")
def awkward_case(tmp_path_factory, awkward):
    from helpers import GOOD, write_case

    exhibits = [(k, t, f, "secret" if f == "encrypted.pdf" else None) for k, t, f, _ in GOOD]
    return write_case(tmp_path_factory.mktemp("case") / "awk", exhibits, files=awkward)


@pytest.fixture(scope="session")
def built(awkward_case, rates):
    from dossier.bundle import build_bundle
    from dossier.casefile import load_case

    from helpers import AT, state_of

    case = load_case(awkward_case, AT)
    return case, build_bundle(state_of(case, AT, rates))
