"""Linked seizures and their clusters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from ews.api.answers import ClusterGraph, ClusterPage, LinkedDetection, answer
from ews.api.deps import require, session
from ews.auth import Principal
from ews.models import LinkCluster
from ews.problems import field_error, invalid, not_found
from ews.schemas import country_code
from ews.services import detections as detection_service
from ews.services import links as service

router = APIRouter(prefix="/api/v1", tags=["profiles"])


@router.get(
    "/detections/{detection_id}/links",
    summary="Detections linked to this one by their chemical and physical profile",
    response_model=None,
    responses={200: {"model": list[LinkedDetection]}},
    description=(
        "Detections whose profiles score at or above the link threshold (one production batch likely), "
        "best first: `[{detection, score, parts, shared, method}]`. Only detections this key may read "
        "(the rules of `GET /api/v1/detections/{id}`) are listed; `shared` names the components and "
        "physical characteristics both have. The method is described in docs/profiles.md."
    ),
)
def detection_links(
    detection_id: str,
    caller: Principal = Depends(require("lab", "authority", "regional", "admin")),
    db: Session = Depends(session),
) -> list[dict]:
    detection = detection_service.get_visible(db, caller, detection_id)
    return service.links_of(db, caller, detection.id)


@router.get(
    "/clusters",
    summary="Clusters of linked seizures, most recently grown first",
    response_model=None,
    responses=answer(ClusterPage),
)
def clusters(
    substance: str | None = Query(default=None, description="the first block of the substance's InChIKey"),
    country: str | None = Query(default=None, description="clusters with a seizure in this country"),
    limit: int = Query(default=100, ge=1, le=500),
    db: Session = Depends(session),
) -> dict:
    if country:
        try:
            country = country_code(country)
        except ValueError as error:
            raise invalid([field_error("country", str(error))]) from None
    rows = service.list_clusters(db, substance, country, limit)
    return {"items": [service.cluster_summary(c) for c in rows]}


@router.get(
    "/clusters/{cluster_id}",
    summary="One cluster: its seizures (place, date), links and timeline",
    response_model=None,
    responses=answer(ClusterGraph),
    description="Public: a seizure appears with what alerts publish of it (country, region, date, form, sold as).",
)
def cluster(cluster_id: str, db: Session = Depends(session)) -> dict:
    found = db.get(LinkCluster, cluster_id)
    if found is None:
        raise not_found("cluster", cluster_id)
    return service.cluster_graph(db, found)
