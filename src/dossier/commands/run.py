"""``dossier run``: the daily batch over a portfolio (thin layer over :mod:`dossier.batch`)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from pathlib import Path

import click

from dossier.commands.common import at_option, echo_columns, rates_option, resolve_at
from dossier.stages import LETTER_STAGES


def _shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)) <= 10_000:
        raise click.BadParameter(f"{value!r}: expected I/N with 1 ≤ I ≤ N, e.g. 2/4", param_hint="--shard")
    return int(m.group(1)), int(m.group(2))


def _stages(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    items = {v.strip() for v in value.split(",") if v.strip()}
    bad = sorted(items - set(LETTER_STAGES))
    if bad:
        raise click.BadParameter(f"{', '.join(bad)}: expected letter stages among {', '.join(LETTER_STAGES)}",
                                 param_hint="--only")
    return frozenset(items)


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@click.command("run")
@click.argument("portfolio", type=click.Path(exists=True, file_okay=False), metavar="PORTFOLIO")
@at_option
@click.option("--dry-run", is_flag=True, help="Print what is due and what the run would do; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: the plan as JSON (the keys of `dossier plan --json`, plus action and amount).")
@click.option("--only", "only", default=None, metavar="STAGES", help="Comma-separated letter stages to act on (default: all).")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes that render the documents (default: the CPUs).")
@click.option("--send", is_flag=True, help="Send the emails and build the print job for real, recording everything in the case journals. "
                                           "Without it: a preview folder, nothing sent or recorded.")
@click.option("--limit", type=click.IntRange(0, 1_000_000), default=None, help="At most N documents sent or printed by this run; the rest waits for the next.")
@click.option("--shard", "shard", default=None, metavar="I/N", help="Only the I-th of N stable shares of the cases (by case reference), to spread a large portfolio over machines.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the print jobs and previews (default: PORTFOLIO/batches).")
@click.option("--simplex", is_flag=True, help="Print on one side: no blank versos.")
@click.option("--print-profile", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Print profile (YAML: window, duplex, envelopes, inserter marks, registered numbers, sender); default: portfolio.yaml's print_profile.")
@click.option("--rate", type=click.FloatRange(0.1, 100_000), default=None, help="At most this many emails per minute (default: portfolio.yaml batch.rate_per_minute, else no limit).")
@click.option("--yes", is_flag=True, help="Do not ask before sending more than 50 emails or printing more than 50 letters "
                                          "(portfolio.yaml batch.confirm_above).")
@rates_option
def run(portfolio, at, dry_run, as_json, only, jobs, send, limit, shard, out_dir, simplex, print_profile, rate, yes, rates_files) -> None:
    """Every document due today across PORTFOLIO (a folder of case folders).

    Decides per case what is due at --at (the same answer as `dossier plan`), renders it in
    worker processes, and with --send delivers it: emails over one SMTP session (sent once:
    a rerun after a crash sends only what the server did not accept), paper letters (the
    mise en demeure by registered post, letters to debtors without email) in one print job
    — courrier.pdf sorted by destination, manifest.csv, depot-recommandes.pdf — recorded
    "printed" until `dossier post confirm`. A case that fails is reported and skipped; the
    others go on. Exit code 0 when everything went through, 2 when a case or a delivery
    failed (each is listed).
    """
    from dossier import batch
    from dossier.law.rates import load_rates

    at = resolve_at(at)
    options = batch.RunOptions(at=at, only=_stages(only), jobs=jobs or _cpus(), send=send, limit=limit, shard=_shard(shard),
                               out_dir=Path(out_dir) if out_dir else None, simplex=simplex, rate=rate)
    rates = load_rates(rates_files)
    plan = batch.plan_run(portfolio, options, rates)
    emails, letters = batch.counts(plan)
    if dry_run:
        if as_json:
            click.echo(json.dumps([d.to_json() for d in plan], ensure_ascii=False, indent=2))
        else:
            _print_plan(plan)
            click.echo(f"would send {emails} email(s) and print {letters} letter(s)")
        if any(d.action == "error" for d in plan):
            click.get_current_context().exit(2)
        return
    above = batch.confirm_above(portfolio)
    if send and (emails > above or letters > above) and not yes:
        _print_plan([d for d in plan if d.action == "send"])
        if not sys.stdin.isatty():
            raise click.UsageError(f"this run would send {emails} email(s) and print {letters} letter(s): "
                                   "confirm with --yes (or cap it with --limit)")
        click.confirm(f"Send {emails} email(s) and print {letters} letter(s)?", abort=True)
    profile = _profile(portfolio, print_profile)
    if profile is not None:  # letters are laid out for the envelopes the job is checked against
        options = dataclasses.replace(options, window=profile.window)
    report = _execute(portfolio, plan, options, rates, profile)
    _print_summary(report)
    if report.failed or report.errors:
        click.get_current_context().exit(2)


def _profile(portfolio: str, path: str | None):
    from dossier.portfolio import load_portfolio
    from dossier.postal.profile import load_profile

    if path is None:
        name = load_portfolio(portfolio).settings.get("print_profile")
        if not name:
            return None
        path = str(Path(portfolio) / str(name))
    return load_profile(path)


def _execute(portfolio, plan, options, rates, profile):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    from dossier import batch

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f}/s" if speed else "")

    total = sum(1 for d in plan if d.action == "send")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn(),
                  transient=True, console=_console(), disable=total == 0) as bar:
        task = bar.add_task("rendering", total=total)
        return batch.execute(portfolio, plan, options, rates, print_profile=profile,
                             progress=lambda r: bar.advance(task))


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _print_plan(plan) -> None:
    echo_columns(("case", "stage", "due on", "channel", "action", "why"),
                 [(d.reference, d.stage or "—", d.due_on.isoformat() if d.due_on else "—", d.channel or "—", d.action,
                   d.reason) for d in plan])


def _print_summary(report) -> None:
    from rich.table import Table

    from dossier.fmt import money

    t = Table(title="dossier run", show_lines=False)
    for col, just in (("stage", "left"), ("channel", "left"), ("status", "left"), ("count", "right"), ("amount claimed", "right")):
        t.add_column(col, justify=just)
    for stage, channel, status, n, amount in report.summary():
        t.add_row(stage, channel, status, str(n), money(amount).replace("\u00a0", " ").replace("\u202f", " "))
    from rich.console import Console

    Console(soft_wrap=False).print(t)
    for d in report.errors:
        click.echo(f"{d.reference}: {d.reason}", err=True)
    for o in report.failed:
        click.echo(f"{o.reference}: {o.stage} by {o.channel}: {o.status}: {o.detail}", err=True)
    if report.print_job is not None:
        click.echo(f"print job: {report.print_job.folder} ({len(report.print_job.letters)} letter(s))")
