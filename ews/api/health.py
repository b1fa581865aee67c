"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ews.api.answers import Health, Readiness, answer
from ews.api.deps import Node, node
from ews.db import reader_of
from ews.metrics import exposition
from ews.openapi import body_as
from ews.problems import Problem, problem_response
from ews.services.library import NOT_LOADED_REASON, RETRY_AFTER_SECONDS

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up", responses=answer(Health))
def healthz():
    return {"status": "ok"}


def _unready(reason: str) -> JSONResponse:
    problem = Problem(503, "Service unavailable", reason, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return problem_response(problem)


@router.get(
    "/readyz",
    summary="The database answers and a reference library is loaded (503 with a reason if not)",
    responses=answer(Readiness),
)
def readyz(state: Node = Depends(node)):
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        loaded = state.library.loaded
    except SQLAlchemyError as error:
        return _unready(f"the database does not answer ({type(error).__name__})")
    if not loaded:
        return _unready(NOT_LOADED_REASON)
    return {"status": "ready", "library_version": state.library.version}


@router.get(
    "/metrics",
    summary="Prometheus metrics of the node, summed over its processes",
    response_class=Response,
    responses=body_as("text/plain"),
)
def metrics(state: Node = Depends(node)):
    return Response(exposition(reader_of(state.engine)), media_type=CONTENT_TYPE_LATEST)
