"""dossier — get French businesses paid.

The library is usable without the CLI::

    from dossier.casefile import load_case
    from dossier.law.rates import load_rates
    from dossier.law.penalties import compute_statement

    case = load_case("samples/atelier-martin")
    statement = compute_statement(case, date(2026, 6, 15), load_rates())
"""

__version__ = "0.1.0"
