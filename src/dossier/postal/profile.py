"""The print profile file (YAML): envelopes, printer, inserter, registered numbers, sender.

```yaml
window: "55,110,85,33"        # envelope window: top, left, width, height in mm (DL, right)
duplex: true
dl_sheets: 5                  # more sheets: C4 envelope, courrier-c4.pdf
margin_mm: 5                  # clear margin the printer asks for
marks: {kind: omr, left_mm: 6, top_mm: 110, length_mm: 8, thickness_mm: 0.5, pitch_mm: 4.23}
numbers: {first: "1A 000 100 0000 0", last: "1A 000 100 9999 9"}
sender: {name: Atelier Martin, address: ["12 rue de la Paix", "69002 LYON"], customer_number: "123456"}
```

Every key is optional. A wrong value is reported as ``file:line: field: message``.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from dossier.errors import DossierError
from dossier.model import parse_window_mm
from dossier.postal.marks import InserterMarks
from dossier.postal.printjob import (
    NumberRange,
    PrintJobError,
    PrintProfile,
    Sender,
    compact_number,
)

MAX_PROFILE_BYTES = 1024 * 1024
KEYS = ("window", "duplex", "dl_sheets", "margin_mm", "marks", "numbers", "sender")


def _lines(node: Any, path: str, out: dict[str, int]) -> None:
    """Field path → 1-based line of every key of a composed YAML mapping."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            p = f"{path}.{k.value}" if path else str(k.value)
            out[p] = k.start_mark.line + 1
            _lines(v, p, out)


def _read_yaml(p: Path) -> tuple[Any, dict[str, int]]:
    import yaml

    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DossierError(f"{p}: cannot read: {e.strerror}") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise DossierError(f"{p}: larger than 1 MB: not a print profile")
    try:
        text = raw.decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        raise DossierError(f"{p}: not a YAML print profile ({e})") from None
    lines: dict[str, int] = {}
    _lines(node, "", lines)
    return data, lines


def load_profile(path: str | Path) -> PrintProfile:
    """The :class:`PrintProfile` of a YAML file (see the module docstring)."""
    p = Path(path)
    data, lines = _read_yaml(p)

    def fail(field: str, message: str) -> DossierError:
        return DossierError(f"{p}:{lines.get(field, 1)}: {field}: {message}")

    if not isinstance(data, dict):
        raise fail("", "expected a mapping of keys")
    for key in data:
        if key not in KEYS:
            raise fail(key, f"unknown key; valid keys: {', '.join(KEYS)}")
    kw: dict[str, Any] = _scalars(data, fail)
    if "marks" in data:
        kw["marks"] = _marks(data["marks"], fail)
    if "numbers" in data:
        kw["numbers"] = _numbers(data["numbers"], fail)
    if "sender" in data:
        kw["sender"] = _sender(data["sender"], fail)
    return PrintProfile(**kw)


def _scalars(data: dict[str, Any], fail: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if "window" in data:
        try:
            kw["window"] = parse_window_mm(str(data["window"]))
        except ValueError as e:
            raise fail("window", str(e)) from None
    if "duplex" in data:
        if not isinstance(data["duplex"], bool):
            raise fail("duplex", "expected true or false")
        kw["duplex"] = data["duplex"]
    for key, low, high in (("dl_sheets", 1, 20), ("margin_mm", 0, 30)):
        if key in data:
            v = data[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
                raise fail(key, f"expected a number from {low} to {high}")
            kw[key] = int(v) if key == "dl_sheets" else float(v)
    return kw


def _numbers(n: Any, fail: Any) -> NumberRange:
    if not isinstance(n, dict) or set(n) != {"first", "last"}:
        raise fail("numbers", "expected {first: …, last: …}")
    for key in ("first", "last"):
        try:
            compact_number(str(n[key]))
        except PrintJobError as e:
            raise fail(f"numbers.{key}", str(e)) from None
    return NumberRange(str(n["first"]), str(n["last"]))


def _sender(s: Any, fail: Any) -> Sender:
    if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not s["name"].strip():
        raise fail("sender", "expected {name: …, address: [lines], customer_number: …}")
    address = s.get("address") or []
    if not isinstance(address, list) or not all(isinstance(x, str) for x in address):
        raise fail("sender.address", "expected a list of lines")
    number = s.get("customer_number")
    return Sender(s["name"].strip(), tuple(address), str(number) if number is not None else None)


def _marks(m: Any, fail: Any) -> InserterMarks:
    if not isinstance(m, dict):
        raise fail("marks", "expected {kind: none|omr|2d, …}")
    known = {f.name for f in fields(InserterMarks)}
    for key, value in m.items():
        if key not in known:
            raise fail(f"marks.{key}", f"unknown key; valid keys: {', '.join(sorted(known))}")
        if key != "kind" and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 297):
            raise fail(f"marks.{key}", "expected millimetres (a number from 0 to 297)")
    try:
        return InserterMarks(**{k: (v if k == "kind" else float(v)) for k, v in m.items()})
    except ValueError as e:
        raise fail("marks.kind", str(e)) from None
