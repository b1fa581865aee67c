"""RFC 9457 problem details: every error the API returns, naming each bad field."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://ews.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error to answer with ``application/problem+json``."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        type_: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_ or PROBLEM_BASE + title.lower().replace(" ", "-")
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
            "errors": self.errors,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def invalid(errors: list[dict[str, Any]], detail: str | None = None) -> Problem:
    fields = ", ".join(e["field"] for e in errors)
    return Problem(422, "Invalid request", detail or f"invalid field(s): {fields}", errors=errors)


def json_position(document: str, position: int) -> str:
    """'line 3, column 14 (character 52)': where in a JSON document, counting from 1 as editors do."""
    line = document.count("\n", 0, position) + 1
    column = position - (document.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column} (character {position + 1})"


def json_error(error: json.JSONDecodeError) -> dict[str, str]:
    """A malformed JSON body as a field error that says where it broke."""
    return field_error(
        "body", f"malformed JSON at {json_position(error.doc, error.pos)}: {error.msg}", "json_invalid"
    )


def nul_paths(value: object, path: str = "") -> list[str]:
    """Where in a JSON document a string (a value, or an object's key) holds a NUL: components[0].name."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found += [inner] if "\x00" in key else nul_paths(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nul_paths(item, f"{path}[{index}]")
    return found[:20]


def not_found(what: str, identifier: str) -> Problem:
    return Problem(404, "Not found", f"no {what} {identifier!r} visible to this key")


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(str(request.url.path) if request else None),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


def field_path(loc: tuple) -> str:
    """Pydantic's error location as a readable field path: components[0].smiles."""
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "body"


_location = field_path


def _message(error: dict) -> str:
    message = error.get("msg", "invalid")
    return message.removeprefix("Value error, ")


def _validation_error(error: dict, body: Any) -> dict[str, str]:
    if error.get("type") == "json_invalid":
        loc = tuple(error.get("loc", ()))
        position = loc[-1] if loc and isinstance(loc[-1], int) else 0
        document = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        reason = (error.get("ctx") or {}).get("error", "not JSON")
        return field_error(
            "body", f"malformed JSON at {json_position(document, position)}: {reason}", "json_invalid"
        )
    return field_error(field_path(tuple(error.get("loc", ()))), _message(error), error.get("type", "invalid"))


_STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
}


RETRY_AFTER_UNAVAILABLE = 5  # seconds: how soon a client may retry while the database is away


def database_problem(error: DBAPIError) -> Problem:
    """503 with Retry-After while the database is unreachable, full or read-only; the cause is said, not the SQL."""
    text = str(error.orig or error).lower()
    if "readonly" in text or "read-only" in text:
        detail = "the database is read-only; nothing was stored. An operator must make it writable."
    elif "disk is full" in text or "no space left" in text or "diskfull" in text:
        detail = "the database's disk is full; nothing was stored. An operator must free space."
    else:
        detail = "the database is unavailable; nothing was stored. Retry later."
    logging.getLogger("ews.db").error("database error: %s", type(error.orig or error).__name__ + ": " + text[:300])
    return Problem(503, "Service unavailable", detail, headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})


def unstorable_value(error: DataError) -> Problem:
    """422 for a value the database refuses (a NUL character, a number out of its range): the input's fault.

    Inputs are validated before they are stored; this answers what slips past (a NUL inside a
    compressed upload, say) with the database's reason instead of a 500.
    """
    reason = str(error.orig or error).splitlines()[0][:200]
    logging.getLogger("ews.db").warning("value refused by the database: %s", reason)
    return invalid([field_error("body", f"a value cannot be stored: {reason}", "unstorable")])


def unexpected(error: Exception) -> Problem:
    """500 as problem details too: the kind of error is logged with the request id, never sent."""
    logging.getLogger("ews.errors").error("unexpected %s", type(error).__name__, exc_info=error)
    return Problem(500, "Internal server error", "the node could not answer this request; the error is logged")


def install(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        return problem_response(unexpected(error), request)

    @app.exception_handler(DataError)
    async def _data(request: Request, error: DataError):
        return problem_response(unstorable_value(error), request)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database(request: Request, error: DBAPIError):
        return problem_response(database_problem(error), request)

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem):
        return problem_response(problem, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError):
        errors = [_validation_error(e, error.body) for e in error.errors()]
        return problem_response(invalid(errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException):
        title = _STATUS_TITLES.get(error.status_code, "Error")
        detail = error.detail if isinstance(error.detail, str) else title
        return problem_response(Problem(error.status_code, title, detail, headers=error.headers), request)
