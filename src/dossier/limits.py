"""Size limits on what a case folder may make the tool read.

A case folder is untrusted input (imports, other people's folders): an evidence file of
several gigabytes — or a device file posing as one — must be refused before it is read into
memory, with a message naming it. :func:`read_evidence` checks the size with ``stat``
first, then reads at most the limit (a file growing in between is caught too).

The limit is 200 MB by default (far above any scanned invoice or signed quote; the
e-filing portals cap a whole dossier lower). Change it with ``--max-evidence-size`` on
``dossier bundle``, the environment variable ``DOSSIER_MAX_EVIDENCE_SIZE`` (``500MB``,
``1.5G``, or a number of bytes), or :func:`set_max_evidence_size` from Python.
"""

from __future__ import annotations

import os
import re
import stat
from contextvars import ContextVar
from pathlib import Path

from dossier.errors import DossierError, EvidenceError
from dossier.paths import UnsafePathError, read_file, read_regular

#: default largest evidence file, in bytes
MAX_EVIDENCE_SIZE = 200_000_000
ENV_VAR = "DOSSIER_MAX_EVIDENCE_SIZE"
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_override: ContextVar[int | None] = ContextVar("max_evidence_size", default=None)


def parse_size(text: str) -> int:
    """``"200MB"`` -> 200000000; ``"1.5G"``, ``"800K"``, ``"7MiB"``, ``"12345"``.

    >>> parse_size("200MB"), parse_size("1,5 G"), parse_size("7MiB")
    (200000000, 1500000000, 7340032)
    """
    m = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise DossierError(f"{text!r} is not a size (examples: 200MB, 1.5G, 800K)")
    return int(float(m.group(1).replace(",", ".")) * _UNITS[unit])


def set_max_evidence_size(size: int | None) -> None:
    """Set the limit for this thread/context (None: back to the environment or default)."""
    if size is not None and size <= 0:
        raise DossierError(f"evidence size limit {size}: expected a positive number of bytes")
    _override.set(size)


def max_evidence_size() -> int:
    """The limit in force: :func:`set_max_evidence_size`, else ``$DOSSIER_MAX_EVIDENCE_SIZE``,
    else :data:`MAX_EVIDENCE_SIZE`."""
    size = _override.get()
    if size is not None:
        return size
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        try:
            return parse_size(env)
        except DossierError as e:
            raise DossierError(f"{ENV_VAR}: {e}") from None
    return MAX_EVIDENCE_SIZE


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n} bytes"


def read_evidence(path: Path, where: str, limit: int | None = None, *, root: Path | None = None) -> bytes:
    """The bytes of an evidence file, or :class:`EvidenceError` (``where``: the case-file
    field, e.g. ``case.yaml:12: exhibits[2].file``) when it is outside the case folder
    ``root``, not a regular file, or larger than ``limit`` (default
    :func:`max_evidence_size`) — checked before reading. The read itself is
    :func:`dossier.paths.read_file`'s (confined, opened non-blocking, type checked on the
    open descriptor)."""

    limit = max_evidence_size() if limit is None else limit
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise EvidenceError(f"{where}: file not found") from None
    except OSError as e:
        raise EvidenceError(f"{where}: {path}: cannot read the file ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise EvidenceError(f"{where}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise EvidenceError(f"{where}: {path}: not a regular file")
    too_big = EvidenceError(
        f"{where}: {path}: {_mb(st.st_size)}, above the {_mb(limit)} limit for an evidence file "
        f"(--max-evidence-size or {ENV_VAR} to raise it)"
    )
    if st.st_size > limit:
        raise too_big
    try:
        return read_file(root, path, limit=limit) if root is not None else read_regular(path, limit=limit)
    except UnsafePathError as e:
        if "more than the" in str(e):  # grew since the stat
            raise too_big from None
        raise EvidenceError(f"{where}: {str(e).split(': ', 1)[-1]}") from None
