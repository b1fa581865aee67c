"""``/docs``: the API documentation (Swagger UI over /openapi.json), served by the node itself.

FastAPI's built-in page loads Swagger UI from a CDN and starts it with an
inline script; this one takes both from ``/static`` (``make assets``), so it
works offline and under a ``script-src 'self'`` policy.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ews.api.deps import Node, node
from ews.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, state: Node = Depends(node)):
    return render(request, state, "apidocs.html")
