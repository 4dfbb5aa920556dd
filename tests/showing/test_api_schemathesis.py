"""``schemathesis`` against ``/openapi.json``: every described ``/api/`` operation, with data drawn
from its own description (valid and not), asked by an operator key and by an admin login, never
answers a 5xx, answers only the status codes it documents, in the content type and the schema it
documents. A bounded number of examples per operation and mode (``EXAMPLES``, 15; ``FUZZ_EXAMPLES``
asks for more), no time limit per example; each operation asks a Borgo of the module's own with a
few calls and their incidents in it. Answers are asked uncompressed: schemathesis's WSGI client
does not decode Flask-Compress's encodings."""
from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from geo_urp.accounts import create_user
from geo_urp.db import engine_for, session_scope
from geo_urp.showing.openapi import DOCUMENT
from tests.conftest import _clone, _drop_db, make_app
from tests.showing.open311_support import latlong, post

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 15)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLS = [("streetlight_out", (120, 130)), ("water_leak", (400, 380)), ("road_damage", (700, 207)),
         ("noise", (650, 220))]


@pytest.fixture(scope="module")
def fuzzed(borgo_template):
    """The app on a Borgo of the module's own with a few calls, and how each role asks it."""
    name, url = _clone(borgo_template.url, "fuzz" + uuid.uuid4().hex[:6])
    with session_scope(url) as s:
        create_user(s, "amelia", "password-amelia", "admin")
    app = make_app(url)
    client = app.test_client()
    for code, (x, y) in CALLS:
        assert post(client, borgo_template.keys["operator"], service_code=code, description="prova",
                    **latlong(x, y)).status_code == 201
    assert client.post("/login", data={"username": "amelia", "password": "password-amelia"}).status_code == 302
    plain = {"Accept-Encoding": "identity"}
    askers = {"operator key": {"headers": {"X-API-Key": borgo_template.keys["operator"], **plain}},
              "admin login": {"headers": plain, "cookies": {"session": client.get_cookie("session").value}}}
    yield app, askers
    engine_for(url).dispose()
    _drop_db(name)


@pytest.fixture(scope="module")
def api_schema(fuzzed):
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzzed[0])


OPERATIONS = [(path, method) for path, ops in DOCUMENT["paths"].items() for method in ops]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("path, method", OPERATIONS)
def test_every_api_operation_answers_as_documented_never_a_5xx(api_schema, fuzzed, path, method, mode):
    _, askers = fuzzed

    @given(case=api_schema[path][method.upper()].as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case):
        for asker in askers.values():
            case.validate_response(case.call(**asker), checks=CHECKS)

    answers_as_documented()
