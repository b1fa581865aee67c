"""The OpenAPI document as the API answers: every error a problem detail, every body under its media type.

FastAPI describes a validation error as its own ``HTTPValidationError`` in ``application/json``; this
node answers every 4xx (and the 503 of a database outage) with ``application/problem+json`` (RFC 9457,
``ews.problems``). ``describe_errors`` rewrites the generated document to say so, so that clients and
the schema-driven tests (tests/ews/test_fuzz.py) read what is really sent. ``describe_links`` adds
OpenAPI links from the answers that carry an id to the operations that take it. ``describe_security``
says who may call each operation: the bearer API key and the pages' session cookie as security
schemes, each operation's ``security`` and ``x-roles``, read from the dependencies it declares
(``ews.api.deps.require``, ``principal``, ``optional_principal``), so the document cannot drift from
what is enforced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from ews.api.deps import optional_principal, principal
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


def body_as(
    *media_types: str, status: int = 200, description: str | None = None, model: type | None = None
) -> dict[int | str, Any]:
    """``responses=`` for a route whose body is not JSON (or not only): the media types it answers with,
    and ``model``, the shape of its JSON answer when it has one (``format=json``)."""
    response: dict[str, Any] = {"content": {media: {"schema": {"type": "string"}} for media in media_types}}
    if model is not None:
        response["model"] = model
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


# Who may call: an API key (Authorization: Bearer), or for reads only, the session cookie of a person
# signed in to the pages (ews.api.deps.optional_principal).
SESSION_COOKIE = "ews_session"
SECURITY_SCHEMES: dict[str, Any] = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key, issued by an admin (`ews admin create-key`, `POST "
        "/api/v1/organisations/{id}/keys`) and shown once: `Authorization: Bearer <key>`. Each key holds "
        "roles (lab, authority, regional, admin); an operation names in `x-roles` the ones it admits. "
        "No or an unknown key: 401; a key without the role: 403.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The session of a person signed in to the pages (`/login`): reads only (GET), "
        "with that person's roles; a write always needs a key.",
    },
}
ANY_ROLE = ("lab", "authority", "regional", "admin")
WHO = {
    "roles": "**Who:** a key with one of the roles {roles}.",
    "key": "**Who:** any API key ({roles}).",
    "optional": "**Who:** anyone; a key (or a signed-in session) may show more.",
    "public": "**Who:** anyone, no key needed.",
}


def access_of(route: Any) -> tuple[str, tuple[str, ...]]:
    """How a route admits its callers: ``("roles", roles)`` a key holding one of them, ``("key", all)``
    any key, ``("optional", all)`` anyone (a key or session shows more), ``("public", ())`` no one asked."""
    found: list[tuple[str, tuple[str, ...]]] = []

    def walk(dependant: Dependant) -> None:
        for dependency in dependant.dependencies:
            call = dependency.call
            roles = getattr(call, "roles", None)  # set by ews.api.deps.require
            if roles is not None:
                found.append(("roles", tuple(roles)))
            elif call is principal:
                found.append(("key", ANY_ROLE))
            elif call is optional_principal:
                found.append(("optional", ANY_ROLE))
            walk(dependency)

    walk(route.dependant)
    for kind in ("roles", "key", "optional"):
        for found_kind, roles in found:
            if found_kind == kind:
                return kind, roles
    return "public", ()


def describe_security(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """``securitySchemes`` and, on every operation, its ``security`` and the roles it admits (``x-roles``)."""
    document.setdefault("components", {})["securitySchemes"] = _copy(SECURITY_SCHEMES)
    for route in iter_route_contexts(app.routes):  # the routes of included routers too
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        kind, roles = access_of(route)
        for method in route.methods or ():
            operation = document.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            key: list[dict[str, list[str]]] = [{"apiKey": []}]
            if method in ("GET", "HEAD"):
                key.append({"session": []})
            if kind == "public":
                operation["security"] = []
            elif kind == "optional":
                operation["security"] = [{}, *key]  # anonymous callers too: a key or session shows more
            else:
                operation["security"] = key
            operation["x-roles"] = list(roles)
            who = WHO[kind].format(roles=", ".join(roles))
            operation["description"] = f"{operation.get('description', '').rstrip()}\n\n{who}".lstrip()
    return document


def install(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_security(describe_links(describe_errors(generate())), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
