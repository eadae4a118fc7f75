"""Rendering: templates (Jinja2), HTML to PDF (WeasyPrint), DOCX (docxtpl), email.

- :mod:`dossier.render.templates` — user folder first, shipped templates as fallback.
- :mod:`dossier.render.pdf` — ``html_to_pdf(html, base_url=…, metadata=PdfMeta(…))``.
"""
