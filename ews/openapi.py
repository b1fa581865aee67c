"""The OpenAPI document as the API answers: every error a problem detail, every body under its media type.

FastAPI describes a validation error as its own ``HTTPValidationError`` in ``application/json``; this
node answers every 4xx (and the 503 of a database outage) with ``application/problem+json`` (RFC 9457,
``ews.problems``). ``describe_errors`` rewrites the generated document to say so, so that clients and
the schema-driven tests (tests/ews/test_fuzz.py) read what is really sent. ``describe_links`` adds
OpenAPI links from the answers that carry an id to the operations that take it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from ews.problems import MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; `errors` names each bad field and what is accepted.",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "description": "a URI naming the kind of problem"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "description": "the path that was requested"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        },
        "additionalProperties": True,
    },
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {"type": "string", "description": "where: body, components[0].smiles, country, …"},
            "message": {"type": "string", "description": "what was wrong and what is accepted"},
            "code": {"type": "string"},
        },
        "additionalProperties": True,
    },
}

RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}

ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "4XX": {
        "description": "A client error (401 no or unknown key, 403 role, 404, 409, 413, 415, 422, 429 with "
        "Retry-After) as problem details",
        "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}},
    },
    "503": {
        "description": "The database is unreachable, full or read-only: nothing was stored; retry later",
        "headers": {"Retry-After": RETRY_AFTER},
        "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}},
    },
}

# FastAPI's own description of a validation error, replaced by Problem everywhere.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


# OpenAPI links: which answer gives the id another operation takes, so that a client (and the stateful
# fuzzing in tests/ews/test_fuzz.py) can follow a detection, an alert or a subscription from where it appears.
# (producer method, path, statuses) -> [(consumer method, path, parameter, where the value is)]
FIRST_ITEM = "$response.body#/items/0/id"
CREATED = "$response.body#/id"
LINKS: list[tuple[tuple[str, str, tuple[str, ...]], list[tuple[str, str, str, str]]]] = [
    (
        ("post", "/api/v1/detections", ("201", "200")),
        [
            ("get", "/api/v1/detections/{detection_id}", "detection_id", CREATED),
            ("get", "/api/v1/detections/{detection_id}/links", "detection_id", CREATED),
        ],
    ),
    (
        ("get", "/api/v1/detections", ("200",)),
        [
            ("get", "/api/v1/detections/{detection_id}", "detection_id", FIRST_ITEM),
            ("get", "/api/v1/detections/{detection_id}/links", "detection_id", FIRST_ITEM),
        ],
    ),
    (("get", "/api/v1/clusters", ("200",)), [("get", "/api/v1/clusters/{cluster_id}", "cluster_id", FIRST_ITEM)]),
    (
        ("get", "/api/v1/substances", ("200",)),
        [
            ("get", "/api/v1/substances/{substance_id}", "substance_id", FIRST_ITEM),
            ("get", "/api/v1/substances/{substance_id}/monthly", "substance_id", FIRST_ITEM),
            ("get", "/api/v1/substances/{substance_id}/dossier", "substance_id", FIRST_ITEM),
        ],
    ),
    *(
        (
            producer,
            [
                ("get", "/api/v1/alerts/{alert_id}", "alert_id", where),
                ("patch", "/api/v1/alerts/{alert_id}", "alert_id", where),
                ("get", "/api/v1/alerts/{alert_id}/versions", "alert_id", where),
                ("get", "/api/v1/alerts/{alert_id}.cap", "alert_id", where),
                ("post", "/api/v1/alerts/{alert_id}:publish", "alert_id", where),
                ("post", "/api/v1/alerts/{alert_id}:dismiss", "alert_id", where),
                ("post", "/api/v1/alerts/{alert_id}:cancel", "alert_id", where),
            ],
        )
        for producer, where in (
            (("get", "/api/v1/alerts", ("200",)), FIRST_ITEM),
            (("post", "/api/v1/alerts/{alert_id}:publish", ("200",)), CREATED),
            (("patch", "/api/v1/alerts/{alert_id}", ("200",)), CREATED),
        )
    ),
    *(
        (
            producer,
            [
                ("get", "/api/v1/subscriptions/{subscription_id}", "subscription_id", where),
                ("delete", "/api/v1/subscriptions/{subscription_id}", "subscription_id", where),
                ("post", "/api/v1/subscriptions/{subscription_id}:enable", "subscription_id", where),
                ("get", "/api/v1/deliveries", "subscription_id", where),
            ],
        )
        for producer, where in (
            (("post", "/api/v1/subscriptions", ("201",)), CREATED),
            (("get", "/api/v1/subscriptions", ("200",)), FIRST_ITEM),
        )
    ),
    (
        ("get", "/api/v1/deliveries", ("200",)),
        [("post", "/api/v1/deliveries/{delivery_id}:replay", "delivery_id", FIRST_ITEM)],
    ),
    *(
        (
            producer,
            [
                ("post", "/api/v1/organisations/{organisation_id}/keys", "organisation_id", where),
                ("get", "/api/v1/organisations/{organisation_id}/keys", "organisation_id", where),
            ],
        )
        for producer, where in (
            (("post", "/api/v1/organisations", ("201",)), CREATED),
            (("get", "/api/v1/organisations", ("200",)), FIRST_ITEM),
        )
    ),
    # only a key just issued is revoked by following a link, never one listed
    (
        ("post", "/api/v1/organisations/{organisation_id}/keys", ("201",)),
        [("delete", "/api/v1/keys/{key_id}", "key_id", CREATED)],
    ),
]


def body_as(*media_types: str, status: int = 200, description: str | None = None) -> dict[int | str, Any]:
    """``responses=`` for a route whose body is not JSON: the media types it answers with."""
    response: dict[str, Any] = {"content": {media: {"schema": {"type": "string"}} for media in media_types}}
    if description:
        response["description"] = description
    return {status: response}


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation's 4xx and 503 answers as ``application/problem+json`` with the Problem schema."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code.startswith("4") or code == "503":
                    response["content"] = {MEDIA_TYPE: {"schema": PROBLEM_REF}}
            for code, response in ERROR_RESPONSES.items():
                responses.setdefault(code, _copy(response))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(_copy(PROBLEM_SCHEMAS))
    return document


def describe_links(document: dict[str, Any]) -> dict[str, Any]:
    """Add ``LINKS`` to the answers that carry the ids (operations the node does not serve are skipped)."""
    paths = document.get("paths", {})
    for (method, path, statuses), consumers in LINKS:
        producer = paths.get(path, {}).get(method)
        if producer is None:
            continue
        for status in statuses:
            response = producer.get("responses", {}).get(status)
            if response is None:
                continue
            links = response.setdefault("links", {})
            for consumer_method, consumer_path, parameter, where in consumers:
                consumer = paths.get(consumer_path, {}).get(consumer_method)
                if consumer is None or "operationId" not in consumer:
                    continue
                name = consumer["operationId"]
                links[name] = {"operationId": name, "parameters": {parameter: where}}
    return document


def install(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_links(describe_errors(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
