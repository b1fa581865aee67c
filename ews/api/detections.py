"""Detections: what labs report."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from chem.classes import CLASSES
from chem.match import VERDICTS
from ews.api.answers import BatchResults, Detection, DetectionPage, answer
from ews.api.deps import Node, node, require, session
from ews.api.filters import reject_unknown_query
from ews.auth import Principal
from ews.problems import Problem, field_error, invalid, json_error
from ews.schemas import DetectionIn, country_code
from ews.services import batches
from ews.services import detections as service

router = APIRouter(prefix="/api/v1", tags=["detections"])


@router.post(
    "/detections",
    status_code=201,
    responses={
        **answer(Detection, 201, "the detection stored, each component with its match"),
        **answer(Detection, 200, "a retry: the detection stored the first time"),
    },
    summary="Report a detection",
)
def create_detection(
    payload: DetectionIn,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    caller: Principal = Depends(require("lab")),
    state: Node = Depends(node),
):
    stored = service.submit(
        state.engine, state.identifier, caller, payload, idempotency_key, state.detection_listeners
    )
    body = service.view(stored.detection, stored.components, caller)
    return JSONResponse(body, status_code=201 if stored.created else 200)


BATCH_DESCRIPTION = f"""Many detections at once, each row on its own: one bad row spares the others.

Send a JSON list of detections (`application/json`, each like the body of
`POST /api/v1/detections`), a CSV (`text/csv`, or a multipart upload in the
form field `file`) or an SDF (`chemical/x-mdl-sdfile`, one detection per record,
the columns below as data items).

A CSV holds **one component per row**; rows sharing an `external_ref` are one
detection (the sample columns are read from its first row). Accepted columns
(header names are case-insensitive; any other column is a 422 naming it):

{batches.columns_markdown()}

The answer lists every row (`index`, `status` 201 created / 200 replayed or
duplicate / 4xx failed, `errors` naming each field, `warnings`) and a
`summary`. When **every** row failed the answer is 422 with the same
`results`. With an `Idempotency-Key` header, row *i* is stored under
`KEY:i`, so the whole batch can be retried; rows with neither an
`external_ref` nor that header are warned about, and identical ones within one
batch are stored once.
"""


# The handler reads the body itself (one of four media types), so the document is told what it takes.
BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/DetectionIn"}}},
        "text/csv": {"schema": {"type": "string"}},
        "chemical/x-mdl-sdfile": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary", "description": "a CSV or SDF file"}},
            }
        },
    },
}


@router.post(
    "/detections:batch",
    summary="Report many detections (JSON list, CSV or SDF)",
    description=BATCH_DESCRIPTION,
    responses={
        **answer(BatchResults, description="every row's result and a summary"),
        422: {"description": "an unreadable file, an unknown CSV column, or every row failed"},
    },
    openapi_extra={"requestBody": BATCH_BODY},
)
async def create_detections_batch(
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=180)] = None,
    caller: Principal = Depends(require("lab")),
    state: Node = Depends(node),
):
    state.library.require_loaded()  # refuse the whole batch up front, not row by row
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise invalid([field_error("file", "send the CSV or SDF as a form field named 'file'")])
        raw = await upload.read()
        filename = (upload.filename or "").lower()
        content_type = "chemical/x-mdl-sdfile" if filename.endswith((".sdf", ".sd")) else "text/csv"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise invalid([field_error("body", f"not UTF-8 text (byte {error.start})")]) from None
    rows: list[batches.Row]
    if content_type in ("application/json", ""):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise invalid([json_error(error)]) from None
        if not isinstance(items, list):
            raise invalid([field_error("body", "a JSON list of detections is expected")])
        rows = batches.rows_from_json(items)
    elif content_type in ("text/csv", "application/csv"):
        rows = batches.rows_from_csv(text)
    elif content_type in ("chemical/x-mdl-sdfile", "application/x-mdl-sdfile", "chemical/x-sdf"):
        rows = batches.rows_from_sdf(text)
    else:
        raise Problem(415, "Unsupported media type", "send application/json, text/csv or chemical/x-mdl-sdfile")
    if not rows:
        raise invalid([field_error("body", "the batch holds no rows")])
    if len(rows) > state.settings.max_batch_rows:
        raise Problem(413, "Content too large", f"at most {state.settings.max_batch_rows} rows per batch")
    # the chemistry of a whole batch must not hold the event loop: other requests go on
    answer = await run_in_threadpool(_submit_rows, rows, idempotency_key, caller, state)
    if answer["summary"]["failed"] == len(rows):
        raise batches.every_row_failed(answer["results"], answer["summary"])
    return answer


def _submit_rows(rows: list[batches.Row], batch_key: str | None, caller: Principal, state: Node) -> dict:
    results: list[dict[str, Any]] = []
    first_of: dict[str, int] = {}  # content hash -> index of the row that stored it
    stored_by_index: dict[int, dict] = {}
    for index, row in enumerate(rows):
        entry: dict[str, Any] = {"index": index, "source": row.source}
        payload, errors = batches.validate(row, index)
        if payload is None:
            results.append({**entry, "status": 422, "errors": errors})
            continue
        warnings: list[str] = []
        key = f"{batch_key}:{index}" if batch_key else None
        if not payload.external_ref and key is None:
            digest = service.request_hash(payload)
            if digest in first_of:
                earlier = first_of[digest]
                results.append(
                    {
                        **entry,
                        "status": 200,
                        "duplicate_of": earlier,
                        "detection": stored_by_index[earlier],
                        "warnings": [
                            f"same content as {rows[earlier].source} (row {earlier}), which has no external_ref: "
                            "stored once"
                        ],
                    }
                )
                continue
            first_of[digest] = index
            warnings.append(batches.NO_REF_WARNING)
        try:
            stored = service.submit(
                state.engine, state.identifier, caller, payload, key, state.detection_listeners
            )
        except Problem as problem:
            results.append(
                {
                    **entry,
                    "status": problem.status,
                    "errors": [{**e, "field": f"[{index}].{e['field']}"} for e in problem.errors],
                    "detail": problem.detail,
                }
            )
            continue
        view = service.view(stored.detection, stored.components, caller)
        stored_by_index[index] = view
        result = {**entry, "status": 201 if stored.created else 200, "detection": view}
        if warnings:
            result["warnings"] = warnings
        results.append(result)
    summary = {
        "created": sum(r["status"] == 201 for r in results),
        "replayed": sum(r["status"] == 200 and "duplicate_of" not in r for r in results),
        "duplicates": sum("duplicate_of" in r for r in results),
        "failed": sum(r["status"] >= 400 for r in results),
        "warnings": sum(len(r.get("warnings", ())) for r in results),
    }
    return {"summary": summary, "results": results}


@router.get(
    "/detections",
    summary="Detections visible to this key, newest first",
    responses=answer(DetectionPage),
    dependencies=[Depends(reject_unknown_query)],
)
def list_detections(
    country: str | None = None,
    drug_class: Annotated[str | None, Query(alias="class")] = None,
    verdict: str | None = None,
    substance: str | None = Query(default=None, description="substance id, InChIKey or its first block"),
    since: date | None = Query(default=None, description="seized on or after"),
    until: date | None = Query(default=None, description="seized on or before"),
    cursor: str | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    caller: Principal = Depends(require("lab", "authority", "regional", "admin")),
    db: Session = Depends(session),
):
    errors = []
    if country:
        try:
            country = country_code(country)
        except ValueError as error:
            errors.append(field_error("country", str(error)))
    if drug_class and drug_class not in CLASSES:
        errors.append(
            field_error("class", f"{drug_class!r} is not a class; accepted: {', '.join(sorted(CLASSES))}")
        )
    if verdict and verdict not in VERDICTS:
        errors.append(field_error("verdict", f"{verdict!r} is not a verdict; accepted: {', '.join(VERDICTS)}"))
    if since and until and since > until:
        errors.append(field_error("until", f"until {until} is before since {since}"))
    if errors:
        raise invalid(errors)
    filters = service.DetectionFilter(country, drug_class, verdict, substance, since, until)
    page, next_cursor = service.search(db, caller, filters, cursor, limit)
    return {"items": [service.view(d, c, caller) for d, c in page], "next_cursor": next_cursor}


@router.get("/detections/{detection_id}", summary="One detection", responses=answer(Detection))
def get_detection(
    detection_id: str,
    caller: Principal = Depends(require("lab", "authority", "regional", "admin")),
    db: Session = Depends(session),
):
    detection = service.get_visible(db, caller, detection_id)
    return service.view(detection, service.components_of(db, detection.id), caller)
