"""schemathesis against the API's own OpenAPI document, in-process (WSGI).

Every operation gets a bounded number of generated requests with a token of every scope:
no answer may be a server error, and every answer must match the document (status,
media type, headers, body). The document itself must be a valid OpenAPI 3.1 document.
"""

from __future__ import annotations

import jsonschema
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31

from server.access import SCOPES
from tests.support.api import api_token, bearer

EXAMPLES = 25  # per operation: the whole run stays well under a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_document_is_a_valid_openapi_3_1_document(app: Flask, client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    # spectree's own pages load swagger-ui from a CDN: none of them is served.
    assert [r.rule for r in app.url_map.iter_rules() if "apidoc" in r.rule
            or r.endpoint.startswith("openapi")] == []
    assert document["openapi"].startswith("3.1")
    jsonschema.validate(document, OPENAPI_31)
    assert {"/api/v1/complaints", "/api/v1/cases", "/api/v1/cases/{reference}",
            "/api/v1/cases/{reference}/history", "/api/v1/tracking/{token}",
            "/api/v1/tasks", "/api/v1/cases/{reference}/tasks/{task_id}/claim",
            "/api/v1/cases/{reference}/tasks/{task_id}/complete",
            "/api/v1/cases/{reference}/messages"} <= set(document["paths"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(
        app: Flask, client) -> None:
    token = api_token(app, "fuzzer", *SCOPES, acting="hana", rate=100_000)
    filed = client.post("/api/v1/complaints", headers=bearer(token), json={"fields": {
        "complainant_name": "Layla Haddad", "description": "Charged twice.",
        "complainant_email": "layla@example.com", "consent": True}})
    assert filed.status_code == 201
    reference = filed.get_json()["reference"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(token)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        fixed = {"reference": reference} if "{reference}" in operation.path else None

        @given(case=operation.as_strategy(path_parameters=fixed))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
