"""Who is looking at a page: the signed-in person as a Principal, roles, CSRF tokens, cookies.

Pages use the same :class:`~ews.auth.Principal` and the same role checks as
the API; only the way in differs (a session cookie instead of a key).

Cookies: ``ews_session`` holds the session token (HttpOnly, SameSite=Lax,
Secure when the node's base URL is https). Every form carries ``csrf_token``:
for a signed-in person it is the session's own token (kept in the database);
before sign-in it is the value of the ``ews_csrf`` cookie (double submit).
A POST to a page without the right token is refused with 403.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from fastapi import Request, Response
from sqlmodel import Session

from ews.auth import Principal
from ews.db import reader_of
from ews.problems import Problem
from ews.services import accounts
from ews.web.i18n import LANGUAGE_COOKIE, LANGUAGES

SESSION_COOKIE = "ews_session"
CSRF_COOKIE = "ews_csrf"
CSRF_FIELD = "csrf_token"
CSRF_PROBLEM = "https://ews.dev/problems/csrf"


class SignInRequired(Exception):
    """A page that needs a signed-in person; pages answer with a redirect to /login."""


def _secure(request: Request) -> bool:
    return request.app.state.node.settings.base_url.startswith("https://")


def _lookup(request: Request):
    if not hasattr(request.state, "web_session"):
        token = request.cookies.get(SESSION_COOKIE, "")
        found = None
        if token:
            with Session(reader_of(request.app.state.node.engine)) as db:
                found = accounts.session_principal(db, token)
        request.state.web_session = found
    return request.state.web_session


def current_user(request: Request) -> Principal | None:
    """The signed-in person (a FastAPI dependency), or None."""
    found = _lookup(request)
    return found[0] if found else None


def signed_in(request: Request) -> Principal:
    """A dependency for pages that need someone signed in."""
    user = current_user(request)
    if user is None:
        raise SignInRequired
    return user


def page_roles(*roles: str):
    """A dependency admitting people who hold one of ``roles``: the same check as the API's ``require``."""

    def check(request: Request) -> Principal:
        user = signed_in(request)
        if not user.has(*roles):
            raise Problem(403, "Forbidden", f"this page needs one of the roles: {', '.join(roles)}")
        return user

    return check


def csrf_token(request: Request) -> str:
    """The token this visitor's forms carry."""
    found = _lookup(request)
    if found:
        return found[1].csrf_token
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def set_cookies(request: Request, response: Response) -> Response:
    """Give a first-time visitor the CSRF cookie its forms were rendered with, and remember a
    language chosen with ``?lang=`` (a form posted from the page has no query string)."""
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="lax", secure=_secure(request), path="/", max_age=86_400
        )
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            httponly=True,
            samesite="lax",
            secure=_secure(request),
            path="/",
            max_age=365 * 86_400,
        )
    return response


async def csrf_protect(request: Request) -> None:
    """Refuse a POST to a page whose form does not carry this visitor's token (a router dependency)."""
    if request.method != "POST":
        return
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    found = _lookup(request)
    expected = found[1].csrf_token if found else request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise Problem(
            403, "Forbidden", "the form's security token is missing or stale; reload the page", type_=CSRF_PROBLEM
        )


def start_session(request: Request, response: Response, signed: accounts.SignedIn) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(CSRF_COOKIE, path="/")


def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.sign_out(request.app.state.node.engine, token)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="")
