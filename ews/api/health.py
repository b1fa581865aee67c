"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ews.api.deps import Node, node
from ews.db import reader_of
from ews.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
def healthz():
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers")
def readyz(state: Node = Depends(node)):
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return JSONResponse({"status": "unavailable", "detail": type(error).__name__}, status_code=503)
    return {"status": "ready", "library_version": state.library.version}


@router.get("/metrics", summary="Prometheus metrics of the node, summed over its processes")
def metrics(state: Node = Depends(node)):
    return Response(exposition(reader_of(state.engine)), media_type=CONTENT_TYPE_LATEST)
