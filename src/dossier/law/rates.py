"""Rate tables: the ECB main refinancing rate and the French taux de l'intérêt légal.

Data, not code: the shipped table is ``dossier/data/rates.csv``, one row per published rate
with its source. A user adds rows (a new half-year) with ``dossier rates add`` into their
own file, which overrides the shipped rows for the same series and period. Nothing is ever
extrapolated: a rate the tables do not have stops the computation with a message that
names it and the command that adds it.

- C. com. L441-10: default late-penalty rate = ECB rate "on its most recent main
  refinancing operation" + 10 points; for a half-year, the rate in force on 1 January
  (January-June) or 1 July (July-December).
- C. mon. fin. L313-2: the taux de l'intérêt légal is fixed per half-year, with a higher
  rate when the creditor is a natural person not acting for professional needs.

>>> table = load_rates()
>>> table.l441_default(2024, 2).rate
Decimal('14.25')
>>> table.legal(2024, 1, private=False).rate
Decimal('5.07')
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dossier.errors import RateTableError
from dossier.fmt import rate as _fr
from dossier.paths import UnsafePathError, read_regular

SERIES = ("ecb-mro", "legal-private", "legal-other")
SHIPPED = Path(__file__).resolve().parent.parent / "data" / "rates.csv"
HEADER = ["series", "period", "rate", "source"]
L441_MARGIN = Decimal("10")


@dataclass(frozen=True)
class RateRow:
    series: str
    period: str  # a date for ecb-mro, "YYYY-1"/"YYYY-2" for legal-*
    rate: Decimal
    source: str
    origin: str = ""  # file:line it was read from


@dataclass(frozen=True)
class AppliedRate:
    """A yearly rate in percent and the French sentence saying where it comes from."""

    rate: Decimal
    basis: str
    sources: tuple[RateRow, ...] = ()


def half_year(d: date) -> tuple[int, int]:
    """``date(2026, 7, 1)`` -> ``(2026, 2)``."""
    return d.year, 1 if d.month <= 6 else 2


def half_year_start(year: int, half: int) -> date:
    return date(year, 1 if half == 1 else 7, 1)


def half_year_end(year: int, half: int) -> date:
    return date(year, 6, 30) if half == 1 else date(year, 12, 31)


def half_year_label(year: int, half: int) -> str:
    return f"{'1er' if half == 1 else '2nd'} semestre {year}"


def parse_half_year(text: str) -> tuple[int, int]:
    """``"2026-2"`` (also ``"2026-S2"``, ``"2026H2"``) -> ``(2026, 2)``."""
    t = text.strip().upper().replace("S", "").replace("H", "-").replace("--", "-")
    try:
        year_s, half_s = t.split("-")
        year, half = int(year_s), int(half_s)
    except ValueError:
        raise RateTableError(f"not a half-year: {text!r} (write it like 2026-2)") from None
    if half not in (1, 2) or not 1990 <= year <= 2200:
        raise RateTableError(f"not a half-year: {text!r} (write it like 2026-2)")
    return year, half



@dataclass(frozen=True)
class RateTable:
    ecb: tuple[RateRow, ...]  # sorted by date
    legal_rows: dict[tuple[str, int, int], RateRow] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    # -- ECB ---------------------------------------------------------------------------
    @property
    def ecb_known_until(self) -> date | None:
        return date.fromisoformat(self.ecb[-1].period) if self.ecb else None

    def ecb_on(self, d: date, needed_for: str = "") -> RateRow:
        """The ECB main refinancing rate in force on ``d``."""
        until = self.ecb_known_until
        rows = [r for r in self.ecb if date.fromisoformat(r.period) <= d]
        if not rows or until is None or d > until:
            year, half = half_year(d)
            why = f" ({needed_for})" if needed_for else ""
            raise RateTableError(
                f"no ECB main refinancing rate known for {d.isoformat()}{why}: the rate tables "
                f"end on {until.isoformat() if until else 'nothing'} and are never extrapolated. "
                f"Add the rate in force on that day (ECB key interest rates) with:\n"
                f"  dossier rates add {year}-{half} --ecb RATE --source \"ECB, decision of ...\""
            )
        return rows[-1]

    def l441_default(self, year: int, half: int) -> AppliedRate:
        """C. com. L441-10 default rate for a half-year: ECB rate on 1 January or 1 July
        plus 10 points."""
        start = half_year_start(year, half)
        row = self.ecb_on(start, needed_for=f"L441-10 default rate, {half_year_label(year, half)}")
        rate = row.rate + L441_MARGIN
        basis = (
            f"taux BCE {_fr(row.rate)} au {start.strftime('%d/%m/%Y')} + 10 points "
            f"(C. com. art. L441-10)"
        )
        return AppliedRate(rate, basis, (row,))

    # -- taux légal --------------------------------------------------------------------
    def legal(self, year: int, half: int, *, private: bool = False) -> AppliedRate:
        series = "legal-private" if private else "legal-other"
        row = self.legal_rows.get((series, year, half))
        if row is None:
            which = (
                "créancier personne physique" if private else "autres cas"
            )
            raise RateTableError(
                f"no taux d'intérêt légal ({which}) known for {half_year_label(year, half)} "
                f"({year}-{half}): the rate tables are never extrapolated. Add both published "
                f"rates of that half-year (arrêté in the Journal officiel) with:\n"
                f"  dossier rates add {year}-{half} --legal-other RATE --legal-private RATE "
                f"--source \"Arrêté du ... (JO ...)\""
            )
        label = "créancier personne physique" if private else "autres cas"
        basis = f"taux de l’intérêt légal {half_year_label(year, half)} ({label}) {_fr(row.rate)}"
        return AppliedRate(row.rate, basis, (row,))

    def rows(self) -> list[RateRow]:
        legal = sorted(self.legal_rows.values(), key=lambda r: (r.period, r.series))
        return list(self.ecb) + legal


def _read_rows(text: str, origin: str) -> list[RateRow]:
    rows: list[RateRow] = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return rows
    reader = csv.reader(io.StringIO("\n".join(line for _, line in lines)))
    header = next(reader)
    if [h.strip() for h in header] != HEADER:
        raise RateTableError(f"{origin}:{lines[0][0]}: expected the header {','.join(HEADER)}")
    for (lineno, _), rec in zip(lines[1:], reader):
        where = f"{origin}:{lineno}"
        if len(rec) != 4:
            raise RateTableError(f"{where}: expected 4 columns (series,period,rate,source), got {len(rec)}")
        series, period, rate_s, source = (x.strip() for x in rec)
        if series not in SERIES:
            raise RateTableError(f"{where}: unknown series {series!r} (one of {', '.join(SERIES)})")
        try:
            rate = Decimal(rate_s)
        except InvalidOperation:
            raise RateTableError(f"{where}: rate {rate_s!r} is not a number") from None
        if not Decimal("-5") <= rate <= Decimal("50"):
            raise RateTableError(f"{where}: rate {rate_s} % is not plausible")
        if not source:
            raise RateTableError(f"{where}: every rate needs its source")
        try:
            if series == "ecb-mro":
                date.fromisoformat(period)
            else:
                parse_half_year(period)
        except (ValueError, RateTableError):
            raise RateTableError(
                f"{where}: period {period!r} must be a date (ecb-mro) or a half-year like 2026-2"
            ) from None
        rows.append(RateRow(series, period, rate, source, where))
    return rows


def user_rates_file() -> Path:
    """Where ``dossier rates add`` writes by default: ``$DOSSIER_RATES_FILE``, else
    ``$XDG_CONFIG_HOME/dossier/rates.csv`` (``~/.config/dossier/rates.csv``)."""
    env = os.environ.get("DOSSIER_RATES_FILE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "dossier" / "rates.csv"


def load_rates(extra_files: tuple[Path | str, ...] | list[Path | str] = (), *, user_file: bool = True) -> RateTable:
    """The shipped table, then the user's file (if it exists), then ``extra_files``; later
    rows override earlier ones for the same series and period."""
    sources: list[Path] = [SHIPPED]
    if user_file and os.path.lexists(user_rates_file()):  # a folder or FIFO there is refused below
        sources.append(user_rates_file())
    sources.extend(Path(p) for p in extra_files)
    by_key: dict[tuple[str, str], RateRow] = {}
    for path in sources:
        if not os.path.lexists(path):
            raise RateTableError(f"{path}: rate file not found")
        try:
            text = read_regular(path).decode("utf-8")  # never blocks on a FIFO
        except UnsafePathError as e:
            raise RateTableError(f"cannot read the rate file: {e}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise RateTableError(f"{path}: cannot read the rate file ({e})") from None
        for row in _read_rows(text, str(path)):
            key_period = row.period if row.series == "ecb-mro" else "%d-%d" % parse_half_year(row.period)
            by_key[(row.series, key_period)] = row
    ecb = tuple(sorted((r for (s, _), r in by_key.items() if s == "ecb-mro"), key=lambda r: r.period))
    legal = {}
    for (s, p), r in by_key.items():
        if s != "ecb-mro":
            y, h = parse_half_year(p)
            legal[(s, y, h)] = r
    return RateTable(ecb=ecb, legal_rows=legal, files=tuple(str(p) for p in sources))


def add_half_year(
    path: Path,
    year: int,
    half: int,
    *,
    source: str,
    ecb: Decimal | None = None,
    legal_other: Decimal | None = None,
    legal_private: Decimal | None = None,
) -> list[RateRow]:
    """Append a half-year's rates to a user rate file (created with its header if new).

    ``ecb`` is the ECB rate in force on the half-year's first day (1 January or 1 July).
    Rows are appended, never rewritten; the file is validated after the write."""
    if ecb is None and legal_other is None and legal_private is None:
        raise RateTableError("give at least one of --ecb, --legal-other, --legal-private")
    if not source.strip():
        raise RateTableError("--source is required: every rate says where it comes from")
    start = half_year_start(year, half)
    new = []
    if ecb is not None:
        new.append(RateRow("ecb-mro", start.isoformat(), ecb, source))
    if legal_private is not None:
        new.append(RateRow("legal-private", f"{year}-{half}", legal_private, source))
    if legal_other is not None:
        new.append(RateRow("legal-other", f"{year}-{half}", legal_other, source))
    append_rows(path, new)
    return new


def append_rows(path: Path, rows: list[RateRow]) -> None:
    """Append rows to a user rate file (created with its header if new), validating the
    result first; rows are never rewritten."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    try:  # a regular file or none: never a FIFO (appending would block), a folder or a device
        existing = read_regular(path).decode("utf-8") if os.path.lexists(path) else ""
    except (UnsafePathError, UnicodeDecodeError) as e:
        raise RateTableError(f"{path}: cannot add rows to this rate file ({e})") from None
    if not existing.strip():
        buf.write("# dossier user rate file: rows here override the shipped table (same series and period)\n")
        w.writerow(HEADER)
    for r in rows:
        w.writerow([r.series, r.period, format(r.rate, "f"), r.source])
    _read_rows(existing + buf.getvalue(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(buf.getvalue())
        f.flush()
        os.fsync(f.fileno())


def parse_ecb_sdmx_csv(text: str, origin: str = "ECB CSV") -> list[RateRow]:
    """Rows from an ECB data portal SDMX CSV export of series
    FM.B.U2.EUR.4F.KR.MRR_FR.LEV (columns include TIME_PERIOD and OBS_VALUE): one row per
    change, plus a last row at the latest observation so the table knows how far it goes."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "TIME_PERIOD" not in reader.fieldnames or "OBS_VALUE" not in reader.fieldnames:
        raise RateTableError(f"{origin}: not an ECB SDMX CSV (no TIME_PERIOD/OBS_VALUE columns)")
    obs: list[tuple[date, Decimal]] = []
    for n, rec in enumerate(reader, 2):
        if rec.get("KEY") and "MRR_FR" not in rec["KEY"]:
            continue
        try:
            obs.append((date.fromisoformat(rec["TIME_PERIOD"].strip()), Decimal(rec["OBS_VALUE"].strip())))
        except (ValueError, InvalidOperation, AttributeError):
            raise RateTableError(f"{origin}:{n}: unreadable observation {rec.get('TIME_PERIOD')!r}={rec.get('OBS_VALUE')!r}") from None
    if not obs:
        raise RateTableError(f"{origin}: no observation of the main refinancing rate")
    obs.sort()
    rows: list[RateRow] = []
    last: Decimal | None = None
    for d, r in obs:
        if r != last:
            rows.append(RateRow("ecb-mro", d.isoformat(), r, f"ECB data portal FM.B.U2.EUR.4F.KR.MRR_FR.LEV ({origin})"))
            last = r
    final_d, final_r = obs[-1]
    if rows[-1].period != final_d.isoformat():
        rows.append(RateRow("ecb-mro", final_d.isoformat(), final_r, f"ECB data portal FM.B.U2.EUR.4F.KR.MRR_FR.LEV, last observation ({origin})"))
    return rows


#: The ECB data portal's SDMX REST API; ``$DOSSIER_ECB_URL`` replaces the base (scheme, host
#: and path up to ``/service``), e.g. for a local mirror.
ECB_API_BASE = "https://data-api.ecb.europa.eu"
ECB_SERIES_PATH = "/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata"
#: an answer larger than this is not the one-series CSV we asked for
ECB_MAX_BYTES = 2_000_000


def ecb_url() -> str:
    """The URL ``dossier rates update`` reads: the ECB data portal, or ``$DOSSIER_ECB_URL``
    as the base."""
    base = os.environ.get("DOSSIER_ECB_URL") or ECB_API_BASE
    return base.rstrip("/") + ECB_SERIES_PATH


def fetch_ecb_csv(url: str | None = None, timeout: float = 20.0) -> str:
    """The SDMX CSV of the ECB main refinancing rate series, read over HTTP(S); a
    :class:`~dossier.errors.RateTableError` when the machine is offline or the answer is
    not what was asked. This is the only function of dossier that uses the network, and
    only ``dossier rates update`` calls it."""
    import urllib.error
    import urllib.request

    url = url or ecb_url()
    if not url.startswith(("https://", "http://")):
        raise RateTableError(f"{url}: not an http(s) URL")
    req = urllib.request.Request(url, headers={"Accept": "text/csv", "User-Agent": "dossier rates update"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) only, checked above)
            data = resp.read(ECB_MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise RateTableError(
            f"cannot read the ECB data portal ({url}): {reason}. Offline, add the rate with "
            "`dossier rates add HALF_YEAR --ecb RATE --source ...`, or download the CSV and "
            "use `dossier rates import-ecb FILE`"
        ) from None
    if len(data) > ECB_MAX_BYTES:
        raise RateTableError(f"{url}: answer larger than {ECB_MAX_BYTES} bytes: not the ECB series")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RateTableError(f"{url}: the answer is not UTF-8 text") from None


def new_ecb_rows(rows: list[RateRow], table: RateTable) -> list[RateRow]:
    """The rows of an ECB export whose date ``table`` does not have yet (the changes it
    lacks, and the last observation, which says how far the table then goes)."""
    known = {r.period for r in table.ecb}
    return [r for r in rows if r.period not in known]
