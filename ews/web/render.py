"""Rendering a page: the template, the visitor's language, who is signed in, and the node's name."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from ews.api.deps import Node
from ews.web import format as fmt
from ews.web import formats
from ews.web.i18n import language, words
from ews.web.session import csrf_token, current_user, set_cookies

templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def _in_language(name: str):
    """A filter in the page's language: ``{{ n|number }}``, or with the language named, ``{{ n|number(lang) }}``.

    Both spellings are in use; the named form keeps ``formats``' conventions ('—' for nothing, one decimal).
    """

    @pass_context
    def apply(context, value, *args):
        if args and isinstance(args[0], str):
            return getattr(formats, name)(value, *args)
        return getattr(fmt, name)(value, context.get("lang", "en"), *args)

    return apply


@pass_context
def _word(context, value) -> str:
    """A vocabulary term (status, verdict, severity, class…) in the page's language, itself if unknown."""
    if value is None:
        return ""
    return context["t"].get(f"v.{value}", str(value).replace("_", " "))


templates.env.filters.update(
    number=_in_language("number"),
    day=_in_language("day"),
    month=_in_language("month"),
    moment=_in_language("moment"),
    drug_class=formats.drug_class,
    word=_word,
)


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
