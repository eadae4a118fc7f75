"""The balance âgée rendered: a rich table for the terminal, CSV, and one self-contained
HTML page (no network, no script) whose charts are inline SVG drawn here."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from html import escape
from typing import Any

from dossier.ageing import BUCKETS, Ageing, CaseRow
from dossier.fmt import date_short, money
from dossier.render.templates import render

BUCKET_LABELS_FR = ("Non échu", "1–30 j", "31–60 j", "61–90 j", "91–120 j", "+ de 120 j")
BUCKET_COLOURS = ("#6b9e78", "#c9b458", "#e0953d", "#d9673a", "#c0392b", "#7b1e1e")
#: months shown in the "recovered over time" chart
MONTHS_SHOWN = 12


def _num(d: Decimal) -> str:
    return format(d.quantize(Decimal("0.01")), "f")


# --------------------------------------------------------------------------- terminal


def terminal_table(report: Ageing, invoices: bool = True) -> Any:
    """A rich renderable: one line per debtor (and its invoices), then the totals."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"Balance âgée au {date_short(report.at)}", show_lines=False, header_style="bold")
    t.add_column("case / invoice")
    t.add_column("debtor")
    for _, label, _, _ in BUCKETS:
        t.add_column(label, justify="right")
    t.add_column("disputed", justify="right")
    t.add_column("total due", justify="right")
    t.add_column("stage")
    t.add_column("next step")
    for r in report.rows:
        if r.error:
            t.add_row(r.reference, Text(r.error, style="red"), *[""] * (len(BUCKETS) + 4))
            continue
        nxt = f"{r.next_stage} {date_short(r.next_on)}" if r.next_stage and r.next_on else (r.next_stage or "—")
        if r.collective:
            nxt = "declare the claim"
        debtor = r.debtor + (" [collective proceedings]" if r.collective else "")
        t.add_row(Text(r.reference, style="bold"), debtor, *[money(b) if b else "" for b in r.buckets],
                  money(r.disputed) if r.disputed else "", money(r.total), r.stage or "—", nxt)
        if invoices:
            for inv in r.invoices:
                if inv.outstanding <= 0:
                    continue
                cells = [""] * len(BUCKETS)
                if not inv.disputed:
                    cells[inv.bucket] = money(inv.outstanding)
                due = date_short(inv.due) + ("*" if inv.due_estimated else "")
                t.add_row(Text(f"  {inv.number}", style="dim"), Text(f"due {due}", style="dim"), *cells,
                          money(inv.outstanding) if inv.disputed else "", "", "", "")
    t.add_section()
    t.add_row(Text("total", style="bold"), f"{sum(1 for r in report.rows if not r.error)} case(s)",
              *[money(b) for b in report.buckets], money(report.disputed), money(report.total), "", "")
    lines = [f"principal outstanding {money(report.outstanding)}, penalties and interest {money(report.penalties)}, "
             f"indemnities {money(report.indemnities)}, total {money(report.total)}",
             f"recovered since the first notice: {money(report.recovered)}"]
    if report.dso is not None:
        lines.append(f"DSO over the last 91 days: {report.dso} days")
    if any(inv.due_estimated for r in report.rows for inv in r.invoices):
        lines.append("* due date estimated from the books (confirm it in case.yaml)")
    return Group(t, *(Text(x) for x in lines))


# --------------------------------------------------------------------------- CSV


CSV_COLUMNS = ("case", "debtor", "invoice", "issued", "due", "due_estimated", "days_late", "bucket", "amount",
               "outstanding", "disputed", "stage", "next_step", "next_on")


def csv_text(report: Ageing) -> str:
    """One row per invoice with money still owed; amounts with a dot, dates ISO."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in report.rows:
        if r.error:
            continue
        for inv in r.invoices:
            if inv.outstanding <= 0:
                continue
            w.writerow([r.reference, r.debtor, inv.number, inv.issued.isoformat(), inv.due.isoformat(),
                        "yes" if inv.due_estimated else "", inv.days_late, BUCKETS[inv.bucket][0], _num(inv.amount),
                        _num(inv.outstanding), "yes" if inv.disputed else "", r.stage or "", r.next_stage or "",
                        r.next_on.isoformat() if r.next_on else ""])
    return out.getvalue()


# --------------------------------------------------------------------------- SVG charts


def _k(d: Decimal) -> str:
    """A short amount for chart labels: 12 345 € → "12,3 k€"."""
    if abs(d) >= 1000:
        return f"{(d / 1000).quantize(Decimal('0.1'))} k€".replace(".", ",")
    return f"{d.quantize(Decimal('1'))} €"


def svg_ageing_bars(report: Ageing) -> str:
    w, h, top, bottom = 600, 240, 24, 40
    peak = max(list(report.buckets) + [report.disputed, Decimal(1)])
    values = list(zip(BUCKET_LABELS_FR, report.buckets, BUCKET_COLOURS, strict=True))
    if report.disputed:
        values.append(("Contesté", report.disputed, "#8a8a8a"))
    slot = w / len(values)
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Balance âgée par tranche" class="chart">']
    parts.append(f'<line x1="0" y1="{h - bottom}" x2="{w}" y2="{h - bottom}" stroke="#999" stroke-width="1"/>')
    for n, (label, value, colour) in enumerate(values):
        bh = float(value / peak) * (h - top - bottom)
        x = n * slot + slot * 0.15
        y = h - bottom - bh
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bh:.1f}" fill="{colour}" rx="2"/>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 6:.1f}" text-anchor="middle" class="v">{escape(_k(value))}</text>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{h - bottom + 18}" text-anchor="middle" class="l">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_top_debtors(report: Ageing, n: int = 10) -> str:
    top = report.top_debtors(n)
    row, w, label_w = 26, 600, 210
    h = max(1, len(top)) * row + 10
    peak = max([r.total for r in top] + [Decimal(1)])
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Principaux débiteurs" class="chart">']
    for i, r in enumerate(top):
        y = 5 + i * row
        bw = float(r.total / peak) * (w - label_w - 90)
        name = r.debtor if len(r.debtor) <= 30 else r.debtor[:29] + "…"
        colour = "#7b1e1e" if r.collective else "#2f5d8a"
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" class="l">{escape(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(bw, 1):.1f}" height="{row - 9}" fill="{colour}" rx="2"/>')
        parts.append(f'<text x="{label_w + bw + 6:.1f}" y="{y + 17}" class="v">{escape(_k(r.total))}</text>')
    if not top:
        parts.append('<text x="10" y="20" class="l">Aucune somme due.</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_recovered(report: Ageing) -> str:
    months = list(report.recovered_by_month)[-MONTHS_SHOWN:]
    w, h, top, bottom = 1100, 180, 24, 36
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Sommes recouvrées par mois" class="chart">']
    parts.append(f'<line x1="0" y1="{h - bottom}" x2="{w}" y2="{h - bottom}" stroke="#999" stroke-width="1"/>')
    if not months:
        parts.append(f'<text x="10" y="{h / 2:.0f}" class="l">Aucun paiement reçu depuis une première relance.</text>')
    peak = max([a for _, a in months] + [Decimal(1)])
    slot = w / max(len(months), 1)
    for n, (month, amount) in enumerate(months):
        bh = float(amount / peak) * (h - top - bottom)
        x = n * slot + slot * 0.2
        y = h - bottom - bh
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{bh:.1f}" fill="#3c8d5a" rx="2"/>')
        parts.append(f'<text x="{x + slot * 0.3:.1f}" y="{y - 6:.1f}" text-anchor="middle" class="v">{escape(_k(amount))}</text>')
        parts.append(f'<text x="{x + slot * 0.3:.1f}" y="{h - bottom + 16}" text-anchor="middle" class="l">'
                     f'{escape(month[5:] + "/" + month[2:4])}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- HTML


def html_page(report: Ageing, title: str = "", user_dirs=()) -> str:
    """The report as one self-contained HTML page (template ``reports/ageing.html``)."""
    from markupsafe import Markup


    def case_ctx(r: CaseRow) -> dict[str, Any]:
        return {"row": r, "invoices": [i for i in r.invoices if i.outstanding > 0]}

    return render("reports/ageing.html", {
        "report": report,
        "title": title,
        "buckets": BUCKET_LABELS_FR,
        "colours": BUCKET_COLOURS,
        "cases": [case_ctx(r) for r in report.rows if not r.error],
        "errors": report.errors,
        "overdue": sum(report.buckets[1:], Decimal(0)),
        "chart_ageing": Markup(svg_ageing_bars(report)),
        "chart_top": Markup(svg_top_debtors(report)),
        "chart_recovered": Markup(svg_recovered(report)),
        "estimated": any(i.due_estimated for r in report.rows for i in r.invoices),
    }, user_dirs)
