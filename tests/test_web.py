"""The pages that exist at this stage, through the test client."""

from __future__ import annotations

from itertools import product
from pathlib import Path

from werkzeug.routing import AnyConverter, IntegerConverter

from server import create_app
from server.config import instance_secret_key


def test_the_start_page_tells_complainants_how_to_complain(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "How to complain" in body and 'href="/complaints/new"' in body
    # Staff set-up (the CLI, the process version) is in the README, not on this page.
    assert "reset-password" not in body and "version 1" not in body


def test_the_page_styles_are_served_locally_never_from_the_internet(client) -> None:
    body = client.get("/").get_data(as_text=True)
    assert "https://" not in body.split("<main")[0]
    css = client.get("/static/vendor/bootstrap/bootstrap.min.css")
    assert css.status_code == 200 and b"Bootstrap" in css.data[:200]
    assert client.get("/static/css/plaint.css").status_code == 200


def test_health_check_answers_json(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_unknown_pages_get_a_plain_404_without_internals(client) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    body = page.get_data(as_text=True)
    assert "Not found" in body and "Traceback" not in body
    api = client.get("/api/nothing")
    assert api.status_code == 404 and "error" in api.get_json()


def test_the_secret_key_is_generated_once_per_instance_and_kept_private(tmp_path: Path) -> None:
    first = instance_secret_key(str(tmp_path))
    assert len(first) >= 48 and instance_secret_key(str(tmp_path)) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    other = instance_secret_key(str(tmp_path / "elsewhere"))
    assert other != first


def test_settings_come_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PLAINT_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("PLAINT_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("PLAINT_SCRIPT_TIME_LIMIT", "0.25")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/x.db"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["PLAINT_SCRIPT_TIME_LIMIT"] == 0.25



def test_every_route_answers_its_own_address(app) -> None:
    """No route hides another: each address built for a route is matched back to it."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        choices: dict[str, list[object]] = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                choices[name] = sorted(converter.items)  # every choice, e.g. csv and xlsx
            elif isinstance(converter, IntegerConverter):
                choices[name] = [1]
            else:
                choices[name] = ["sample-value"]
        method = next(iter(sorted(rule.methods - {"HEAD", "OPTIONS"})), "GET")
        for picked in product(*choices.values()):
            _domain, path = rule.build(dict(zip(choices, picked, strict=True)))
            endpoint, _args = adapter.match(path, method=method)
            assert endpoint == rule.endpoint, f"{path} reaches {endpoint}, not {rule.endpoint}"
