"""Rendering a page: the template, the visitor's language, who is signed in, and the node's name."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from ews.api.deps import Node
from ews.web import format as fmt
from ews.web.i18n import language, words
from ews.web.session import csrf_token, current_user, set_cookies

templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


@pass_context
def _number(context, value, digits: int = 2) -> str:
    return fmt.number(value, context.get("lang", "en"), digits)


@pass_context
def _day(context, value) -> str:
    return fmt.day(value, context.get("lang", "en"))


@pass_context
def _month(context, value) -> str:
    return fmt.month(value, context.get("lang", "en"))


@pass_context
def _moment(context, value) -> str:
    return fmt.moment(value, context.get("lang", "en"))


@pass_context
def _word(context, value) -> str:
    """A vocabulary term (status, verdict, severity, class…) in the page's language, itself if unknown."""
    if value is None:
        return ""
    return context["t"].get(f"v.{value}", str(value).replace("_", " "))


templates.env.filters.update(number=_number, day=_day, month=_month, moment=_moment, word=_word)


def render(
    request: Request,
    state: Node,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context,
) -> HTMLResponse:
    lang = language(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": words(lang),
            "node_id": state.settings.node_id,
            "user": current_user(request),
            "csrf": csrf_token(request),
            **context,
        },
        status_code=status_code,
        headers=headers,
    )
    return set_cookies(request, response)  # type: ignore[return-value]
