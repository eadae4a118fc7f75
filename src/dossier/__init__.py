"""dossier — get French businesses paid.

The library is usable without the CLI; every command starts from one case snapshot::

    from datetime import date
    from dossier.snapshot import open_case
    from dossier.letters import render_stage

    state = open_case("samples/atelier-martin", date(2026, 6, 15))
    state.statement.total, state.plan.stage        # the décompte, the next step
    render_stage(state, "mise-en-demeure")         # the documents, as bytes
"""

__version__ = "0.1.0"
