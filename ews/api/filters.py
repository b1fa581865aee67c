"""Query parameters are a contract too: a filter nobody declared is refused, not ignored.

``?countri=CO`` would otherwise list every country's detections as if filtered,
and ``?country=CO&country=MX`` only Mexico's (a single-valued parameter keeps
one of its values). ``reject_unknown_query`` is a dependency for any route: it
reads the names the route itself declares, so there is no second list to keep in step.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence

from fastapi import Request
from fastapi.routing import APIRoute

from ews.problems import field_error, invalid

ALWAYS_ACCEPTED = frozenset({"lang"})  # the page language, on every page


def _names(dependant) -> frozenset[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _names(sub)
    return frozenset(names)


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares (remembered on the route)."""
    names = getattr(route, "_ews_query_names", None)
    if names is None:
        names = _names(route.dependant) | ALWAYS_ACCEPTED
        route._ews_query_names = names  # type: ignore[attr-defined]
    return names


def _takes_many(annotation: object) -> bool:
    """Whether a parameter's annotation is a list (``list[str] | None`` too): it may be repeated."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_takes_many(arg) for arg in typing.get_args(annotation))
    return isinstance(origin, type) and issubclass(origin, Sequence) and not issubclass(origin, str)


def _repeatable(dependant) -> frozenset[str]:
    names = {field.alias for field in dependant.query_params if _takes_many(field.field_info.annotation)}
    for sub in dependant.dependencies:
        names |= _repeatable(sub)
    return frozenset(names)


def repeated_query(request: Request) -> list[dict[str, str]]:
    """A field error for each single-valued query parameter given more than once."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return []
    repeatable = getattr(route, "_ews_repeatable_query", None)
    if repeatable is None:
        repeatable = route._ews_repeatable_query = _repeatable(route.dependant)  # type: ignore[attr-defined]
    names = [name for name, _ in request.query_params.multi_items()]
    return [
        field_error(name, f"{name!r} is given {names.count(name)} times; it takes one value", "repeated_parameter")
        for name in dict.fromkeys(names)
        if names.count(name) > 1 and name not in repeatable
    ]


def unknown_query(request: Request, accepted: frozenset[str] | None = None) -> list[dict[str, str]]:
    """A field error for each query parameter the route does not know."""
    if accepted is None:
        route = request.scope.get("route")
        if not isinstance(route, APIRoute):
            return []
        accepted = declared_query(route) | ALWAYS_ACCEPTED
    listed = ", ".join(sorted(accepted - ALWAYS_ACCEPTED)) or "none"
    return [
        field_error(name, f"unknown query parameter {name!r}; accepted: {listed}", "unknown_parameter")
        for name in dict.fromkeys(request.query_params.keys())
        if name not in accepted
    ]


def reject_unknown_query(request: Request) -> None:
    errors = unknown_query(request) + repeated_query(request)
    if errors:
        raise invalid(errors)
