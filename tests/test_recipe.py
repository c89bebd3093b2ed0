"""The production recipe of the README, started for real and used over HTTP.

PostgreSQL set up with `flask init-db`, gunicorn with server/gunicorn_conf.py and three
workers, two `flask scheduler` processes and the mail deliverer, on loopback; a complaint
filed on the public page and worked by a handler who signs in, a timer fired by a scheduler
process, the acknowledgement e-mail delivered once. Then the short soak (tests/support/soak.py).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import pytest

from .support import pgbouncer, soak
from .support.browse import STEPS, Browser
from .support.mail import MailServer
from .support.pg import PostgresServer
from .support.recipe_db import CHAIN, empty_database, fired, overdue_case, side_app
from .support.stack import running
from .support.wait import wait_for


@pytest.fixture
def server(postgres: PostgresServer | None) -> PostgresServer:
    """The run's PostgreSQL server; the test is skipped without one (unless required)."""
    if postgres is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql); "
                    "the production recipe test skipped")
    return postgres


@pytest.mark.timeout(300)  # a dozen processes start and stop on two shared cores
def test_the_recipe_serves_cases_fires_timers_and_mails_once(
        server: PostgresServer, mail_server: MailServer, tmp_path: Path) -> None:
    """The web workers go through PgBouncer in transaction mode where it is installed (CI);
    the soak below covers them connecting directly."""
    binary = pgbouncer.find()
    with empty_database(server) as url:
        if binary is None:
            work_cases(url, None, mail_server, tmp_path)
            return
        with pgbouncer.transaction_pool(binary, server, url.rsplit("/", 1)[1]) as pooled:
            work_cases(url, pooled, mail_server, tmp_path)


def work_cases(url: str, web_url: str | None, mail_server: MailServer, folder: Path) -> None:
    """Start the recipe (web workers on `web_url` when given) and take cases through it.

    At the end the inbox is opened many times at once: each worker runs the same queries on
    its connections often enough for psycopg to prepare them (after 5 runs), which fails
    through PgBouncer's shared server connections unless PLAINT_PGBOUNCER=1 stops it.
    """
    with running(folder, url, mail_server.port, [("hana", "handler")],
                 web_database_url=web_url) as stack:
        complainant = Browser(stack.url)
        reference, tracking = complainant.file_complaint(complainant_email="noor@example.com")
        assert tracking.startswith(stack.url)  # PLAINT_PUBLIC_URL makes the links
        assert reference in complainant.get(tracking.removeprefix(stack.url)).text
        handler = Browser(stack.url)
        handler.sign_in("hana")
        assert reference in handler.get("/tasks").text  # the new case waits in the inbox
        for _name, values in STEPS:
            path = handler.task_path(reference)
            assert path, f"no ready task on {reference}"
            done = handler.work(path, values)
            assert done.status_code == 302, (done.status_code, done.text[:2000])
        assert "We refunded the charge." in handler.get(f"/cases/{reference}").text

        app = side_app(url, stack.env["PLAINT_AUDIT_KEY"])
        late = overdue_case(app)
        assert wait_for(lambda: fired(app, [late])[late] == CHAIN, 60), stack.logs()

        # The complainant's e-mails: the acknowledgement, then the decision; each once.
        assert wait_for(lambda: len(mail_to(mail_server, "noor@example.com")) >= 2, 60), \
            stack.logs()
        time.sleep(3)  # the deliverer has run a few more times: nothing goes out twice
        received = mail_to(mail_server, "noor@example.com")
        subjects = [str(m["Subject"]) for m in received]
        assert len(subjects) == 2 and all(reference in s for s in subjects), subjects
        assert subjects[0].startswith("We have received your complaint"), subjects
        assert len({m["Message-ID"] for m in received}) == 2
        assert busy_inbox(stack.url, handler) == [200] * 60, stack.logs()
        assert stack.alive() == [], stack.logs()


def busy_inbox(base: str, signed_in: Browser) -> list[int]:
    """Open the inbox 60 times from 6 browsers at once (one person's session); the statuses."""
    def browser() -> Browser:
        tab = Browser(base)
        tab.http.cookies.update(signed_in.http.cookies)
        return tab

    tabs = [browser() for _ in range(6)]
    with ThreadPoolExecutor(len(tabs)) as pool:
        return list(pool.map(lambda n: tabs[n % len(tabs)].get("/tasks").status_code,
                             range(60)))


def mail_to(server: MailServer, address: str) -> list[EmailMessage]:
    """The messages the SMTP server received for this address, oldest first."""
    return [m for m in list(server.received) if address in str(m["To"])]


@pytest.mark.timeout(420)  # two minutes of soak, then the settling and counting
def test_the_short_soak_loses_nothing_while_processes_are_killed(
        server: PostgresServer, mail_server: MailServer, tmp_path: Path) -> None:
    with empty_database(server) as url:
        report = soak.run(tmp_path, url, mail_server, seconds=soak.SHORT_SECONDS)
    assert report.problems() == [], report.lines()
    assert report.steps > 0 and report.timers_fired > 0
    # A web worker, a scheduler and the deliverer were each killed at least once.
    assert all(report.kills[victim] >= 1 for victim in soak.VICTIMS), report.lines()
