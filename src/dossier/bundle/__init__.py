"""The court and bailiff dossier: exhibits to normalised pages, stamps, bordereau, table of
contents, outline, one deterministic PDF. See :func:`build_bundle` and :func:`write_bundle`.
"""

from dossier.bundle.assemble import BundleExhibit, BundleResult, Section, build_bundle, default_output, write_bundle

__all__ = ["BundleExhibit", "BundleResult", "Section", "build_bundle", "default_output", "write_bundle"]
