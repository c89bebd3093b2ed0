"""The case bundle: a ZIP with the whole record, the documents and a manifest, for referral
to external dispute resolution and for audit; every export leaves a trace in the history.

Cases are taken to a decision by `drive` (tests/support/cases.py), which completes whatever
the process asks with valid values read from each task's form, so these tests do not depend
on the diagram's exact steps.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile

from werkzeug.datastructures import FileStorage

from server.services import attachments, audit, cases, letters
from server.services.actors import Actor

from .support.cases import REASONS, decided, file_case
from .support.pdf import pdf_text
from .support.web import post

PDF_DOC = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- adding to a case ------------------------------------------------------------------

def add_document(reference: str, name: str, data: bytes, internal: bool = False,
                 actor: Actor | None = None) -> None:
    """Add a document to a case as staff would (shared unless `internal`)."""
    added = attachments.add_documents(
        reference, [FileStorage(io.BytesIO(data), filename=name)],
        actor or Actor("hana", 101, frozenset({"handler"})), "staff", internal=internal)
    assert not added.errors, added.errors


def bundle(client, reference: str, **form: str):
    """Ask for the case bundle as the case page's buttons do (a POST: it is recorded)."""
    return post(client, f"/cases/{reference}/bundle.zip", form)


# -- reading what came out -------------------------------------------------------------

def unpack(response) -> dict[str, bytes]:
    """Every file of a bundle response, by name, after checking the ZIP's CRCs."""
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


# -- the bundle -------------------------------------------------------------------------

def test_the_bundle_holds_the_record_the_documents_and_a_manifest_that_matches(
        auth, app_ctx) -> None:
    reference, _token = decided()
    add_document(reference, "receipt.pdf", PDF_DOC)
    add_document(reference, "notes.txt", b"Call notes: the customer was polite.",
                 actor=Actor("hana", 101, frozenset({"handler"})))
    response = bundle(auth.signed_in("hana", "handler"), reference)
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


def test_anyone_can_check_the_history_in_record_json_without_plaint(auth, app_ctx) -> None:
    reference, _token = decided()
    record = json.loads(unpack(bundle(auth.signed_in("hana", "handler"), reference))["record.json"])
    previous = "0" * 64
    for event in record["history"]:
        material = "\x1f".join([reference, str(event["seq"]), event["at"], event["actor"],
                                event["kind"], event["summary"], event["data"], previous])
        assert event["prev_hash"] == previous
        assert hashlib.sha256(material.encode()).hexdigest() == event["hash"]
        previous = event["hash"]
    assert previous == record["history_verification"]["head"]


def test_internal_documents_are_left_out_unless_asked_for(auth, app_ctx) -> None:
    reference, _token = file_case()
    add_document(reference, "receipt.pdf", PDF_DOC)
    add_document(reference, "legal-advice.txt", b"Internal: our lawyer's view.", internal=True)
    client = auth.signed_in("adel", "auditor")
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


def test_the_export_is_recorded_in_the_history_with_the_zips_hash(auth, app_ctx) -> None:
    reference, _token = file_case()
    add_document(reference, "receipt.pdf", PDF_DOC)
    response = bundle(auth.signed_in("hana", "handler"), reference, internal="1")
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
    again = json.loads(unpack(bundle(auth.signed_in("adel", "auditor"), reference))["record.json"])
    assert again["history"][-1]["kind"] == "case.exported"


def test_only_staff_who_read_cases_get_a_bundle(client, auth, app_ctx) -> None:
    reference, token = file_case()
    assert client.get(f"/track/{token}").status_code == 200
    assert bundle(client, reference).status_code == 302  # to sign-in
    assert client.get(f"/track/{token}/bundle.zip").status_code in (404, 405)
    assert bundle(auth.signed_in("amal", "admin"), reference).status_code == 403
    handler = auth.signed_in("hana", "handler")
    missing = bundle(handler, "CMP-1999-999999")
    assert missing.status_code == 404 and "There is no case" in missing.get_data(as_text=True)
    kinds = [event.kind for event in audit.history(cases.get_case(reference))]
    assert "case.exported" not in kinds


def test_arabic_text_is_shaped_into_the_record_pdf(auth, app_ctx) -> None:
    reference, _token = file_case(complainant_name="ليلى حداد",
                                  description="تم خصم مبلغ التحويل مرتين من حسابي")
    text = pdf_text(unpack(bundle(auth.signed_in("hana", "handler"), reference))["record.pdf"])
    assert "ليلى حداد"[::-1] in text  # drawn right to left
    assert "مرتين"[::-1] in text


def test_without_the_font_the_bundle_still_comes_with_a_plain_pdf(
        auth, app_ctx, fonts_reset, caplog, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(letters, "FONT_DIR", tmp_path / "no-fonts")
    reference, _token = file_case(complainant_name="ليلى حداد")
    with caplog.at_level(logging.WARNING, logger="server.services.letters"):
        files = unpack(bundle(auth.signed_in("hana", "handler"), reference))
    assert "fonts-dejavu-core" in caplog.text
    assert files["record.pdf"].startswith(b"%PDF")
    assert f"Case record {reference}" in pdf_text(files["record.pdf"])


def test_a_large_bundle_is_built_on_disk_and_streamed(app_ctx, monkeypatch) -> None:
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
