"""The requête en injonction de payer as a Word document (to adapt before filing).

Built with python-docx from the same context as the PDF requête, so both show the same
figures. Deterministic: the core properties carry the ``--at`` date and the ZIP entries a
fixed timestamp.
"""
from __future__ import annotations

def requete_docx(ctx: dict) -> bytes:  # placeholder until the full writer lands
    raise NotImplementedError
