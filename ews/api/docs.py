"""API documentation at /docs, served entirely by this node (no CDN), without inline scripts.

FastAPI's default page loads Swagger UI from a CDN and starts it with an
inline script; an offline lab network gets a blank page, and a Content
Security Policy of ``script-src 'self'`` would forbid it anyway. The assets come
from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, which reads OpenAPI
3.1) and are served under /static/swagger-ui/; ``ews/static/docs.js`` starts it.
ReDoc is not served (``/redoc`` is 404): it would need a bundle of its own.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/static/swagger-ui"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve /docs from local assets; call with an app created with docs_url=None, redoc_url=None."""
    app.mount(ASSETS, StaticFiles(directory=Path(str(swagger_ui_path))), name="swagger-ui")
    page = PAGE.format(title=app.title, assets=ASSETS, openapi_url=app.openapi_url or "/openapi.json")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)
