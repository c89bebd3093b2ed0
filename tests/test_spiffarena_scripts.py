"""SpiffArena's script globals and functions in a deployed model, and their limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from server.engine.sandbox import SandboxError
from server.engine.scripting import SandboxedEnvironment
from server.extensions import db
from server.models import Case

from .test_studio import (
    deploy,
    draft_of,
    filed_case,
    is_open,
    map_customer_care,
    problems,
    upload,
    work,
)

FIXTURE = Path(__file__).parent / "fixtures" / "spiffarena" / "scripts"
BPMN = "scripted-complaint.bpmn"


def fixture_zip(**replaced: bytes) -> bytes:
    """The fixture zipped as SpiffArena exports a process model."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FIXTURE.iterdir()):
            archive.writestr(f"scripted/{path.name}", replaced.get(path.name, path.read_bytes()))
    return buffer.getvalue()


def check_outcome(case_id: int, closer: str, triager: str) -> None:
    """What the script task left in the case data."""
    from server.services import cases
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert not case.is_open
    data = cases.case_data(case)
    assert data["closed_by"] == closer and data["triaged_by"] == triager
    assert data["filed_by"] == "complainant"
    assert data["total_with_fee"] == "14.38"  # a Decimal, stored as its digits
    assert data["parsed"] == {"outcome": "refunded", "total": "14.38",
                              "follow_up": data["follow_up"]}
    assert len(data["follow_up"]) == 10 and 0 <= data["local_hour"] < 24
    assert data["environment"] == "production" and "user" not in data


def test_a_spiffarena_scripted_model_deploys_in_the_studio_and_runs_over_http(
        app, app_ctx, auth) -> None:
    owner = auth.signed_in("olga", "process_owner")
    map_customer_care(auth)
    done = deploy(owner, draft_of(upload(owner, ("scripted.zip", fixture_zip()))))
    assert done.status_code == 200, done.get_json()
    case = filed_case(app.test_client())
    assert work(auth.signed_in("hana", "handler"), case,
                {"category": "billing", "refund_needed": "true"}) == "Triage complaint"
    assert work(auth.signed_in("sara", "supervisor"), case,
                {"refund_approved": "true", "refund_amount": "12.5"}) == "Approve refund"
    assert not is_open(case)
    check_outcome(case.id, "sara", "hana")


def test_the_same_model_deploys_by_cli_and_runs_through_the_services(
        app, app_ctx, auth, runner) -> None:
    from server.models import HumanTask, User
    from server.services import cases
    from server.services.actors import Actor
    map_customer_care(auth)
    result = runner.invoke(args=["deploy", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    case = filed_case(app.test_client())
    work(auth.signed_in("hana", "handler"), case, {"category": "billing", "refund_needed": "true"})
    auth.signed_in("sara", "supervisor")
    db.session.rollback()
    actor = Actor.for_user(db.session.scalar(select(User).where(User.username == "sara")))
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    cases.complete_task(case.reference, task.task_id,
                        {"refund_approved": True, "refund_amount": 12.5}, actor)
    check_outcome(case.id, "sara", "hana")


def test_spiffarena_functions_plaint_lacks_are_refused_at_deploy_by_name(app_ctx, auth, runner,
                                                                          tmp_path) -> None:
    text = (FIXTURE / BPMN).read_text().replace(
        "environment = get_env()",
        "environment = get_env()\nkey = get_secret(\"api\")\nm = re.match(\"a\", \"a\")")
    owner = auth.signed_in("olga", "process_owner")
    draft = draft_of(upload(owner, ("scripted.zip", fixture_zip(**{BPMN: text.encode()}))))
    found = " ".join(p["message"] for p in problems(owner, draft))
    assert "get_secret, re" in found and "SpiffArena provides and Plaint does not" in found
    folder = tmp_path / "bundle"
    folder.mkdir()
    for path in FIXTURE.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / BPMN).write_text(text)
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code != 0 and "get_secret, re" in result.output


def test_get_frontend_url_gives_the_public_address_and_deploys(app, app_ctx, auth, runner,
                                                              tmp_path) -> None:
    from server.services.script_functions import HELPERS
    assert HELPERS["get_frontend_url"]() == app.config["PLAINT_PUBLIC_URL"]
    folder = tmp_path / "bundle"
    folder.mkdir()
    for path in FIXTURE.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / BPMN).write_text((FIXTURE / BPMN).read_text().replace(
        "environment = get_env()", "environment = get_env()\nlink = get_frontend_url()"))
    map_customer_care(auth)
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output


def run(script: str, limit: float = 1.0) -> dict:
    """Run a script in the sandbox as a script task would; return the data it leaves."""
    data: dict = {}
    SandboxedEnvironment(limit).execute(script, data)
    return data


@pytest.mark.parametrize(("script", "message"), [
    ("x = datetime.datetime.__subclasses__()", "__subclasses__"),
    ("x = datetime.now.__self__", "__self__"),
    ("x = json.JSONDecoder", "json.JSONDecoder is not available"),
    ("x = json._default_decoder", "_default_decoder"),
    ("x = json.loads('[]', object_hook=dict)", "unexpected keyword"),
    ("x = json.dumps([1], cls=dict)", "not cls"),
    ("x = json.dumps({'a': 1}, default=lambda o: 'x' * 10)", "takes str"),
    ("x = json.dumps(['a' * 900000, 'b' * 900000])", "json.dumps() would be larger"),
    ("x = json.dumps([1], indent=10**6)", "at most 16"),
    ("random.seed(42)", "random.seed is not available"),
    ("x = random.getstate()", "cannot be replayed"),
    ("x = random.Random", "random.Random is not available"),
    ("x = random.choices([1], k=10**9)", "more than 1,000,000"),
    ("x = random.getrandbits(10**7)", "bits"),
    ("time.sleep(60)", "stopped after running longer than"),
    ("x = decimal.getcontext()", "28 digits"),
    ("x = int(decimal.Decimal('1e999999'))", "digits"),
    ("x = round(decimal.Decimal('1e999999'))", "digits"),
    ("x = math.floor(decimal.Decimal('1e999999'))", "digits"),
    ("x = f\"{decimal.Decimal('1e999999999'):f}\"", "digits"),
    ("x = decimal.Decimal(10) ** 10000000", "Overflow"),
    ("x = decimal.Decimal(1).quantize(decimal.Decimal('1e-100000'))", "InvalidOperation"),
    ("x = decimal.Decimal(2).sqrt(context=None)", "no context"),
    ("x = datetime.strptime('2024', '%Y' * 5000)", "at most 1,000"),
    ("x = datetime(2024, 1, 1).strftime('%Y' * 5000)", "at most 1,000"),
    ("x = calendar.month(2024, 1, 10**6)", "at most 40"),
    ("calendar.setfirstweekday(6)", "every case"),
    ("x = uuid.uuid1()", "network address"),
    ("x = zoneinfo.ZoneInfo('../../etc/passwd')", "ZoneInfo"),
    ("x = zoneinfo.ZoneInfo('Asia/Riyadh')", "ZoneInfo, which is not data"),
    ("x = json.loads('{\"typename\": 1}')", "typename"),
    ("import json", "import is not allowed"),
    ("x = time.time.__module__", "__module__"),
])
def test_escape_routes_and_exhaustion_are_refused_with_a_clear_message(app_ctx, script,
                                                                       message) -> None:
    with pytest.raises(Exception) as caught:
        run(script)
    assert message in str(caught.value), str(caught.value)


def test_each_global_gives_what_spiffarena_models_expect(app_ctx) -> None:
    data = run(
        "d = datetime(2024, 1, 31, 9, 30)\n"
        "a = (d + timedelta(days=1)).isoformat()\n"
        "b = datetime.datetime.fromisoformat('2024-02-29T10:00:00').weekday()\n"
        "c = datetime.date(2024, 3, 1)\n"
        "e = isinstance(d, datetime)\n"
        "f = json.loads(json.dumps({'k': [1, 2]}))\n"
        "g = decimal.Decimal('0.1') + decimal.Decimal('0.2')\n"
        "h = len(str(uuid.uuid4()))\n"
        "i = 1 <= random.randint(1, 6) <= 6\n"
        "j = calendar.monthrange(2024, 2)[1]\n"
        "k = calendar.month_name[2]\n"
        "l = datetime(2024, 7, 1, tzinfo=zoneinfo.ZoneInfo('Europe/Paris')).utcoffset()"
        ".total_seconds()\n"
        "m = time.strftime('%Y', time.gmtime(0))\n"
        "n = pytz.timezone('US/Eastern').localize(datetime(2024, 1, 1)).isoformat()\n"
        "o = format(decimal.Decimal('2.5'), '.2f')\n")
    assert data["a"] == "2024-02-01T09:30:00" and data["b"] == 3 and data["c"] == "2024-03-01"
    assert data["e"] is True and data["f"] == {"k": [1, 2]} and data["g"] == "0.3"
    assert data["h"] == 36 and data["i"] is True and data["j"] == 29
    assert data["k"] == "February" and data["l"] == 7200 and data["m"] == "1970"
    assert data["n"] == "2024-01-01T00:00:00-05:00" and data["o"] == "2.50"
    assert data["d"].year == 2024  # datetimes stay datetimes: the serializer stores them


def test_sleep_within_the_limit_is_allowed(app_ctx) -> None:
    assert run("time.sleep(0.01)\nx = 1")["x"] == 1


def test_a_deployed_script_that_hits_a_limit_becomes_an_error_not_a_500(app_ctx) -> None:
    with pytest.raises(SandboxError):
        run("x = json.dumps(['a' * 900000, 'b' * 900000])")
