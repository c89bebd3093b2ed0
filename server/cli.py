"""`flask --app server ...` commands: set-up, accounts, deploys, timers, audit."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from .errors import PlaintError
from .extensions import db
from .models import ROLES, ProcessVersion, User

REPO = Path(__file__).resolve().parent.parent
REFERENCE_PROCESS = (REPO / "workflows", REPO / "forms")


def _fail(exc: PlaintError) -> None:
    click.secho(f"Error: {exc.message}", fg="red", err=True)
    for issue in getattr(exc, "issues", []):
        click.echo(f"  {issue}", err=True)
    sys.exit(1)


def _warn(lines: list[str]) -> None:
    """Say what a deploy went through with but someone should fix (missing translations)."""
    for line in lines:
        click.secho(("" if line.startswith(" ") else "Warning: ") + line, fg="yellow", err=True)


@click.command("init-db")
@click.option("--demo", is_flag=True,
              help="Also create one account per role (passwords printed once).")
@with_appcontext
def init_db(demo: bool) -> None:
    """Migrate the schema; deploy the reference process when none is deployed."""
    from .services import form_looks, process_texts, processes, users
    from .services.actors import Actor

    upgrade(directory=current_app.extensions["migrate"].directory)
    processes.ensure_roles()
    try:
        if db.session.scalar(select(ProcessVersion.id).limit(1)) is None:
            files = processes.read_folders(*REFERENCE_PROCESS)
            version = processes.deploy(files, Actor.system("init-db"), note="reference process")
            click.echo(f"Deployed the reference process as version {version.number}.")
            _warn(process_texts.warnings(files) + form_looks.warnings(files))
        if demo and db.session.scalar(select(User.id).limit(1)) is None:
            click.echo("Demo accounts (these passwords are shown only now):")
            for role in ROLES:
                _user, password = users.create_user(role.replace("_", "-"), [role])
                click.echo(f"  {role.replace('_', '-'):<19} {password}   ({role})")
    except PlaintError as exc:
        _fail(exc)
    click.echo("Database ready.")


@click.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(sorted(ROLES)), help="Repeat for several roles.")
@click.option("--password", help="Generated and printed when not given.")
@click.option("--name", "display_name", help="Full name shown to colleagues.")
@click.option("--email")
@with_appcontext
def create_user(username: str, roles: tuple[str, ...], password: str | None,
                display_name: str | None, email: str | None) -> None:
    """Create a staff account."""
    from .services import users

    try:
        user, secret = users.create_user(username, list(roles), password, display_name, email)
    except PlaintError as exc:
        _fail(exc)
    click.echo(f"Created {user.username} ({', '.join(roles)}).")
    if not password:
        click.echo(f"Password (shown only now): {secret}")


@click.command("reset-password")
@click.argument("username")
@with_appcontext
def reset_password(username: str) -> None:
    """Give an account a new generated password, printed once."""
    from .services import users

    try:
        secret = users.reset_password(username)
    except PlaintError as exc:
        _fail(exc)
    click.echo(f"New password for {username} (shown only now): {secret}")


@click.command("reset-second-factor")
@click.argument("username")
@with_appcontext
def reset_second_factor(username: str) -> None:
    """Remove an account's second factor and recovery codes (a lost phone); sign it out."""
    from .services import mfa

    try:
        mfa.reset(username, "command line")
    except PlaintError as exc:
        _fail(exc)
    click.echo(f"The second factor of {username} is removed; it is signed out everywhere.")


@click.command("deploy")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--note", help="What changed, kept with the version.")
@click.option("--default-role", help="The role that works tasks outside any lane (default: "
              "the role of the start event's lane, else PLAINT_DEFAULT_TASK_ROLE).")
@with_appcontext
def deploy(paths: tuple[Path, ...], note: str | None, default_role: str | None) -> None:
    """Deploy the BPMN, DMN and form files in PATHS as the new active version."""
    from .engine import OUTSIDE_LANES, DeployIssue
    from .services import form_looks, process_texts, processes
    from .services.actors import Actor

    left_out: list[DeployIssue] = []
    try:
        files = processes.read_folders(*paths)
        version = processes.deploy(files, Actor.system("cli"), note, default_role=default_role,
                                   warnings=left_out)
    except PlaintError as exc:
        _fail(exc)
    click.echo(f"Deployed {version.process_id} as version {version.number}; new cases use it.")
    if version.role_map.get(OUTSIDE_LANES):
        click.echo(f"Tasks outside any lane go to the role {version.role_map[OUTSIDE_LANES]}.")
    if processes.runtime_for(version.id).start_form not in files:
        click.echo("The start event names no intake form: the default intake form applies.")
    kept = {f.name: f.content for f in version.files}
    _warn([str(w) for w in left_out] + process_texts.warnings(kept) + form_looks.warnings(kept))


@click.command("fire-timers")
@with_appcontext
def fire_timers() -> None:
    """Fire every timer that is due now (one sweep)."""
    from .services import timers

    result = timers.sweep()
    click.echo(f"Fired {result.fired} timer(s) in {result.cases} case(s); "
               f"{result.failed} failed, {result.conflicts} deferred.")
    if result.failed:
        sys.exit(1)


@click.command("scheduler")
@click.option("--until-idle", is_flag=True,
              help="Exit once nothing is due (for batch runs and tests) instead of running on.")
@click.option("--no-mail", is_flag=True,
              help="Send no e-mail: a `deliver-mail --loop` process sends the outbox.")
@with_appcontext
def scheduler(until_idle: bool, no_mail: bool) -> None:
    """Run the timer scheduler in this process until stopped (Ctrl+C or SIGTERM)."""
    import signal

    from .scheduler import TimerScheduler

    if no_mail:
        # The scheduler sends the outbox only when an SMTP host is set: this process forgets
        # it, so one environment file serves every process and only the deliverer sends.
        current_app.config["PLAINT_SMTP_HOST"] = ""
    runner = TimerScheduler(current_app._get_current_object(),  # type: ignore[attr-defined]
                            blocking=True, until_idle=until_idle)

    def stop(signum: int, frame: object) -> None:
        runner.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Timer scheduler {runner.worker} running"
               + (" until nothing is due." if until_idle else "; Ctrl+C stops it."))
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        runner.shutdown(wait=False)
    click.echo(f"Timer scheduler {runner.worker} stopped after {runner.sweeps} sweep(s); "
               f"fired {runner.fired} timer(s).")


@click.command("deliver-mail")
@click.option("--loop", is_flag=True, help="Keep sending every PLAINT_MAIL_INTERVAL seconds "
              "until stopped (Ctrl+C or SIGTERM): a deliverer process of its own.")
@with_appcontext
def deliver_mail(loop: bool) -> None:
    """Send the e-mails due in the outbox now, once (the scheduler does this by itself)."""
    from .services import outbox

    if not outbox.smtp_configured():
        click.echo("No SMTP server is set (PLAINT_SMTP_HOST): e-mails wait in the outbox.")
        return
    if loop:
        _deliver_until_stopped(current_app.config["PLAINT_MAIL_INTERVAL"])
        return
    result = outbox.deliver_due()
    click.echo(f"Sent {result.sent} e-mail(s); {result.retrying} to be retried later; "
               f"{result.failed} failed.")


def _deliver_until_stopped(interval: float) -> None:
    """Send what is due, sleep `interval` seconds, again, until SIGTERM or Ctrl+C."""
    import signal
    import threading

    from .services import outbox

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    click.echo(f"Mail deliverer running every {interval:g} s; Ctrl+C stops it.")
    sent = 0
    try:
        while not stopping.is_set():
            try:
                sent += outbox.deliver_due().sent
            except Exception:  # the database went away: say so, keep going, try again
                db.session.rollback()
                current_app.logger.exception("sending the outbox failed; trying again")
            db.session.remove()
            stopping.wait(interval)
    except KeyboardInterrupt:
        pass
    click.echo(f"Mail deliverer stopped; sent {sent} e-mail(s).")


@click.command("call-services")
@with_appcontext
def call_services() -> None:
    """Make the service tasks' calls due now, once (the scheduler does this by itself)."""
    from .services import service_calls

    result = service_calls.run_due()
    click.echo(f"Made {result.claimed} service call(s): {result.done} done, "
               f"{result.retrying} to be retried later, {result.failed} failed.")


@click.command("deliver-webhooks")
@with_appcontext
def deliver_webhooks() -> None:
    """Post the webhook deliveries due now, once (the scheduler does this by itself)."""
    from .services import webhook_delivery

    result = webhook_delivery.deliver_due()
    click.echo(f"Delivered {result.delivered} webhook event(s); {result.retrying} to be "
               f"retried later; {result.failed} failed.")


@click.command("read-mailbox")
@with_appcontext
def read_mailbox() -> None:
    """Read the complaints mailbox once (the scheduler does this by itself)."""
    from .services import mailbox
    from .services.timers import worker_name

    if not mailbox.configured():
        click.echo("No mailbox is set (PLAINT_MAILBOX_HOST): nothing to read.")
        return
    try:
        result = mailbox.read_mailbox(worker_name())
    except Exception as exc:  # the server, the login or the network: say which
        click.secho(f"Error: the mailbox could not be read: {type(exc).__name__}: {exc}",
                    fg="red", err=True)
        sys.exit(1)
    if result.busy:
        click.echo("Another process is reading the mailbox now; nothing done.")
        return
    click.echo(f"Read {result.read} e-mail(s): {result.cases} new case(s), {result.added} "
               f"added to cases, {result.ignored} ignored, {result.held} kept for a person.")


@click.command("verify-audit")
@with_appcontext
def verify_audit() -> None:
    """Check every history, the system log and the newest checkpoint; exit 1 on a problem."""
    from .services import checkpoints

    report = checkpoints.verify()
    click.echo(f"Checked {report.cases} case(s) with {report.events} event(s) and "
               f"{report.system_events} system event(s).")
    if report.checkpoint:
        click.echo(f"Compared with checkpoint {report.checkpoint}.")
    else:
        click.secho("No checkpoint file: deleted cases or newest events cannot be detected "
                    "(run `flask audit-checkpoint`).", fg="yellow")
    for note in report.notes:
        click.echo(f"Note: {note}.")
    for problem in report.problems:
        click.secho(problem, fg="red", err=True)
    if report.problems:
        click.secho(f"{len(report.problems)} problem(s): the audit trail was tampered with.",
                    fg="red", err=True)
        sys.exit(1)
    click.echo("Every case history and the system log are intact.")


@click.command("audit-checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign every case's event count and head, and the system log's, into a checkpoint file."""
    from .services import checkpoints

    path = checkpoints.take()
    click.echo(f"Wrote {path}. Copy it off this machine: verify-audit compares with it.")


@click.command("purge-case")
@click.argument("reference")
@click.option("--reason", required=True, help="Why the case is deleted (retention rule).")
@with_appcontext
def purge_case(reference: str, reason: str) -> None:
    """Delete a case and its history for retention, leaving a signed tombstone."""
    from .services import checkpoints
    from .services.actors import Actor

    try:
        stone = checkpoints.purge_case(reference, reason,
                                       Actor.system(f"purge-case ({getpass.getuser()})"))
    except PlaintError as exc:
        _fail(exc)
    click.echo(f"Purged {reference} ({stone.event_count} events); its tombstone is signed.")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="List the cases each rule would touch now; "
              "change nothing.")
@with_appcontext
def retention(dry_run: bool) -> None:
    """Apply the retention rules now (the scheduler does it daily), or list what they touch."""
    from .services import retention as rules
    from .services.actors import Actor

    if dry_run:
        plans = rules.plan()
    else:
        result = rules.run(Actor.system(f"retention ({getpass.getuser()})"))
        plans = result.plans
    if not plans:
        click.echo("No retention rules.")
    for found in plans:
        rule = found.rule
        click.echo(f"Rule {rule.id} ({rule.action} {rule.outcome} after {rule.after_months} "
                   f"months): {len(found.due)} case(s)"
                   + (" would be touched" if dry_run else ""))
        for _case_id, reference in found.due:
            click.echo(f"  {reference}")
        for reference in found.held:
            click.echo(f"  {reference} skipped: on legal hold")
    if not dry_run:
        for line in result.refused:
            click.secho(f"Refused {line}", fg="yellow", err=True)
        click.echo(f"Done: {len(result.touched)} erasure(s).")


@click.group("reports")
def reports() -> None:
    """Reporting facts (one row per case)."""


@reports.command("rebuild")
@with_appcontext
def rebuild_reports() -> None:
    """Recompute every case's reporting facts from its saved state."""
    from .services import reporting

    count = reporting.rebuild()
    click.echo(f"Rebuilt the reporting facts of {count} cases.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    from .cli_migrate import migrate_cases

    app.cli.add_command(migrate_cases)
    for command in (init_db, create_user, reset_password, reset_second_factor, deploy,
                    fire_timers, scheduler,
                    deliver_mail, call_services, deliver_webhooks, read_mailbox,
                    verify_audit, audit_checkpoint, purge_case, retention, reports):
        app.cli.add_command(command)


def main() -> None:
    """The `plaint` console script: the same commands as `flask --app server`."""
    from . import create_app

    FlaskGroup(create_app=create_app)()
