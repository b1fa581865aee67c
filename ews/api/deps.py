"""Dependencies: the node's state, sessions, and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ews.auth import KeyCache, Principal
from ews.config import Settings
from ews.db import reader_of, session_scope
from ews.problems import Problem
from ews.services.alerting import Alerting
from ews.services.identify import Identifier
from ews.services.library import LibraryHolder


@dataclass
class Node:
    """Everything a request handler may need, created once per process."""

    settings: Settings
    engine: Engine
    library: LibraryHolder
    identifier: Identifier
    alerting: Alerting
    keys: KeyCache = field(default_factory=KeyCache)
    detection_listeners: list = field(default_factory=list)


# The dependencies below that never block are ``async``: FastAPI runs a plain ``def`` dependency
# in the thread pool, a hop to another thread and back for every one of them on every request.


async def node(request: Request) -> Node:
    return request.app.state.node


def session(node: Node = Depends(node)) -> Iterator[Session]:
    """A read-only session."""
    with Session(reader_of(node.engine), expire_on_commit=False) as db:
        yield db


def write_session(node: Node = Depends(node)) -> Iterator[Session]:
    """A session whose transaction commits when the endpoint returns (rolls back on error)."""
    with session_scope(node.engine) as db:
        yield db


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def optional_principal(request: Request, node: Node = Depends(node)) -> Principal | None:
    """The caller: an API key, or for reads only, the person signed in to the pages of this node.

    A page's charts fetch the API with the browser's session cookie, so a signed-in analyst sees
    there what the API shows their role; writes still need a key (a cookie alone never changes state).
    A key answered from the cache costs no thread; one that needs the database is looked up in one.
    """
    token = _bearer(request)
    if token is None:
        if request.method in ("GET", "HEAD"):
            from ews.web.session import current_user

            return await run_in_threadpool(current_user, request)
        return None
    cached, principal = node.keys.cached(token)
    if not cached:
        principal = await run_in_threadpool(node.keys.lookup, reader_of(node.engine), token)
    if principal is None:
        raise Problem(
            401, "Unauthorized", "the API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


async def principal(found: Principal | None = Depends(optional_principal)) -> Principal:
    if found is None:
        raise Problem(
            401,
            "Unauthorized",
            "send an API key: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


def require(*roles: str):
    """A dependency admitting keys that hold at least one of ``roles``."""

    async def check(found: Principal = Depends(principal)) -> Principal:
        if not found.has(*roles):
            raise Problem(403, "Forbidden", f"this needs a key with one of the roles: {', '.join(roles)}")
        return found

    check.roles = roles  # type: ignore[attr-defined]  # read by ews.openapi to document who may call
    return check
