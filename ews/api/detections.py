"""Detections: what labs report."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from chem.classes import CLASSES
from chem.match import VERDICTS
from chem.read import iter_sdf
from ews.api.deps import Node, node, require, session
from ews.auth import Principal
from ews.problems import Problem, field_error, field_path, invalid
from ews.schemas import DetectionIn, country_code
from ews.services import detections as service

router = APIRouter(prefix="/api/v1", tags=["detections"])


@router.post(
    "/detections",
    status_code=201,
    responses={200: {"description": "a retry: the detection stored the first time"}},
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


_APPEARANCE_COLUMNS = ("colour", "logo", "shape", "mass_mg", "diameter_mm", "packaging")


def _rows_from_csv(text: str) -> list[dict]:
    """CSV rows (one component each) grouped into detections by external_ref."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "smiles" not in {f.strip().lower() for f in reader.fieldnames}:
        raise invalid([field_error("file", "the CSV needs a header with at least country and smiles columns")])
    grouped: dict[str, dict] = {}
    order: list[str] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        key = row.get("external_ref") or f"line {number}"
        if key not in grouped:
            sample = {
                k: row[k]
                for k in ("form", "sold_as", "seized_on", "analyzed_on", "country", "region", "confidence")
                if row.get(k)
            }
            if row.get("techniques"):
                sample["techniques"] = [t for t in row["techniques"].replace(",", ";").split(";") if t.strip()]
            appearance = {k: row[k] for k in _APPEARANCE_COLUMNS if row.get(k)}
            if appearance:
                sample["appearance"] = appearance
            grouped[key] = {"sample": sample, "components": []}
            if row.get("external_ref"):
                grouped[key]["external_ref"] = row["external_ref"]
            for private in ("case_ref", "notes"):
                if row.get(private):
                    grouped[key][private] = row[private]
            order.append(key)
        component = {"smiles": row.get("smiles")}
        if row.get("name"):
            component["name"] = row["name"]
        for column in ("purity_percent", "amount_mg", "role", "enantiomer_ratio"):
            if row.get(column):
                component[column] = row[column]
        grouped[key]["components"].append(component)
    return [grouped[k] for k in order]


_SAMPLE_PROPERTIES = ("form", "sold_as", "seized_on", "analyzed_on", "country", "region", "confidence")


def _rows_from_sdf(text: str) -> list[dict | str]:
    """One detection per SDF record; sample fields come from the record's data items."""
    rows: list[dict | str] = []
    for record in iter_sdf(text):
        props = {k.strip().lower(): v.strip() for k, v in record.properties.items()}
        if record.error is not None:
            rows.append(f"record {record.index + 1}: {record.error}")
            continue
        sample: dict[str, Any] = {k: props[k] for k in _SAMPLE_PROPERTIES if props.get(k)}
        if props.get("techniques"):
            sample["techniques"] = [t for t in props["techniques"].replace(",", ";").split(";") if t.strip()]
        body: dict = {
            "sample": sample,
            "components": [{"molfile": record.molblock, "name": props.get("name") or record.title or None}],
        }
        if props.get("purity_percent"):
            body["components"][0]["purity_percent"] = props["purity_percent"]
        for key in ("external_ref", "case_ref", "notes"):
            if props.get(key):
                body[key] = props[key]
        rows.append(body)
    return rows


@router.post("/detections:batch", summary="Report many detections (JSON list, CSV or SDF)")
async def create_detections_batch(
    request: Request,
    caller: Principal = Depends(require("lab")),
    state: Node = Depends(node),
):
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
    except UnicodeDecodeError:
        raise invalid([field_error("body", "not UTF-8 text")]) from None
    rows: list
    if content_type in ("application/json", ""):
        try:
            rows = json.loads(text)
        except ValueError as error:
            raise invalid([field_error("body", f"not JSON: {error}")]) from None
        if not isinstance(rows, list):
            raise invalid([field_error("body", "a JSON list of detections is expected")])
    elif content_type in ("text/csv", "application/csv"):
        rows = _rows_from_csv(text)
    elif content_type in ("chemical/x-mdl-sdfile", "application/x-mdl-sdfile", "chemical/x-sdf"):
        rows = _rows_from_sdf(text)
    else:
        raise Problem(415, "Unsupported media type", "send application/json, text/csv or chemical/x-mdl-sdfile")
    if len(rows) > state.settings.max_batch_rows:
        raise Problem(413, "Content too large", f"at most {state.settings.max_batch_rows} rows per batch")
    # the chemistry of a whole batch must not hold the event loop: other requests go on
    return await run_in_threadpool(_submit_rows, rows, caller, state)


def _submit_rows(rows: list, caller: Principal, state: Node) -> dict:
    results: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if isinstance(row, str):
            results.append({"index": index, "status": 422, "errors": [field_error(f"[{index}]", row)]})
            continue
        try:
            payload = DetectionIn.model_validate(row)
            stored = service.submit(
                state.engine, state.identifier, caller, payload, None, state.detection_listeners
            )
        except ValidationError as error:
            errors = [
                field_error(f"[{index}]." + field_path(tuple(e["loc"])), e["msg"].removeprefix("Value error, "))
                for e in error.errors()
            ]
            results.append({"index": index, "status": 422, "errors": errors})
            continue
        except Problem as problem:
            results.append(
                {"index": index, "status": problem.status, "errors": problem.errors, "detail": problem.detail}
            )
            continue
        results.append(
            {
                "index": index,
                "status": 201 if stored.created else 200,
                "detection": service.view(stored.detection, stored.components, caller),
            }
        )
    summary = {
        "created": sum(r["status"] == 201 for r in results),
        "replayed": sum(r["status"] == 200 for r in results),
        "failed": sum(r["status"] >= 400 for r in results),
    }
    return {"summary": summary, "results": results}


@router.get("/detections", summary="Detections visible to this key, newest first")
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
        errors.append(field_error("class", f"one of {', '.join(sorted(CLASSES))}"))
    if verdict and verdict not in VERDICTS:
        errors.append(field_error("verdict", f"one of {', '.join(VERDICTS)}"))
    if errors:
        raise invalid(errors)
    filters = service.DetectionFilter(country, drug_class, verdict, substance, since, until)
    page, next_cursor = service.search(db, caller, filters, cursor, limit)
    return {"items": [service.view(d, c, caller) for d, c in page], "next_cursor": next_cursor}


@router.get("/detections/{detection_id}", summary="One detection")
def get_detection(
    detection_id: str,
    caller: Principal = Depends(require("lab", "authority", "regional", "admin")),
    db: Session = Depends(session),
):
    detection = service.get_visible(db, caller, detection_id)
    return service.view(detection, service.components_of(db, detection.id), caller)
