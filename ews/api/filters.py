"""Query parameters are a contract too: a filter nobody declared is refused, not ignored.

``?countri=CO`` would otherwise list every country's detections as if filtered.
``reject_unknown_query`` is a dependency for any route: it reads the names the
route itself declares, so there is no second list to keep in step.
"""

from __future__ import annotations

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
    errors = unknown_query(request)
    if errors:
        raise invalid(errors)
