"""The case bundle: a ZIP with the whole record, the documents and a manifest, for referral
to external dispute resolution and for audit; every export leaves a trace in the history.

Cases are taken to a decision by completing whatever the process asks with valid values
read from each task's form, so these tests do not depend on the diagram's exact steps.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage

from server.errors import Forbidden
from server.services import attachments, audit, cases, letters, portal
from server.services.actors import Actor
from server.services.processes import form_schema

from .web_helpers import make_user, post, sign_in

ALL_STAFF = frozenset({"handler", "supervisor", "complaints_manager", "specialist"})
REASONS = "The transfer of 3 March was booked twice; we returned the duplicate amount."
INTAKE = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com",
          "product_service": "Current account", "remedy_sought": "Refund the duplicate charge",
          "description": "I was charged twice for the same transfer on 3 March.",
          "consent": True}
# Values for fields whose first valid value would take the case off the main path.
CHOSEN: dict[str, Any] = {
    "in_scope": True, "approved": True, "bundle_sent": True, "accepted": False,
    "outcome": "upheld", "response": REASONS, "remedy_offered": "Refund of the duplicate",
    "compensation_amount": 150, "review_outcome": "decision_confirmed",
    "review_note": "A second reviewer checked the bookings: the decision stands.",
    "reason": "I also lost interest on the amount.", "priority": "high"}
PDF_DOC = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- taking a case through the process --------------------------------------------------

def fill(schema: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any]:
    """Valid values for a form: the chosen ones, else the first valid value of each required."""
    values: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for name, spec in schema.get("properties", {}).items():
        if name in chosen and (name in required or not spec.get("enum")
                               or chosen[name] in spec["enum"]):
            values[name] = chosen[name]
        elif name in required:
            values[name] = _first_valid(spec)
    return values


def _first_valid(spec: dict[str, Any]) -> Any:
    """A value the schema of one field accepts."""
    if "enum" in spec:
        return spec["enum"][0]
    kind = spec.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return spec.get("default", spec.get("minimum", 1))
    if kind == "array":
        return []
    if spec.get("format") == "email":
        return "someone@example.com"
    return "Checked and noted."


def file_case(**intake: Any) -> tuple[str, str]:
    """Start a case through the services; return its reference and tracking token."""
    case = cases.start_case({**INTAKE, **intake}, "web", Actor.system("test-intake"))
    return case.reference, case.tracking_token


def drive(reference: str, until: Callable[[dict[str, Any]], bool],
          chosen: dict[str, Any] | None = None, steps: int = 30) -> dict[str, Any]:
    """Complete what the case waits for, step by step, until its data satisfies `until`."""
    chosen = {**CHOSEN, **(chosen or {})}
    for step in range(steps):
        case = cases.get_case(reference)
        data = cases.case_data(case)
        if until(data):
            return data
        tasks = cases.ready_tasks(case)
        if tasks:
            task = tasks[0]
            schema = form_schema(case.process_version_id, task.form) if task.form else {}
            values = fill(schema, chosen)
            try:  # a new person each step, so no objectivity rule refuses them
                cases.complete_task(reference, task.task_id, values,
                                    Actor(f"tester{step}", 9000 + step, ALL_STAFF))
            except Forbidden:
                cases.complete_task(reference, task.task_id, values, Actor.system("test"))
            continue
        asked = [q for q in portal.questions(case) if q["asked"]]
        assert asked, f"{reference} waits for nothing we can give (status {case.status_label})"
        portal.answer(case, asked[0], fill(asked[0]["schema"], chosen))
    raise AssertionError(f"{reference} did not get there in {steps} steps")


def decided(**intake: Any) -> tuple[str, str]:
    """A case with a decision; its reference and tracking token."""
    reference, token = file_case(**intake)
    drive(reference, lambda data: bool(data.get("outcome")))
    return reference, token


def add_document(reference: str, name: str, data: bytes, internal: bool = False,
                 actor: Actor | None = None) -> None:
    """Add a document to a case as staff would (shared unless `internal`)."""
    added = attachments.add_documents(
        reference, [FileStorage(io.BytesIO(data), filename=name)],
        actor or Actor("hana", 101, frozenset({"handler"})), "staff", internal=internal)
    assert not added.errors, added.errors


def staff(app, role: str = "handler", name: str = "hana"):
    """A test client signed in as a new user with one role."""
    client = app.test_client()
    make_user(name, role)
    sign_in(client, name)
    return client


def bundle(client, reference: str, **form: str):
    """Ask for the case bundle as the case page's buttons do (a POST: it is recorded)."""
    return post(client, f"/cases/{reference}/bundle.zip", form)


# -- reading what came out -------------------------------------------------------------

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_TOKEN = re.compile(rb"/(\w+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)|<([0-9A-Fa-f]+)>|\bET\b",
                    re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    """The bytes of a PDF literal string."""
    def one(match: re.Match) -> bytes:
        code = match.group(1)
        return bytes([int(code, 8)]) if code[:1].isdigit() else _ESCAPES.get(code, code)
    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.S)


def _cmap(text: bytes) -> dict[int, str]:
    """A ToUnicode CMap as glyph code -> text."""
    found: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            found[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                found[code] = chr(int(dst, 16) + offset)
    return found


def pdf_text(data: bytes) -> str:
    """The text a PDF shows, a line per text object, read through each font's ToUnicode map.

    Right-to-left text comes out in visual order (reversed), as it is drawn.
    """
    objects: dict[bytes, tuple[bytes, bytes]] = {}
    for number, body in _OBJECT.findall(data):
        match = _STREAM.search(body)
        head, stream = (body[:match.start()], match.group(1)) if match else (body, b"")
        if stream and b"/FlateDecode" in head:
            stream = zlib.decompress(stream)
        objects[number] = (head, stream)
    maps = {number: _cmap(objects[found.group(1)][1]) for number, (head, _) in objects.items()
            if b"/Type /Font" in head and (found := re.search(rb"/ToUnicode (\d+) 0 R", head))}
    fonts = {name: maps.get(number) for head, _ in objects.values()
             for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", head)}
    lines: list[str] = []
    for head, stream in objects.values():
        if b"BT" not in stream or b"/Length1" in head:  # /Length1: an embedded font file
            continue
        font, line = None, []
        for match in _TOKEN.finditer(stream):
            if match.group(1):
                font = fonts.get(match.group(1))
            elif match.group(0) == b"ET":
                lines.append("".join(line))
                line = []
            else:
                raw = (_unescape(match.group(2)) if match.group(2) is not None
                       else bytes.fromhex(match.group(3).decode()))
                line.extend(raw.decode("latin-1") if font is None else
                            (font.get(int.from_bytes(raw[i:i + 2], "big"), "?")
                             for i in range(0, len(raw) - 1, 2)))
    return "\n".join(text for text in lines if text)


def unpack(response) -> dict[str, bytes]:
    """Every file of a bundle response, by name, after checking the ZIP's CRCs."""
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def fonts_reset() -> Iterator[None]:
    """Forget which fonts were found, before and after the test."""
    letters.font_files.cache_clear()
    yield
    letters.font_files.cache_clear()


# -- the bundle -------------------------------------------------------------------------

def test_the_bundle_holds_the_record_the_documents_and_a_manifest_that_matches(app) -> None:
    reference, _token = decided()
    add_document(reference, "receipt.pdf", PDF_DOC)
    add_document(reference, "notes.txt", b"Call notes: the customer was polite.",
                 actor=Actor("hana", 101, frozenset({"handler"})))
    response = bundle(staff(app), reference)
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{reference}-bundle.zip"'
    assert "no-store" in response.headers["Cache-Control"]
    files = unpack(response)
    assert set(files) == {"record.pdf", "record.json", "manifest.json",
                          "documents/001-receipt.pdf", "documents/002-notes.txt"}
    assert files["documents/001-receipt.pdf"] == PDF_DOC
    manifest = json.loads(files["manifest.json"])
    assert manifest["reference"] == reference and manifest["created_by"] == "hana"
    assert {entry["name"] for entry in manifest["files"]} == set(files) - {"manifest.json"}
    for entry in manifest["files"]:
        assert entry["size"] == len(files[entry["name"]])
        assert entry["sha256"] == hashlib.sha256(files[entry["name"]]).hexdigest()

    record = json.loads(files["record.json"])
    assert record["case"]["reference"] == reference
    assert record["case"]["complainant_name"] == "Layla Haddad"
    assert record["workflow_data"]["outcome"] == "upheld"
    assert record["workflow_data"]["response"] == REASONS
    assert record["history_verification"]["intact"] is True
    assert [d["file"] for d in record["documents"]] == ["documents/001-receipt.pdf",
                                                       "documents/002-notes.txt"]
    assert all(d["sha256_matches"] for d in record["documents"])

    assert files["record.pdf"].startswith(b"%PDF")
    text = " ".join(pdf_text(files["record.pdf"]).split())  # lines wrap anywhere
    for expected in (f"Case record {reference}", "Plaint demo organisation", "Layla Haddad",
                     "charged twice", REASONS[:40], "Refund of the duplicate",
                     "History check: intact", "receipt.pdf",
                     hashlib.sha256(PDF_DOC).hexdigest()):
        assert expected in text, expected


def test_anyone_can_check_the_history_in_record_json_without_plaint(app) -> None:
    reference, _token = decided()
    record = json.loads(unpack(bundle(staff(app), reference))["record.json"])
    previous = "0" * 64
    for event in record["history"]:
        material = "\x1f".join([reference, str(event["seq"]), event["at"], event["actor"],
                                event["kind"], event["summary"], event["data"], previous])
        assert event["prev_hash"] == previous
        assert hashlib.sha256(material.encode()).hexdigest() == event["hash"]
        previous = event["hash"]
    assert previous == record["history_verification"]["head"]


def test_internal_documents_are_left_out_unless_asked_for(app) -> None:
    reference, _token = file_case()
    add_document(reference, "receipt.pdf", PDF_DOC)
    add_document(reference, "legal-advice.txt", b"Internal: our lawyer's view.", internal=True)
    client = staff(app, "auditor", "adel")
    plain = unpack(bundle(client, reference))
    assert [n for n in plain if n.startswith("documents/")] == ["documents/001-receipt.pdf"]
    assert b"lawyer" not in b"".join(plain.values())
    listed = pdf_text(plain["record.pdf"]).split("\nDocuments\n")[1]
    assert "receipt.pdf" in listed and "legal-advice" not in listed
    for value in ("0", "no", "<script>", "x" * 500):  # anything else means no
        other = unpack(bundle(client, reference, internal=value))
        assert "documents/002-legal-advice.txt" not in other
    full = unpack(bundle(client, reference, internal="1"))
    assert full["documents/002-legal-advice.txt"] == b"Internal: our lawyer's view."
    record = json.loads(full["record.json"])
    assert record["internal_documents_included"] is True
    assert [d["internal"] for d in record["documents"]] == [False, True]
    assert "No decision yet." in pdf_text(full["record.pdf"])


def test_the_export_is_recorded_in_the_history_with_the_zips_hash(app) -> None:
    reference, _token = file_case()
    add_document(reference, "receipt.pdf", PDF_DOC)
    response = bundle(staff(app), reference, internal="1")
    body = response.get_data()
    case = cases.get_case(reference)
    event = audit.history(case)[-1]
    data = json.loads(event.data)
    assert (event.kind, event.actor) == ("case.exported", "hana")
    assert "internal documents included" in event.summary
    assert data["sha256"] == hashlib.sha256(body).hexdigest() and data["size"] == len(body)
    assert data["files"] == ["documents/001-receipt.pdf", "record.json", "record.pdf",
                             "manifest.json"]
    assert audit.verify_case(case) == []
    # The next bundle shows the first export in its history.
    again = json.loads(unpack(bundle(staff(app, "auditor", "adel"), reference))["record.json"])
    assert again["history"][-1]["kind"] == "case.exported"


def test_only_staff_who_read_cases_get_a_bundle(app, client) -> None:
    reference, token = file_case()
    assert client.get(f"/track/{token}").status_code == 200
    assert bundle(client, reference).status_code == 302  # to sign-in
    assert client.get(f"/track/{token}/bundle.zip").status_code in (404, 405)
    assert bundle(staff(app, "admin", "amal"), reference).status_code == 403
    handler = staff(app)
    missing = bundle(handler, "CMP-1999-999999")
    assert missing.status_code == 404 and "There is no case" in missing.get_data(as_text=True)
    kinds = [event.kind for event in audit.history(cases.get_case(reference))]
    assert "case.exported" not in kinds


def test_arabic_text_is_shaped_into_the_record_pdf(app) -> None:
    reference, _token = file_case(complainant_name="ليلى حداد",
                                  description="تم خصم مبلغ التحويل مرتين من حسابي")
    text = pdf_text(unpack(bundle(staff(app), reference))["record.pdf"])
    assert "ليلى حداد"[::-1] in text  # drawn right to left
    assert "مرتين"[::-1] in text


def test_without_the_font_the_bundle_still_comes_with_a_plain_pdf(app, fonts_reset, caplog,
                                                                   monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(letters, "FONT_DIR", tmp_path / "no-fonts")
    reference, _token = file_case(complainant_name="ليلى حداد")
    with caplog.at_level(logging.WARNING, logger="server.services.letters"):
        files = unpack(bundle(staff(app), reference))
    assert "fonts-dejavu-core" in caplog.text
    assert files["record.pdf"].startswith(b"%PDF")
    assert f"Case record {reference}" in pdf_text(files["record.pdf"])


def test_a_large_bundle_is_built_on_disk_and_streamed(app, monkeypatch) -> None:
    from server.services import export

    monkeypatch.setattr(export, "SPOOL_BYTES", 64 * 1024)
    reference, _token = file_case()
    big = b"%PDF-1.4\n" + bytes(range(256)) * 2000  # 512 KB
    add_document(reference, "scan.pdf", big)
    made = export.build_bundle(reference, Actor("hana", 101, frozenset({"handler"})))
    try:
        assert made.file._rolled  # type: ignore[attr-defined]
        body = b"".join(made.chunks())
    finally:
        made.file.close()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.read("documents/001-scan.pdf") == big
    assert hashlib.sha256(body).hexdigest() == made.sha256
