"""Rendering a page: the template, the visitor's language and the node's name."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ews.api.deps import Node
from ews.web import formats
from ews.web.i18n import language, words

templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
formats.install(templates.env)  # numbers, dates and drug classes in the page's language


def render(request: Request, state: Node, template: str, status_code: int = 200, **context) -> HTMLResponse:
    lang = language(request)
    return templates.TemplateResponse(
        request,
        template,
        {"lang": lang, "t": words(lang), "node_id": state.settings.node_id, **context},
        status_code=status_code,
    )
