"""Schema-driven fuzzing: every API operation, with a key of each role, answers as /openapi.json says.

schemathesis generates requests from the OpenAPI document: schema-valid ones (positive) and ones that
break it (negative: wrong types, missing fields, out-of-range values). Each answer must be no 5xx,
documented status and media type, a body that fits its schema, and every error RFC 9457 problem
details with `type`, `title`, `status` and `detail`. Reads (GET) are fuzzed a second time with a
signed-in person's session cookie of each role instead of a key; writes refuse a session alone. The stateful run follows the document's links
(a detection to its page, an alert list to an alert's edit, publish, CAP, …) over seeded data.

Bounded for CI and deterministic (derandomized): ``EWS_FUZZ_EXAMPLES`` (default 3 per operation, role and
mode) and ``EWS_FUZZ_SCENARIOS`` (default 40 stateful scenarios) raise it locally, e.g.
``EWS_FUZZ_EXAMPLES=200 EWS_FUZZ_SCENARIOS=300 pytest tests/ews/test_fuzz.py`` (docs/operations.md).
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts import urlguard
from ews.app import create_app
from ews.models import ROLES
from ews.web.session import SESSION_COOKIE
from tests.conftest import make_actor
from tests.ews.workspace_support import client_sign_in, make_user

EXAMPLES = int(os.environ.get("EWS_FUZZ_EXAMPLES", "3"))
SCENARIOS = int(os.environ.get("EWS_FUZZ_SCENARIOS", "40"))

COUNTRY = {"lab": "CO", "authority": "CO", "regional": None, "admin": None}
NEW_NITAZENE = "CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1"  # unlisted: raises an alert
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"

PROBLEM_FIELDS = ("type", "title", "status", "detail")


def problem_details(ctx, response, case) -> bool | None:
    """Every 4xx and 5xx is application/problem+json naming type, title, status (the same) and detail."""
    if response.status_code < 400:
        return None
    media_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    assert media_type == "application/problem+json", (
        f"{response.status_code} answered as {media_type!r}, not application/problem+json"
    )
    body = response.json()
    missing = [name for name in PROBLEM_FIELDS if name not in body]
    assert not missing, f"problem details without {', '.join(missing)}: {body}"
    assert body["status"] == response.status_code, f"status {body['status']} in a {response.status_code} answer"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    problem_details,
]
MODES = {GenerationMode.POSITIVE: CHECKS, GenerationMode.NEGATIVE: [*CHECKS, negative_data_rejection]}


@dataclass
class FuzzedNode:
    schema: schemathesis.BaseSchema
    keys: dict[str, str]  # role -> API key


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@pytest.fixture
def loopback_only(monkeypatch):
    """The fuzzer invents webhook and peer URLs: any target but loopback is refused before a lookup."""
    lookup = socket.getaddrinfo

    def loopback_lookup(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in LOOPBACK_NAMES:
            raise socket.gaierror(socket.EAI_NONAME, f"{name!r}: the fuzzing stays on loopback")
        return lookup(host, *args, **kwargs)

    kind = urlguard._kind
    monkeypatch.setattr(socket, "getaddrinfo", loopback_lookup)
    monkeypatch.setattr(
        urlguard, "_kind", lambda address: kind(address) or "public (the fuzzing stays on loopback)"
    )


@pytest.fixture
def fuzzed(settings, loopback_only) -> Iterator[FuzzedNode]:
    """A node (rate limits off: the fuzzer is one busy client) with a key per role and data to find."""
    settings = settings.model_copy(update={"rate_limit_per_key": 0, "rate_limit_per_address": 0})
    url = settings.database_url
    keys = {role: make_actor(url, role, COUNTRY[role], f"fuzz {role}").key for role in ROLES}
    keys["every role"] = make_actor(url, "lab", "CO", "fuzz all", roles=list(ROLES)).key
    app = create_app(settings)
    # Only the document's own links: inferred ones would follow a key listing to revoking the fuzzer's key.
    config = schemathesis.Config.from_dict({"phases": {"stateful": {"inference": {"algorithms": []}}}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    _seed(schema, keys)
    yield FuzzedNode(schema, keys)
    shutdown_lifespans()  # schemathesis keeps each app it started alive until told: release this node


def _seed(schema, keys: dict[str, str]) -> None:
    """Detections (one raising an alert) and a subscription, so that ids in links lead somewhere."""
    lab = {"Authorization": f"Bearer {keys['lab']}"}
    detections = schema["/api/v1/detections"]["POST"]
    for ref, smiles in (("FUZZ-1", NEW_NITAZENE), ("FUZZ-2", FENTANYL)):
        body = {
            "external_ref": ref,
            "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
            "components": [{"smiles": smiles}],
        }
        response = detections.Case(body=body, media_type="application/json").call(headers=lab)
        assert response.status_code == 201, response.text
    subscriber = {"Authorization": f"Bearer {keys['every role']}"}  # the stateful run's own, to find and edit
    subscription = {"channel": "webhook", "url": "http://127.0.0.1:9/hook"}
    response = (
        schema["/api/v1/subscriptions"]["POST"]
        .Case(body=subscription, media_type="application/json")
        .call(headers=subscriber)
    )
    assert response.status_code == 201, response.text


def _negatable(operation) -> bool:
    """Whether a request can break the schema: a body, a query or header parameter, or a typed path one.

    (Any text is a valid string path segment: asking for an invalid one only makes Hypothesis search in vain.)
    """
    definition = operation.definition.raw
    if "requestBody" in definition:
        return True
    return any(
        parameter["in"] != "path" or parameter.get("schema", {}).get("type") != "string"
        for parameter in definition.get("parameters", [])
    )


def _fuzz_operation(
    operation, mode: GenerationMode, key: str | None, statuses: Counter, cookie: str | None = None
) -> str | None:
    """Run one operation in one mode, counting the statuses; the failures schemathesis found, or None.

    With ``cookie`` (a signed-in person's session) instead of a key, no Authorization header is sent.
    """
    checks = MODES[mode]
    headers = {"Authorization": f"Bearer {key}"} if key else {"Cookie": f"{SESSION_COOKIE}={cookie}"}

    @given(case=operation.as_strategy(mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def run(case) -> None:
        # the document declares bearer security, so schemathesis invents a token: the role's key replaces it
        invented = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "cookie")}
        case.headers = {**invented, **headers}
        response = case.call_and_validate(checks=checks)
        refused = response.status_code == 401 and "API key" in response.text  # not a peer's unsigned wake-up
        statuses["key refused" if refused else response.status_code] += 1

    try:
        run()
    except Unsatisfiable:
        return None  # nothing in this operation can be made invalid (no parameters, say)
    except (AssertionError, Exception, BaseExceptionGroup) as error:  # noqa: B014 - a FailureGroup is a group
        return str(error) if isinstance(error, BaseExceptionGroup) else f"{type(error).__name__}: {error}"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented_to_each_role(fuzzed, role):
    failures = []
    statuses: Counter = Counter()
    for result in fuzzed.schema.get_all_operations():
        operation = result.ok()
        for mode in MODES:
            if mode is GenerationMode.NEGATIVE and not _negatable(operation):
                continue
            found = _fuzz_operation(operation, mode, fuzzed.keys[role], statuses)
            if found:
                failures.append(f"{operation.label} ({mode.value}, {role} key):\n{found}")
    assert not failures, "\n\n".join(failures)
    # not vacuous: the key was accepted everywhere, and the role's own operations answered
    answered = sum(n for status, n in statuses.items() if isinstance(status, int) and status < 300)
    print(f"\n{role}: {sum(statuses.values())} requests, {dict(sorted(statuses.items(), key=str))}")  # -s shows
    assert statuses["key refused"] == 0 and answered >= 10, statuses


@pytest.mark.parametrize("role", ROLES)
def test_reads_with_a_signed_in_persons_session_answer_as_documented(fuzzed, settings, role):
    """The pages' session cookie is accepted for reads (GET) of the API: fuzzed with it, no key sent.

    Everything else refuses a session alone (no CSRF token travels with an API call): 401 or 403."""
    from fastapi.testclient import TestClient

    person = make_actor(settings.database_url, role, COUNTRY[role], f"fuzz {role} people")
    email = f"fuzz-{role}@node.example"
    password = make_user(settings.database_url, person.organisation_id, email)
    writes = 0
    with TestClient(create_app(settings)) as browser_like:
        signed_in = client_sign_in(browser_like, email, password)
        assert signed_in.status_code == 303, signed_in.text
        cookie = browser_like.cookies[SESSION_COOKIE]
        for method, path, operation in _requests(browser_like.get("/openapi.json").json()):
            if method != "GET" and operation["security"] and {} not in operation["security"]:
                answer = browser_like.request(method, path, json={})
                assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
                writes += 1
    failures = []
    statuses: Counter = Counter()
    for result in fuzzed.schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        for mode in MODES:
            if mode is GenerationMode.NEGATIVE and not _negatable(operation):
                continue
            found = _fuzz_operation(operation, mode, None, statuses, cookie=cookie)
            if found:
                failures.append(f"{operation.label} ({mode.value}, {role} session):\n{found}")
    assert not failures, "\n\n".join(failures)
    answered = sum(n for status, n in statuses.items() if isinstance(status, int) and status < 300)
    print(f"\n{role} session: {sum(statuses.values())} reads, {dict(sorted(statuses.items(), key=str))}")
    assert statuses["key refused"] == 0 and answered >= 10 and writes >= 10, (statuses, writes)


def test_stateful_workflows_follow_the_links(fuzzed):
    """Create, read, edit, publish, cancel and delete along the OpenAPI links, with a key of every role."""
    headers = {"Authorization": f"Bearer {fuzzed.keys['every role']}"}
    links = sum(
        len(response.get("links", {}))
        for operations in fuzzed.schema.raw_schema["paths"].values()
        for operation in operations.values()
        for response in operation.get("responses", {}).values()
    )
    assert links >= 20  # the stateful run has transitions to follow
    statuses: Counter = Counter()
    followed: Counter = Counter()  # operation -> its 2xx answers

    class Workflow(fuzzed.schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            case.headers = {**(case.headers or {}), **headers}  # not the token schemathesis invents
            return {}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            refused = response.status_code == 401 and "API key" in response.text
            statuses["key refused" if refused else response.status_code] += 1
            followed[case.operation.label] += response.status_code < 300
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    Workflow.run(
        settings=hypothesis_settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    reached = sorted(label for label, n in followed.items() if n and "{" in label)
    print(
        f"\nstateful: {sum(statuses.values())} requests, {len(reached)} linked operations answered 2xx, "
        f"{dict(sorted(statuses.items(), key=str))}"
    )
    assert statuses["key refused"] == 0 and len(reached) >= 3, (reached, statuses)


def _requests(document: dict) -> Iterator[tuple[str, str, dict]]:
    """Every operation as (method, path with placeholder ids, operation), the document's security on it."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path.replace("{", "").replace("}", ""), operation


def test_the_document_says_who_may_call_and_the_node_holds_to_it(client, actors):
    """`security` and `x-roles` on each operation are what the node enforces: without a key (or with an
    unknown one) an operation that needs one is a 401; with a key lacking its roles, a 403."""
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["session"]["in"] == "cookie"
    keyed, limited = 0, 0
    for method, path, operation in _requests(document):
        security = operation["security"]
        needs_key = bool(security) and {} not in security
        for headers in ({}, {"Authorization": "Bearer ews_not-a-key-of-this-node"}):
            answer = client.request(method, path, headers=headers, json={} if method != "GET" else None)
            refused = answer.status_code == 401
            if needs_key:
                assert refused and answer.headers["content-type"].startswith("application/problem+json"), (
                    method,
                    path,
                    answer.status_code,
                )
            elif not headers:
                assert not refused or path.endswith(":wake"), (method, path, answer.text)  # unsigned wake-up
        keyed += needs_key
        roles = operation["x-roles"]
        outsiders = [name for name, role in (("lab_co", "lab"), ("admin", "admin")) if role not in roles]
        if needs_key and outsiders:
            answer = client.request(method, path, headers=actors[outsiders[0]].headers, json={})
            assert answer.status_code == 403, (method, path, outsiders[0], answer.text)
            limited += 1
    assert keyed >= 30 and limited >= 15, (keyed, limited)
