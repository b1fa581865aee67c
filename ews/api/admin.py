"""Organisations and API keys (admin role)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from ews.api import answers
from ews.api.answers import answer
from ews.api.deps import require, write_session
from ews.auth import Principal
from ews.models import ApiKey, Organisation
from ews.problems import not_found
from ews.schemas import ApiKeyIn, OrganisationIn
from ews.services import admin as service

router = APIRouter(prefix="/api/v1", tags=["administration"])


def _organisation(o: Organisation) -> dict:
    return {
        "id": o.id,
        "name": o.name,
        "kind": o.kind,
        "country": o.country,
        "contact_email": o.contact_email,
        "created_at": o.created_at.isoformat(),
    }


def _key(k: ApiKey) -> dict:
    return {
        "id": k.id,
        "organisation_id": k.organisation_id,
        "prefix": k.prefix,
        "roles": k.roles,
        "label": k.label,
        "created_at": k.created_at.isoformat(),
        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
    }


@router.post(
    "/organisations",
    status_code=201,
    summary="Create an organisation",
    responses=answer(answers.Organisation, 201),
)
def create_organisation(
    payload: OrganisationIn, caller: Principal = Depends(require("admin")), db: Session = Depends(write_session)
):
    organisation = service.create_organisation(
        db,
        payload.name,
        payload.kind,
        payload.country,
        (caller.organisation_id, caller.key_id),
        payload.contact_email,
    )
    db.flush()
    return _organisation(organisation)


@router.get("/organisations", summary="All organisations of this node", responses=answer(answers.OrganisationList))
def list_organisations(_: Principal = Depends(require("admin")), db: Session = Depends(write_session)):
    return {"items": [_organisation(o) for o in service.organisations(db)]}


@router.post(
    "/organisations/{organisation_id}/keys",
    status_code=201,
    summary="Issue an API key (shown once)",
    responses=answer(answers.NewApiKey, 201),
)
def create_key(
    organisation_id: str,
    payload: ApiKeyIn,
    caller: Principal = Depends(require("admin")),
    db: Session = Depends(write_session),
):
    organisation = db.get(Organisation, organisation_id)
    if organisation is None:
        raise not_found("organisation", organisation_id)
    row, key = service.issue_key(
        db, organisation, payload.roles, payload.label, (caller.organisation_id, caller.key_id)
    )
    db.flush()
    return JSONResponse({**_key(row), "key": key}, status_code=201)


@router.get(
    "/organisations/{organisation_id}/keys",
    summary="Keys of an organisation (never the secrets)",
    responses=answer(answers.ApiKeyList),
)
def list_keys(
    organisation_id: str, _: Principal = Depends(require("admin")), db: Session = Depends(write_session)
):
    rows = db.exec(select(ApiKey).where(ApiKey.organisation_id == organisation_id)).all()
    return {"items": [_key(k) for k in rows]}


@router.delete("/keys/{key_id}", summary="Revoke a key", responses=answer(answers.ApiKey))
def revoke_key(key_id: str, caller: Principal = Depends(require("admin")), db: Session = Depends(write_session)):
    row = service.revoke_key(db, key_id, (caller.organisation_id, caller.key_id))
    if row is None:
        raise not_found("key", key_id)
    db.flush()
    return _key(row)
