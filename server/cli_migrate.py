"""`flask --app server migrate-cases`: move running cases to another process version."""

from __future__ import annotations

import getpass
import sys

import click
from flask.cli import with_appcontext

from .errors import PlaintError


@click.command("migrate-cases")
@click.option("--from", "source", type=int, required=True, help="The version the cases are on.")
@click.option("--to", "target", type=int, required=True, help="The version to move them to.")
@click.option("--case", "references", multiple=True, help="A case reference (repeatable).")
@click.option("--at", "at_step", help="Only open cases at this step (its BPMN id).")
@click.option("--all", "every", is_flag=True, help="Every open case of the version.")
@click.option("--dry-run", is_flag=True, help="Only list what would change; move nothing.")
@with_appcontext
def migrate_cases(source: int, target: int, references: tuple[str, ...], at_step: str | None,
                  every: bool, dry_run: bool) -> None:
    """Move running cases from one process version to another (version numbers).

    Each case is checked first: a case whose move is unsafe stays where it is, with the
    reason. Exit 1 when any chosen case could not move.
    """
    from .cli import _fail
    from .services.actors import Actor
    from .services.processes import migration

    if not (references or at_step or every):
        click.secho("Error: choose the cases: --case REFERENCE, --at STEP or --all.",
                    fg="red", err=True)
        sys.exit(2)
    try:
        source_id = migration.version_by_number(source).id
        target_id = migration.version_by_number(target).id
        chosen = migration.select_cases(source_id, list(references), at_step)
        report = migration.dry_run(source_id, target_id, chosen) if dry_run else \
            migration.move(source_id, target_id, chosen,
                           Actor.system(f"migrate-cases ({getpass.getuser()})"))
    except PlaintError as exc:
        _fail(exc)
        return
    for case in report.cases:
        if case.refusals:
            click.secho(f"{case.reference}: cannot move: " + "; ".join(case.refusals),
                        fg="yellow")
            continue
        verb = "moved" if case.moved else "can move"
        at = ", ".join(case.at_after) or "-"
        notes = [f"removed: {', '.join(case.removed)}"] if case.removed else []
        notes += [f"added: {', '.join(case.added)}"] if case.added else []
        notes += [f"{t.title}: {t.before} -> {t.after}" for t in case.timers]
        notes += [f"{step} now asks for {', '.join(fields)}" for step, fields in case.asks]
        click.echo(f"{case.reference}: {verb} (at {at})" + (f"; {'; '.join(notes)}"
                                                            if notes else ""))
    click.echo(f"{len(report.movable)} of {len(report.cases)} case(s) "
               f"{'moved' if report.done else 'can move'} from version {source} to {target}; "
               f"{len(report.refused)} cannot.")
    if report.refused:
        sys.exit(1)
