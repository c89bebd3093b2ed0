"""APScheduler wiring: wake up when the next timer falls due, claim it, fire it.

One job, ``plaint-timers``, sweeps the due timers (see services/timers.py: rows are
claimed atomically, so any number of schedulers in any number of processes fire each
timer once) and then moves its own next run to the next due time. It never sleeps
longer than PLAINT_SCHEDULER_MAX_SLEEP, which bounds how late a timer written by
another process can be noticed; a timer written by this process wakes it at once
(the ``timers_written`` signal), and on PostgreSQL so does one written by any process,
or a claim given back, through LISTEN on a connection of its own (services/wakeup.py).
The first run is immediate, so whatever fell due while no scheduler ran fires at start-up.
When PLAINT_SCHEDULER_PROCESSES asks for them, a burst runs the engine in worker processes
(services/firing.py), started with the scheduler (in the background: sweeps fire inline
until they are ready) and stopped with it. Shutting down ends a burst's sweep after the
batch under way: the claims it took ahead are given back, not left to expire.

When an SMTP server is set, a second job, ``plaint-mail``, sends the outbox every
PLAINT_MAIL_INTERVAL seconds (services/outbox.py; an idle run is one index probe).

A third job, ``plaint-services``, makes the service tasks' calls every
PLAINT_SERVICE_INTERVAL seconds (services/service_calls.py: claimed like the outbox, made
outside any transaction, retried with back-off; an idle run is one index probe).

A fourth job, ``plaint-webhooks``, posts the webhook deliveries every
PLAINT_WEBHOOK_INTERVAL seconds (services/webhook_delivery.py: claimed like the outbox,
posted outside any transaction, retried with back-off; an idle run is one index probe).

A daily job, ``plaint-systemic``, looks for categories and products whose complaints rose
beyond their recent range (services/systemic.py); it first runs a minute after start-up,
and an alert is recorded, so several schedulers or restarts never alert a rise twice.

A daily job, ``plaint-access-log``, purges the access log's reads older than
PLAINT_ACCESS_LOG_DAYS (services/access_log.py); it first runs three minutes after start-up.

When a mailbox is set (PLAINT_MAILBOX_HOST), a job, ``plaint-mailbox``, reads it every
PLAINT_MAILBOX_INTERVAL seconds (services/mailbox.py: one reader at a time across processes,
by a lease row); where the server offers IMAP IDLE, a watcher thread of its own waits for
new mail and moves the job's next run to now, so mail is read at once without tying up a
job thread; it is stopped with the scheduler.

A daily job, ``plaint-retention``, applies the retention rules (services/retention.py);
it first runs ten minutes after start-up.

An hourly job, ``plaint-review-pack``, e-mails the management-review pack of the previous
month from the first working day of each month (services/pack_schedule.py); the month
sent is recorded with its messages, so it goes out once whatever runs it.

A daily job, ``plaint-dormant``, switches off accounts nobody signed in to for
PLAINT_DORMANT_DAYS (services/dormant.py; 0 turns it off); it first runs three minutes
after start-up, and an account already switched off is not touched again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from .extensions import db
from .signals import timers_written

log = logging.getLogger(__name__)
JOB_ID = "plaint-timers"
MAIL_JOB_ID = "plaint-mail"  # sends the outbox every PLAINT_MAIL_INTERVAL when SMTP is set
SERVICE_JOB_ID = "plaint-services"  # service tasks' calls, every PLAINT_SERVICE_INTERVAL
WEBHOOK_JOB_ID = "plaint-webhooks"  # webhook deliveries, every PLAINT_WEBHOOK_INTERVAL
SYSTEMIC_JOB_ID = "plaint-systemic"  # the daily systemic-issue check
SYSTEMIC_FIRST_RUN = timedelta(minutes=1)
PACK_JOB_ID = "plaint-review-pack"  # the monthly management-review pack, checked hourly
PACK_FIRST_RUN = timedelta(minutes=2)
DORMANT_JOB_ID = "plaint-dormant"  # switches off unused accounts, daily
DORMANT_FIRST_RUN = timedelta(minutes=3)
ACCESS_LOG_JOB_ID = "plaint-access-log"  # the daily purge of old access-log reads
ACCESS_LOG_FIRST_RUN = timedelta(minutes=4)
RETENTION_JOB_ID = "plaint-retention"  # the daily retention run
RETENTION_FIRST_RUN = timedelta(minutes=10)
MAILBOX_JOB_ID = "plaint-mailbox"  # reads the complaints mailbox, when one is set
SLEEP_IN_JOB = timedelta(seconds=0.5)
# After a sweep that fired nothing although something was due (a row a moment ahead of its
# case, a case that keeps failing), the next sweep waits this long instead of coming back
# at once: a timer that cannot fire must not spin the scheduler.
PAUSE_AFTER_NOTHING = timedelta(seconds=1)


class TimerScheduler:
    """Fires due timers for one app, waking at the next due time."""

    def __init__(self, app: Flask, *, blocking: bool = False,
                 until_idle: bool = False) -> None:
        from .services.timers import worker_name

        self.app = app
        self.worker = worker_name()
        self.max_sleep = timedelta(seconds=app.config["PLAINT_SCHEDULER_MAX_SLEEP"])
        self.until_idle = until_idle
        self.sweeps = 0
        self.fired = 0
        self.mailed = 0
        self.called = 0
        self.posted = 0
        self.mail_read = 0
        self._watcher: Any = None  # the mailbox's IDLE watcher, when one runs
        self._lock = threading.Lock()
        # Held while a sweep job runs. APScheduler's shutdown(wait=True) holds its job-store
        # lock while it waits for running jobs, and a job that reschedules itself needs that
        # lock: so shutdown first waits here for the sweep to end, and no sweep starts after.
        self._busy = threading.Lock()
        self._closing = False
        self._written: datetime | None = None  # earliest timer written here since the last sweep
        self.listener: Any = None  # LISTENs for timers written elsewhere, on PostgreSQL
        kind: type[BaseScheduler] = BlockingScheduler if blocking else BackgroundScheduler
        self._scheduler = kind(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    def start(self) -> None:
        """Start firing timers (blocks until shutdown for a blocking scheduler)."""
        timers_written.connect(self.wake_by, sender=self.app, weak=False)
        self._listen()
        self._scheduler.add_job(self._wake, "interval", id=JOB_ID, next_run_time=_now(),
                                seconds=self.max_sleep.total_seconds())
        if self.app.config.get("PLAINT_SMTP_HOST"):
            self._scheduler.add_job(self._deliver_mail, "interval", id=MAIL_JOB_ID,
                                    next_run_time=_now(),
                                    seconds=self.app.config["PLAINT_MAIL_INTERVAL"])
        if not self.until_idle:  # a batch run makes the calls due as it ends (_sweep_until_idle)
            self._scheduler.add_job(self._call_services, "interval", id=SERVICE_JOB_ID,
                                    next_run_time=_now(),
                                    seconds=self.app.config["PLAINT_SERVICE_INTERVAL"])
            self._scheduler.add_job(self._post_webhooks, "interval", id=WEBHOOK_JOB_ID,
                                    next_run_time=_now(),
                                    seconds=self.app.config["PLAINT_WEBHOOK_INTERVAL"])
            self._watch_mailbox()
            self._scheduler.add_job(self._systemic, "interval", id=SYSTEMIC_JOB_ID, days=1,
                                    next_run_time=_now() + SYSTEMIC_FIRST_RUN)
            self._scheduler.add_job(self._review_pack, "interval", id=PACK_JOB_ID, hours=1,
                                    next_run_time=_now() + PACK_FIRST_RUN)
            if self.app.config.get("PLAINT_DORMANT_DAYS"):
                self._scheduler.add_job(self._dormant, "interval", id=DORMANT_JOB_ID, days=1,
                                        next_run_time=_now() + DORMANT_FIRST_RUN)
            self._scheduler.add_job(self._purge_access_log, "interval", id=ACCESS_LOG_JOB_ID,
                                    days=1, next_run_time=_now() + ACCESS_LOG_FIRST_RUN)
            self._scheduler.add_job(self._retention, "interval", id=RETENTION_JOB_ID, days=1,
                                    next_run_time=_now() + RETENTION_FIRST_RUN)
        log.info("timer scheduler %s started", self.worker)
        if not self.until_idle:  # a batch run starts them only for a burst it finds
            self._start_engine_workers()
        self._scheduler.start()

    def _start_engine_workers(self) -> None:
        """Start the engine workers now, so that a burst finds them ready (firing.py).

        They take seconds to start; sweeps fire inline until they are ready.
        """
        from .services import firing

        with self.app.app_context():
            firing.workers_ready()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler; a sweep under way finishes first when `wait`."""
        timers_written.disconnect(self.wake_by, sender=self.app)
        self._closing = True
        if self._watcher is not None:
            self._watcher.stop()
        if self.listener is not None:
            self.listener.stop()
        with self._busy:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=wait)
            from .services import firing

            firing.shutdown(self.app)  # no sweep runs now: its engine workers may go

    @property
    def next_wake(self) -> datetime | None:
        """When the scheduler will sweep next."""
        job = self._scheduler.get_job(JOB_ID)
        return job.next_run_time if job is not None else None

    def wake_by(self, sender: Any, due_at: datetime) -> None:
        """A timer due at `due_at` was just written: be awake by then."""
        with self._lock:
            if self._written is None or due_at < self._written:
                self._written = due_at
        nxt = self.next_wake
        if nxt is not None and due_at < nxt:
            self._reschedule(due_at)

    def _listen(self) -> None:
        """On PostgreSQL, wake for timers written and claims given back by any process."""
        from .services.wakeup import Listener

        with self.app.app_context():
            engine = db.engine
        if engine.dialect.name != "postgresql":
            return
        direct = self.app.config.get("PLAINT_SCHEDULER_LISTEN_URL")
        if direct:  # past the pooler: a LISTEN needs a session of its own
            engine = create_engine(direct, poolclass=NullPool)
        self.listener = Listener(engine, lambda due_at: self.wake_by(None, due_at),
                                 self.max_sleep.total_seconds(), self.worker)
        self.listener.start()

    def _wake(self) -> None:
        if self._closing or not self._busy.acquire(blocking=False):
            return
        try:
            self._sweep_until_idle()
        finally:
            self._busy.release()

    def _sweep_until_idle(self) -> None:
        with self._lock:
            self._written = None
        while not self._closing:
            result, upcoming = self._sweep()
            self.sweeps += 1
            now = _now()
            if self.until_idle and result is not None and result.claimed == 0 and (
                    upcoming is None or upcoming > now):
                self._call_services()  # a batch run makes the calls due before it exits
                self._deliver_mail()  # and sends what is due
                self._post_webhooks()
                self._scheduler.remove_job(JOB_ID)
                # The whole shutdown, listener included (it would outlive an in-process run),
                # from another thread: it waits for this sweep to let go of `_busy`.
                threading.Thread(target=self.shutdown, kwargs={"wait": False}).start()
                return
            with self._lock:
                written, self._written = self._written, None
            wake = min([now + self.max_sleep] + [t for t in (upcoming, written) if t])
            if result is not None and result.claimed and not result.fired:
                wake = max(wake, now + PAUSE_AFTER_NOTHING)
            if wake - now > SLEEP_IN_JOB:
                self._reschedule(wake)
                return
            # Due in a moment: wait here, because a run moved to "now" while this one is
            # still going would be skipped by APScheduler until the next interval.
            time.sleep(max(0.0, (wake - now).total_seconds()))

    def _sweep(self) -> tuple[Any, datetime | None]:
        from .services import timers

        with self.app.app_context():
            try:
                # Shutting down ends a burst's sweep after the batch under way.
                result = timers.sweep(worker=self.worker, stop=lambda: self._closing)
                self.fired += result.fired
                return result, timers.next_due()
            except Exception:  # a broken database must not kill the scheduler thread
                log.exception("timer sweep failed; retrying in %s", self.max_sleep)
                return None, None
            finally:
                db.session.remove()

    def _deliver_mail(self) -> None:
        from .services import outbox

        self.mailed += self._at_interval("e-mail delivery", lambda: outbox.deliver_due().sent)

    def _watch_mailbox(self) -> None:
        """Read the mailbox at its interval; wait in IDLE for new mail where allowed."""
        config = self.app.config
        if not config.get("PLAINT_MAILBOX_HOST"):
            return
        self._scheduler.add_job(self._read_mailbox, "interval", id=MAILBOX_JOB_ID,
                                next_run_time=_now(),
                                seconds=config["PLAINT_MAILBOX_INTERVAL"])
        if config.get("PLAINT_MAILBOX_IDLE"):
            from .services.mailbox import IdleWatcher

            self._watcher = IdleWatcher(self.app, self.read_mailbox_now)
            self._watcher.start()

    def read_mailbox_now(self) -> None:
        """New mail arrived: run the mailbox job at once (it skips if it is running)."""
        if self._closing:
            return
        try:
            self._scheduler.modify_job(MAILBOX_JOB_ID, next_run_time=_now())
        except Exception:  # noqa: S110 - the job is gone: the scheduler is shutting down
            pass

    def _read_mailbox(self) -> None:
        from .services import mailbox

        self.mail_read += self._at_interval(
            "mailbox reading", lambda: mailbox.read_mailbox(self.worker).read)

    def _call_services(self) -> None:
        from .services import service_calls

        self.called += self._at_interval("service calls", lambda: service_calls.run_due().done)

    def _post_webhooks(self) -> None:
        from .services import webhook_delivery

        self.posted += self._at_interval("webhook delivery",
                                         lambda: webhook_delivery.deliver_due().delivered)

    def _at_interval(self, what: str, job: Callable[[], int]) -> int:
        """Run an interval job in an app context; how many it did (0 when it failed)."""
        with self.app.app_context():
            try:
                return job()
            except Exception:  # a broken database must not kill the scheduler thread
                log.exception("%s failed; retrying at the next interval", what)
                return 0
            finally:
                db.session.remove()

    def _systemic(self) -> None:
        from .services import systemic

        with self.app.app_context():
            try:
                systemic.run()
            except Exception:  # a broken database must not kill the scheduler thread
                log.exception("systemic-issue check failed; retrying tomorrow")
            finally:
                db.session.remove()

    def _purge_access_log(self) -> None:
        from .services import access_log

        with self.app.app_context():
            try:
                gone = access_log.purge()
                if gone:
                    log.info("access log: %d reads past PLAINT_ACCESS_LOG_DAYS purged", gone)
            except Exception:  # a broken database must not kill the scheduler thread
                log.exception("access-log purge failed; retrying tomorrow")
            finally:
                db.session.remove()

    def _review_pack(self) -> None:
        from .services import pack_schedule

        with self.app.app_context():
            try:
                pack_schedule.run()
            except Exception:  # a broken database must not kill the scheduler thread
                log.exception("management-review pack sending failed; retrying in an hour")
            finally:
                db.session.remove()

    def _dormant(self) -> None:
        from .services import dormant

        self._at_interval("switching off dormant accounts",
                          lambda: len(dormant.switch_off_dormant()))

    def _retention(self) -> None:
        from .services import retention
        from .services.actors import Actor

        with self.app.app_context():
            try:
                retention.run(Actor.system("retention"))
            except Exception:  # a broken database must not kill the scheduler thread
                log.exception("retention run failed; retrying tomorrow")
            finally:
                db.session.remove()

    def _reschedule(self, when: datetime) -> None:
        if self._closing:
            return
        try:
            self._scheduler.modify_job(JOB_ID, next_run_time=when)
        except Exception:  # noqa: S110 - the job is gone: the scheduler is shutting down
            pass


def _now() -> datetime:
    return datetime.now(UTC)


def init_app(app: Flask) -> None:
    """Run the scheduler inside this app when PLAINT_SCHEDULER is "in-app"."""
    if app.config.get("PLAINT_SCHEDULER") != "in-app":
        return
    scheduler = TimerScheduler(app)
    app.extensions["plaint.scheduler"] = scheduler
    scheduler.start()
