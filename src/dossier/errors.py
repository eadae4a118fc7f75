"""A small exception hierarchy with messages a business owner understands.

The CLI maps :class:`DossierError` (bad input) to exit code 2 and anything else to 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding of validation: ``file:line: field: message``."""

    file: str
    line: int | None
    field: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        label = "" if self.severity == "error" else "warning: "
        if not self.file:  # a message that already says where (e.g. an evidence file's)
            return f"{label}{self.message}"
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        fld = f" {self.field}:" if self.field else ""
        return f"{where}:{fld} {label}{self.message}"


class DossierError(Exception):
    """Bad input: the message says what to fix. Exit code 2."""

    exit_code = 2


class CaseFileError(DossierError):
    """A case file that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid case file")


class RateTableError(DossierError):
    """A rate the tables do not have (never guessed), or a malformed rate file."""


class EvidenceError(DossierError):
    """An exhibit file that cannot be used: missing, corrupt, encrypted, unsupported."""


class TemplateError(DossierError):
    """A template that is missing or fails to render."""


class JournalError(DossierError):
    """A journal that cannot be read, or an attempt to overwrite a sent notice."""


class DeliveryError(DossierError):
    """An email that could not be delivered (SMTP configuration or server refusal)."""
