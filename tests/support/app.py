"""The test app's settings and the making of its databases."""

from __future__ import annotations

import uuid

from server import create_app
from server.extensions import db


def app_config(url: str) -> dict[str, object]:
    """The settings of a test app on the database at `url`."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-" + uuid.uuid4().hex,
        "PLAINT_SCRIPT_TIME_LIMIT": 0.5,
        "WTF_CSRF_ENABLED": True,
        # Tests move the clock by hours and days while someone is signed in; the idle
        # time-out has tests of its own, which set it back (test_account_hygiene.py).
        "PLAINT_IDLE_TIMEOUT_MINUTES": 10 * 365 * 24 * 60,
        # Timers fire inline: the tests of the engine workers ask for them (test_firing_pool.py).
        "PLAINT_SCHEDULER_PROCESSES": 0,
    }


def init_database(url: str) -> None:
    """Create the tables at `url` and deploy the reference process, as `flask init-db` does."""
    app = create_app(app_config(url))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
