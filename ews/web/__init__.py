"""Web pages served by ``ews serve``: one module per area, each with its own router and words."""

from __future__ import annotations

from fastapi import APIRouter

from ews.web import apidocs, clusters, insight, public

router = APIRouter(include_in_schema=False)
for area in (public, insight, clusters, apidocs):
    router.include_router(area.router)
