"""ASGI middleware of a node: request ids and access logs, security headers, rate limits, NUL characters."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from urllib.parse import parse_qsl

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ews.logs import request_id
from ews.metrics import RATE_LIMITED
from ews.problems import Problem, field_error, invalid, nul_paths, problem_response
from ews.services.ratelimit import RateLimiter

access = logging.getLogger("ews.access")
REQUEST_ID = "x-request-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# Pages run only their own scripts and styles (no inline ones), are never framed, and send no referrer off-site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class RequestContext:
    """Give every request an id (``X-Request-ID`` in, else a new one; echoed out) and log it once, as JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(REQUEST_ID.encode(), b"").decode("latin-1")
        current = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(current)
        start = time.perf_counter()
        status = 500

        async def identified_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID.encode(), current.encode())]
            await send(message)

        try:
            await self.app(scope, receive, identified_send)
        finally:
            route = scope.get("route")
            access.info(
                "%s %s %s",
                scope["method"],
                getattr(route, "path", scope["path"]),
                status,
                extra={
                    "method": scope["method"],
                    "route": getattr(route, "path", None),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            request_id.reset(token)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured_send)


_EXEMPT = ("/healthz", "/readyz", "/metrics", "/static/")


class RateLimit:
    """429 with ``Retry-After`` past ``per_key`` requests a minute for an API key, ``per_address`` for an address."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, per_key: int, per_address: int) -> None:
        self.app = app
        self.limiter = limiter
        self.per_key = per_key
        self.per_address = per_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_EXEMPT):
            await self.app(scope, receive, send)
            return
        checks = []
        if self.per_address > 0:
            checks.append(("address", "addr:" + (scope.get("client") or ("unknown", 0))[0], self.per_address))
        authorization = dict(scope.get("headers", [])).get(b"authorization", b"")
        if self.per_key > 0 and authorization[:7].lower() == b"bearer ":
            digest = hashlib.sha256(authorization[7:].strip()).hexdigest()[:32]
            checks.append(("key", "key:" + digest, self.per_key))
        for kind, subject, limit in checks:
            wait, flush = self.limiter.count(subject, limit)  # in memory: no thread, no database
            if flush is not None:  # now and then the shared count is brought up to date
                wait = await anyio.to_thread.run_sync(self.limiter.flush, *flush)
            if wait is not None:
                RATE_LIMITED.labels(kind).inc()
                seconds = max(1, int(wait + 0.999))
                problem = Problem(
                    429,
                    "Too many requests",
                    f"more than {limit} requests a minute from this {'API key' if kind == 'key' else 'address'}; "
                    f"retry in {seconds} s",
                    headers={"Retry-After": str(seconds)},
                )
                await problem_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# Text a NUL character (U+0000) may not reach: PostgreSQL refuses it in text columns, and no name, id,
# SMILES or note holds one. JSON writes it as the escape \u0000, forms as %00, CSV and SDF as the raw byte.
_JSON_NUL = b"\\u0000"
_FORM_NUL = b"%00"
_TEXT_BODIES = (b"text/", b"chemical/")
NUL_DETAIL = "a NUL character (U+0000) is not accepted in text"


class RefuseNul:
    """422 naming the field when a NUL character is in the path, a query parameter, a header or a text body.

    JSON and text bodies (CSV, SDF) are read before the handler runs; compressed and multipart uploads
    are left to the handlers, and a NUL that reaches the database is answered 422 by ``ews.problems``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = _nul_in_request_line(scope)
        if errors:
            await problem_response(invalid(errors, NUL_DETAIL))(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").lower()
        if headers.get(b"content-encoding", b"identity").lower() != b"identity":
            marker = None  # compressed: the bytes are not the text
        elif b"json" in content_type:
            marker = _JSON_NUL
        elif content_type.startswith(b"application/x-www-form-urlencoded"):
            marker = _FORM_NUL
        elif content_type.startswith(_TEXT_BODIES):
            marker = b"\x00"
        else:
            marker = None
        if marker is None:
            await self.app(scope, receive, send)
            return
        # Read the body first (the handler would buffer it anyway), then hand it on unchanged.
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        errors = _nul_in_body(body, marker) if marker in body else []
        if errors:
            await problem_response(invalid(errors, NUL_DETAIL))(scope, receive, send)
            return

        async def replayed_receive() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replayed_receive, send)


def _nul_in_body(body: bytes, marker: bytes) -> list[dict[str, str]]:
    """Where a body's NUL characters are, as field errors: the JSON path, the form field or the line."""
    if marker == _FORM_NUL:
        names = [
            name for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True) if "\x00" in value
        ]
        return [field_error(name, "holds a NUL character (U+0000)", "nul_character") for name in names[:20]]
    if marker == b"\x00":
        line = body.count(b"\n", 0, body.index(b"\x00")) + 1
        return [field_error("body", f"line {line} holds a NUL character (U+0000)", "nul_character")]
    try:  # "\\u0000" (an escaped backslash) is no NUL; malformed JSON is the handler's to explain
        paths = nul_paths(json.loads(body))
    except (ValueError, RecursionError):
        return []
    return [field_error(path or "body", "holds a NUL character (U+0000)", "nul_character") for path in paths]


def _nul_in_request_line(scope: Scope) -> list[dict[str, str]]:
    errors = []
    if "\x00" in scope["path"]:
        errors.append(field_error("path", "the path holds a NUL character (U+0000)", "nul_character"))
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                errors.append(
                    field_error(name.replace("\x00", "?"), "holds a NUL character (U+0000)", "nul_character")
                )
    for name, value in scope.get("headers", []):
        if b"\x00" in value:
            errors.append(field_error(name.decode("latin-1"), "the header holds a NUL character", "nul_character"))
    return errors
