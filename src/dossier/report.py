"""Plain-text rendering of a décompte for the terminal (``dossier compute``)."""

from __future__ import annotations

from dossier.fmt import date_short, money, rate
from dossier.law.statement import Statement
from dossier.model import Case


def statement_table(case: Case, st: Statement) -> str:
    regime = (
        "pénalités de retard (C. com. L441-10)" if st.regime == "b2b"
        else "intérêts au taux légal (C. civ. 1231-6)"
    )
    out = [
        f"Décompte {case.reference} au {date_short(st.as_of)} — {case.creditor.name} c/ {case.debtor.name}",
        f"Régime : {regime}",
        "",
    ]
    for inv in st.invoices:
        out.append(
            f"Facture {inv.number} du {date_short(inv.issued)}, échue le {date_short(inv.due_date)} : "
            f"{money(inv.amount)} TTC"
        )
        for red in inv.reductions:
            label = "avoir" if red.kind == "credit_note" else "paiement"
            ref = f" {red.reference}" if red.reference else ""
            extra = f" (dont {money(red.to_interest)} sur intérêts)" if red.to_interest else ""
            out.append(f"  - {label}{ref} du {date_short(red.date)} : {money(red.amount)}{extra} — {red.imputation}")
        if inv.periods:
            out.append(f"  {'du':>12} {'au':>10} {'jours':>6} {'base':>14} {'taux':>9} {'montant':>12}")
            for p in inv.periods:
                out.append(
                    f"  {date_short(p.start):>12} {date_short(p.end):>10} {p.days:>6} "
                    f"{money(p.base):>14} {rate(p.rate):>9} {money(p.amount):>12}   {p.basis}"
                )
        out.append(
            f"  reste dû {money(inv.outstanding)} ; pénalités {money(inv.penalties)} ; "
            f"indemnité {money(inv.indemnity)}"
        )
        out.append("")
    for imp in st.imputations:
        parts = ", ".join(f"{n} : {money(a)}" for n, a in imp.allocations) or "aucune dette"
        out.append(f"Imputation du paiement de {money(imp.payment_amount)} du {date_short(imp.payment_date)} : {parts} ({imp.rule})")
    if st.imputations:
        out.append("")
    width = 28
    rows = [
        ("Principal TTC", st.principal),
        ("Avoirs", -st.credited),
        ("Paiements", -st.paid),
        ("Reste dû en principal", st.outstanding),
        ("Pénalités / intérêts", st.penalties),
        ("Indemnités forfaitaires", st.indemnities),
        ("TOTAL", st.total),
    ]
    for label, value in rows:
        out.append(f"{label:<{width}}{money(value):>16}")
    out.append("")
    out.extend(st.bases)
    return "\n".join(out)
