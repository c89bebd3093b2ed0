"""Documents on complaints: intake, staging across form errors, tracking page, staff, downloads."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from hashlib import sha256
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from sqlalchemy import select, update

from server.config import ConfigError, from_environment
from server.extensions import db
from server.models import Attachment, Case, CaseEvent, utcnow
from server.services import attachments, cases
from server.services.attachments import clean_filename
from server.services.filetypes import sniff

from .support.data import PDF, PUBLIC_FORM
from .support.web import file_complaint, reference_on, send

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)
_STAGED = re.compile(r'name="staged" value="([^"]+)"')


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def documents_of(reference: str) -> list[SimpleNamespace]:
    """The case's documents as plain values (requests end the test's session)."""
    case_id = cases.get_case(reference).id
    rows = db.session.scalars(select(Attachment).where(Attachment.case_id == case_id)
                              .order_by(Attachment.id))
    return [SimpleNamespace(**{c.key: getattr(row, c.key) for c in Attachment.__table__.c})
            for row in rows]


def link_for(page: str, name: str) -> str:
    return re.search(rf'<a href="([^"]+)"><bdi>{re.escape(name)}</bdi></a>', page).group(1)


def test_two_documents_sent_with_a_complaint_reach_the_case_page_and_download_safely(
        client, auth, app_ctx) -> None:
    reference, _ = file_complaint(client, [("receipt.pdf", PDF), ("screen.png", PNG)])
    stored = documents_of(reference)
    assert [(d.filename, d.content_type, d.size, d.source, d.added_by, d.internal)
            for d in stored] == [("receipt.pdf", "application/pdf", len(PDF), "intake",
                                  "complainant", False),
                                 ("screen.png", "image/png", len(PNG), "intake",
                                  "complainant", False)]
    assert stored[0].sha256 == sha256(PDF).hexdigest()
    hana = auth.signed_in("hana", "handler")
    page = hana.get(f"/cases/{reference}").get_data(as_text=True)
    assert "receipt.pdf" in page and "screen.png" in page and "PNG image" in page
    assert "Document added: receipt.pdf" in page  # on the case's history
    got = hana.get(link_for(page, "receipt.pdf"))
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"] == 'attachment; filename="receipt.pdf"'
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"] == "sandbox"
    assert got.headers["Cache-Control"] == "private, no-store"
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "attachment.added"))
    assert json.loads(event.data) == {
        "attachment": stored[0].id, "filename": "receipt.pdf",
        "content_type": "application/pdf", "size": len(PDF),
        "sha256": sha256(PDF).hexdigest(), "source": "intake", "internal": False}
    assert event.actor == "complainant"


def test_an_oversize_document_is_refused_beside_the_field_and_the_typed_fields_stay(
        client, app, app_ctx) -> None:
    app.config["PLAINT_MAX_ATTACHMENT_BYTES"] = 1000
    page = send(client, "/complaints/new", PUBLIC_FORM,
                [("big.pdf", PDF + b"0" * 1000), ("fine.png", PNG)])
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "big.pdf is larger than 1000 bytes, the most we accept for one document." in body
    assert 'id="documents-error"' in body and "documents-help documents-error" in body
    assert 'value="Layla Haddad"' in body and "charged twice" in body
    assert "Already attached: fine.png (will be sent with your complaint)." in body
    assert db.session.scalar(select(Case.id)) is None


def test_documents_of_a_type_we_do_not_take_are_refused_by_their_content(client, app_ctx) -> None:
    page = send(client, "/complaints/new", PUBLIC_FORM, [
        ("letter.pdf", HTML), ("setup.exe", EXE), ("logo.svg", SVG),
        ("photos.zip", zipped({"a.txt": b"x"})), ("photo.jpg", PNG)])
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    for name in ("letter.pdf", "setup.exe", "logo.svg", "photos.zip"):
        assert f"{name} is not a type of document we accept. Allowed types: PDF" in body
    assert "By its content photo.jpg is of the type PNG image, so its name must end in .png." \
        in body
    assert db.session.scalar(select(Attachment.id)) is None
    assert db.session.scalar(select(Case.id)) is None


def test_the_content_decides_the_type() -> None:
    office = "[Content_Types].xml"
    assert sniff(zipped({office: b"<Types/>", "word/document.xml": b"<w/>"})) == "docx"
    assert sniff(zipped({office: b"<Types/>", "xl/workbook.xml": b"<x/>"})) == "xlsx"
    assert sniff(zipped({office: b"<Types/>", "ppt/presentation.xml": b"<p/>"})) == "pptx"
    assert sniff(zipped({"mimetype": b"application/vnd.oasis.opendocument.text"})) == "odt"
    assert sniff(zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})) \
        == "ods"
    assert sniff(zipped({"mimetype": b"application/epub+zip"})) is None
    assert sniff(b"PK\x03\x04 not really a zip") is None
    assert sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(b"GIF89a\x01\x00") == "gif" and sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff("Dear team, مرحبا\n".encode()) == "text"
    assert sniff(b"text with a \x00 byte") is None
    assert sniff("caf\xe9".encode("latin-1")) is None
    assert sniff(b"  <?xml version='1.0'?><svg/>") is None and sniff(b"<3 thanks") == "text"


def test_file_names_are_cleaned_but_stay_readable() -> None:
    assert clean_filename("C:\\Users\\me\\Desktop\\receipt.pdf") == "receipt.pdf"
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("bad\x00\x1fname\u202egnp.exe") == "badnamegnp.exe"
    assert clean_filename("شكوى رسمية.pdf") == "شكوى رسمية.pdf"
    assert clean_filename('a<b>:"c".txt') == "a_b___c_.txt"
    long = clean_filename("x" * 400 + ".pdf")
    assert len(long) == attachments.MAX_NAME and long.endswith(".pdf")
    assert clean_filename("") == "document" and clean_filename("...") == "document"


def test_too_many_documents_at_once_are_refused(client, app_ctx) -> None:
    files = [(f"note{i}.txt", b"note %d" % i) for i in range(6)]
    page = send(client, "/complaints/new", PUBLIC_FORM, files)
    assert page.status_code == 422
    assert "Send at most 5 documents at a time (you chose 6)." in page.get_data(as_text=True)
    assert db.session.scalar(select(Attachment.id)) is None


def test_the_documents_of_one_case_stay_within_the_total(client, app, app_ctx) -> None:
    app.config["PLAINT_MAX_CASE_ATTACHMENT_BYTES"] = 2500
    chunk = PDF + b"%" * (1000 - len(PDF))
    page = send(client, "/complaints/new", PUBLIC_FORM,
                [("a.pdf", chunk), ("b.pdf", chunk), ("c.pdf", chunk)])
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "c.pdf does not fit: the documents of one complaint can add up to 2 KB" in body
    token = _STAGED.search(body).group(1)
    reference, link = file_complaint(client, staged=token)
    assert [d.filename for d in documents_of(reference)] == ["a.pdf", "b.pdf"]
    refused = send(client, f"{link}/documents/add", files=[("d.pdf", chunk)], page=link)
    assert refused.status_code == 422
    assert "d.pdf does not fit" in refused.get_data(as_text=True)
    assert len(documents_of(reference)) == 2


def test_a_form_error_keeps_the_documents_and_the_second_submit_attaches_them(
        client, app_ctx) -> None:
    page = send(client, "/complaints/new", {**PUBLIC_FORM, "complainant_email": "layla-at-home"},
                [("receipt.pdf", PDF), ("screen.png", PNG)])
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "Enter a valid e-mail address" in body
    assert ("Already attached: receipt.pdf, screen.png (will be sent with your complaint)."
            in body)
    assert db.session.scalar(select(Case.id)) is None
    staged = list(db.session.scalars(select(Attachment).order_by(Attachment.id)))
    assert [a.case_id for a in staged] == [None, None]
    token = _STAGED.search(body).group(1)
    assert token not in {a.staging_token_hash for a in staged}  # only a keyed hash is kept
    reference, _ = file_complaint(client, staged=token, unstage=str(staged[1].id))
    assert [d.filename for d in documents_of(reference)] == ["receipt.pdf"]
    assert db.session.scalar(select(Attachment.id).where(Attachment.case_id.is_(None))) is None


def test_a_staging_token_from_another_session_does_nothing(client, app, app_ctx) -> None:
    body = send(client, "/complaints/new", {**PUBLIC_FORM, "complainant_email": "x"},
                [("receipt.pdf", PDF)]).get_data(as_text=True)
    token = _STAGED.search(body).group(1)
    staged_id = db.session.scalar(select(Attachment.id))
    other = app.test_client()
    reference, _ = file_complaint(other, staged=token, unstage=str(staged_id))
    assert documents_of(reference) == []
    db.session.expire_all()
    assert db.session.get(Attachment, staged_id).case_id is None  # still the first one's
    again = send(client, "/complaints/new", {**PUBLIC_FORM, "staged": token})
    assert again.status_code == 302
    assert db.session.get(Attachment, staged_id).case_id is not None


def test_staged_documents_expire_and_are_cleaned_up(client, app_ctx) -> None:
    body = send(client, "/complaints/new", {**PUBLIC_FORM, "complainant_email": "x"},
                [("receipt.pdf", PDF)]).get_data(as_text=True)
    token = _STAGED.search(body).group(1)
    db.session.execute(update(Attachment).values(staged_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    page = send(client, "/complaints/new",
                {**PUBLIC_FORM, "complainant_email": "x", "staged": token})
    assert "Already attached" not in page.get_data(as_text=True)
    assert attachments.delete_expired_staging() == 1
    assert db.session.scalar(select(Attachment.id)) is None


def test_the_complainant_adds_lists_and_downloads_documents_on_the_tracking_page(
        client, auth, app_ctx) -> None:
    reference, link = file_complaint(client)
    page = client.get(link).get_data(as_text=True)
    assert "No documents yet." in page and "Add a document" in page
    sent = send(client, f"{link}/documents/add", files=[("note.txt", b"Dear team,\n")],
                page=link)
    assert sent.status_code == 302
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "We have your document." in page and "note.txt" in page
    got = client.get(link_for(page, "note.txt"))
    assert got.data == b"Dear team,\n"
    assert got.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert documents_of(reference)[0].source == "tracking"
    history = auth.signed_in("hana", "handler").get(f"/cases/{reference}").get_data(as_text=True)
    assert "Document added: note.txt" in history
    nothing = send(client, f"{link}/documents/add", page=link)
    assert "Choose a document first." in nothing.get_data(as_text=True)


def test_a_closed_case_takes_no_more_documents_from_the_complainant(client, app_ctx) -> None:
    reference, link = file_complaint(client)
    db.session.execute(update(Case).values(is_open=False))
    db.session.commit()
    page = client.get(link).get_data(as_text=True)
    assert "documents can no longer be added here" in page and 'name="documents"' not in page
    refused = send(client, f"{link}/documents/add", files=[("late.pdf", PDF)],
                   page="/complaints/new")  # the closed case's page has no form to take it from
    assert refused.status_code == 422
    assert f"Complaint {reference} is closed" in refused.get_data(as_text=True)
    assert documents_of(reference) == []


def test_links_reach_only_their_own_case_documents(client, auth, app, app_ctx) -> None:
    first, first_link = file_complaint(client, [("mine.pdf", PDF)])
    second, _ = file_complaint(app.test_client(), [("theirs.pdf", PDF)])
    mine, theirs = documents_of(first)[0].id, documents_of(second)[0].id
    assert client.get(f"{first_link}/documents/{mine}").status_code == 200
    assert client.get(f"{first_link}/documents/{theirs}").status_code == 404
    tampered = first_link[:-1] + ("A" if first_link[-1] != "A" else "B")
    assert client.get(f"{tampered}/documents/{mine}").status_code == 404
    hana = auth.signed_in("hana", "handler")
    assert hana.get(f"/cases/{first}/documents/{mine}").status_code == 200
    wrong = hana.get(f"/cases/{first}/documents/{theirs}")
    assert wrong.status_code == 404 and b"theirs" not in wrong.data


def test_a_handlers_internal_document_stays_off_the_tracking_page(client, auth, app_ctx) -> None:
    reference, link = file_complaint(client)
    hana = auth.signed_in("hana", "handler")
    path = f"/cases/{reference}"
    assert send(hana, f"{path}/documents", {"internal": "true"}, [("fraud-check.pdf", PDF)],
                page=path).status_code == 302
    assert send(hana, f"{path}/documents", {}, [("our-letter.pdf", PDF)],
                page=path).status_code == 302
    secret, shared = documents_of(reference)
    assert (secret.internal, secret.source, secret.added_by) == (True, "staff", "hana")
    assert not shared.internal
    page = hana.get(path).get_data(as_text=True)
    assert "Document added: fraud-check.pdf (internal)" in page and "Internal" in page
    public = client.get(link).get_data(as_text=True)
    assert "our-letter.pdf" in public and "fraud-check" not in public
    assert client.get(f"{link}/documents/{secret.id}").status_code == 404
    assert client.get(f"{link}/documents/{shared.id}").status_code == 200


def test_auditors_download_documents_but_cannot_add_them(client, auth, app_ctx) -> None:
    reference, _ = file_complaint(client, [("receipt.pdf", PDF)])
    adel = auth.signed_in("adel", "auditor")
    page = adel.get(f"/cases/{reference}").get_data(as_text=True)
    assert "receipt.pdf" in page and 'name="documents"' not in page
    assert adel.get(link_for(page, "receipt.pdf")).data == PDF
    refused = send(adel, f"/cases/{reference}/documents", {}, [("x.pdf", PDF)],
                   page=f"/cases/{reference}")
    assert refused.status_code == 403
    assert len(documents_of(reference)) == 1


def test_staff_intake_takes_documents(client, auth, app_ctx) -> None:
    hana = auth.signed_in("hana", "handler")
    sent = send(hana, "/cases/new", {**PUBLIC_FORM, "channel": "letter"}, [("letter.pdf", PDF)])
    assert sent.status_code == 302
    reference = reference_on(hana.get(sent.headers["Location"]).get_data(as_text=True))
    assert cases.get_case(reference).channel == "letter"
    [document] = documents_of(reference)
    assert (document.source, document.added_by) == ("staff", "hana")


def test_a_request_above_the_size_limit_gets_a_413_page(client, app) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    page = send(client, "/complaints/new", PUBLIC_FORM, [("huge.pdf", PDF + b"0" * 30_000)])
    assert page.status_code == 413
    body = page.get_data(as_text=True)
    assert "larger than the" in body and "Traceback" not in body
    as_json = client.post("/complaints/new", data=b"x" * 30_000,
                          headers={"Accept": "application/json"},
                          content_type="application/x-www-form-urlencoded")
    assert as_json.status_code == 413 and "larger than the" in as_json.get_json()["error"]


def test_an_arabic_file_name_survives_the_round_trip(client, app_ctx) -> None:
    name = "شكوى رسمية.pdf"
    reference, link = file_complaint(client, [(name, PDF)])
    assert documents_of(reference)[0].filename == name
    page = client.get(link).get_data(as_text=True)
    assert name in page
    got = client.get(link_for(page, name))
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="document.pdf"; filename*=UTF-8\'\'')
    assert unquote(disposition.split("''", 1)[1]) == name


def test_a_request_limit_below_the_upload_limits_is_refused_at_start(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "1000")
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH"):
        from_environment(str(tmp_path))
    monkeypatch.delenv("MAX_CONTENT_LENGTH")
    settings = from_environment(str(tmp_path))
    assert settings["MAX_CONTENT_LENGTH"] > (settings["PLAINT_MAX_ATTACHMENT_BYTES"]
                                             * settings["PLAINT_MAX_ATTACHMENTS_PER_UPLOAD"])
