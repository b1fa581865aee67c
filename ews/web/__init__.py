"""Web pages served by ``ews serve``: one module per area, each with its own router and words.

Every POST to a page must carry the visitor's CSRF token (``ews.web.session.csrf_protect``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ews.web import account, apidocs, clusters, insight, lab, public, review
from ews.web.session import csrf_protect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
for area in (public, account, review, lab, insight, clusters, apidocs):
    router.include_router(area.router)
