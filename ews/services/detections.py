"""Store what labs report: idempotent submissions, matched components, role-scoped reads."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, false, or_, true
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ews.audit import audit_entry
from ews.auth import Principal
from ews.db import construct, insert_new, reader_of, session_scope
from ews.models import Alert, Detection, DetectionComponent, detection_copies
from ews.problems import Problem, field_error, invalid, not_found
from ews.schemas import DetectionIn
from ews.services.identify import Identifier

PRIVATE_FIELDS = ("case_ref", "notes", "external_ref")

# Called inside the transaction that stores a detection (alert rules hook in here).
DetectionListener = Callable[[Session, Detection, list[DetectionComponent]], None]


@dataclass
class Stored:
    detection: Detection
    components: list[DetectionComponent]
    created: bool


def request_hash(payload: DetectionIn) -> str:
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _existing(session: Session, organisation_id: str, idempotency_key: str | None, external_ref: str | None):
    clauses = []
    if idempotency_key:
        clauses.append(col(Detection.idempotency_key) == idempotency_key)
    if external_ref:
        clauses.append(col(Detection.external_ref) == external_ref)
    if not clauses:
        return None
    return session.exec(
        select(Detection).where(Detection.organisation_id == organisation_id, or_(*clauses))
    ).first()


def _replay(session: Session, detection: Detection, digest: str) -> Stored:
    if detection.request_hash != digest:
        raise Problem(
            409,
            "Conflict",
            "this Idempotency-Key / external_ref was already used for a different detection",
            errors=[field_error("external_ref", "already used with a different body", "idempotency_conflict")],
            detection_id=detection.id,
        )
    return Stored(detection, components_of(session, detection.id), created=False)


def components_of(session: Session, detection_id: str) -> list[DetectionComponent]:
    return list(
        session.exec(
            select(DetectionComponent)
            .where(DetectionComponent.detection_id == detection_id)
            .order_by(col(DetectionComponent.position))
        ).all()
    )


def _identified_components(payload: DetectionIn, identifier: Identifier) -> list[DetectionComponent]:
    components, errors = [], []
    for position, component in enumerate(payload.components):
        fmt, text = component.structure
        result = identifier.identify(text, fmt, name=component.name, jurisdiction=payload.sample.country)
        if "error" in result:
            errors.append(
                field_error(f"components[{position}].{fmt}", result["error"], result.get("error_code", ""))
            )
            continue
        identity = next((m for m in result["matches"] if m["kind"] == "identity"), None)
        components.append(
            construct(  # detection_id is set once the detection is stored
                DetectionComponent,
                position=position,
                name=component.name,
                input_format=fmt,
                input_text=text,
                std_smiles=result["standardized"]["smiles"],
                inchikey=result["standardized"]["inchikey"],
                skeleton_key=result["standardized"]["inchikey"].split("-")[0],
                formula=result["standardized"]["formula"],
                verdict=result["verdict"],
                drug_class=result["class"],
                substance_id=identity["substance"]["id"] if identity else None,
                substance_name=identity["substance"]["name"] if identity else None,
                purity_percent=component.purity_percent,
                high_harm=bool(result.get("high_harm")),
                match=result,
                role=component.role,
                amount_mg=component.amount_mg,
                enantiomer_ratio=component.enantiomer_ratio,
            )
        )
    if errors:
        raise invalid(errors, "a component's structure could not be read; nothing was stored")
    return components


def submit(
    engine: Engine,
    identifier: Identifier,
    principal: Principal,
    payload: DetectionIn,
    idempotency_key: str | None,
    listeners: Sequence[DetectionListener] = (),
) -> Stored:
    """Store a detection once: a retry with the same key returns the first one.

    One transaction and no read before it: the unique keys (organisation with
    Idempotency-Key, organisation with external_ref) answer whether this is a
    retry, by refusing the insert. A retry is rare; a look-up before every
    first submission would cost each of them a connection and three round trips.
    """
    digest = request_hash(payload)
    key = idempotency_key or None
    try:
        # The chemistry runs outside any transaction: it is the slow part.
        components = _identified_components(payload, identifier)
    except Problem:
        # no library yet (or a structure the chemistry refuses): a retry of a stored detection is still answered
        if key or payload.external_ref:
            with Session(reader_of(engine), expire_on_commit=False) as session:
                earlier = _existing(session, principal.organisation_id, key, payload.external_ref)
                if earlier is not None:
                    return _replay(session, earlier, digest)
        raise
    sample = payload.sample
    detection = construct(
        Detection,
        organisation_id=principal.organisation_id,
        external_ref=payload.external_ref,
        idempotency_key=key,
        request_hash=digest,
        form=sample.form,
        sold_as=sample.sold_as,
        seized_on=sample.seized_on,
        analyzed_on=sample.analyzed_on,
        country=sample.country,
        region=sample.region,
        quantity_value=sample.quantity.value if sample.quantity else None,
        quantity_unit=sample.quantity.unit if sample.quantity else None,
        purity_percent=sample.purity_percent,
        techniques=sample.techniques,
        confidence=sample.confidence,
        case_ref=payload.case_ref,
        notes=payload.notes,
        appearance=sample.appearance.model_dump(exclude_none=True) if sample.appearance else {},
    )
    copies = detection_copies(detection)
    for component in components:
        component.detection_id = detection.id
        for name, value in copies.items():
            setattr(component, name, value)
    try:
        with session_scope(engine) as session:
            # Core inserts, not the unit of work: these rows are new and complete, nothing to track
            entry = audit_entry(
                "detection.create",
                "detection",
                detection.id,
                principal,
                components=len(components),
                country=sample.country,
            )
            insert_new(session, detection, *components, entry)  # a retry stops here, on a unique key
            for listener in listeners:
                listener(session, detection, components)
    except IntegrityError:
        # A retry, or a concurrent submission with the same key that won the race: answer with its detection.
        with session_scope(engine) as session:
            earlier = _existing(session, principal.organisation_id, key, payload.external_ref)
            if earlier is None:
                raise
            return _replay(session, earlier, digest)
    return Stored(detection, components, created=True)


# --- reading ----------------------------------------------------------------------------------


def visible(principal: Principal):
    """The SQL condition for the detections this principal may read."""
    if principal.sees_everything:
        return true()
    conditions = []
    if principal.has("lab"):
        conditions.append(col(Detection.organisation_id) == principal.organisation_id)
    if principal.has("authority") and principal.country:
        conditions.append(col(Detection.country) == principal.country)
    return or_(*conditions) if conditions else false()


def sample_view(detection: Detection) -> dict:
    """The sample as every reader may see it (nothing here is private to the lab)."""
    return {
        "form": detection.form,
        "sold_as": detection.sold_as,
        "seized_on": detection.seized_on.isoformat() if detection.seized_on else None,
        "analyzed_on": detection.analyzed_on.isoformat() if detection.analyzed_on else None,
        "country": detection.country,
        "region": detection.region,
        "techniques": detection.techniques,
        "confidence": detection.confidence,
        "quantity": (
            {"value": detection.quantity_value, "unit": detection.quantity_unit}
            if detection.quantity_value is not None
            else None
        ),
        "purity_percent": detection.purity_percent,
        "appearance": appearance_view(detection.appearance),
    }


APPEARANCE_FIELDS = ("colour", "logo", "shape", "mass_mg", "diameter_mm", "packaging")


def appearance_view(appearance: dict | None) -> dict | None:
    """The physical characteristics as reported (known keys only), or None when none were."""
    shown = {k: appearance[k] for k in APPEARANCE_FIELDS if appearance and appearance.get(k) is not None}
    return shown or None


def profile_fields(component: DetectionComponent) -> dict:
    """A component's place in the seizure's profile: role, amount per unit, enantiomer ratio."""
    return {
        "role": component.role,
        "amount_mg": component.amount_mg,
        "enantiomer_ratio": component.enantiomer_ratio,
    }


def view(detection: Detection, components: list[DetectionComponent], principal: Principal | None) -> dict:
    """A detection as this principal may see it: private fields only for the submitting lab."""
    own = principal is not None and principal.organisation_id == detection.organisation_id
    body: dict[str, Any] = {
        "id": detection.id,
        "organisation_id": detection.organisation_id,
        "created_at": detection.created_at.isoformat(),
        "sample": sample_view(detection),
        "components": [
            {
                "id": c.id,
                "position": c.position,
                "name": c.name,
                "purity_percent": c.purity_percent,
                **profile_fields(c),
                "verdict": c.verdict,
                "class": c.drug_class,
                "substance": {"id": c.substance_id, "name": c.substance_name} if c.substance_id else None,
                "match": c.match,
            }
            for c in components
        ],
    }
    if detection.origin_node:
        body["origin"] = {"node": detection.origin_node, "id": detection.origin_id}
    if own:
        body["external_ref"] = detection.external_ref
        body["case_ref"] = detection.case_ref
        body["notes"] = detection.notes
    return body


def get_visible(session: Session, principal: Principal, detection_id: str) -> Detection:
    detection = session.exec(select(Detection).where(Detection.id == detection_id, visible(principal))).first()
    if detection is None:
        raise not_found("detection", detection_id)
    return detection


def encode_cursor(detection: Detection | Alert) -> str:
    raw = f"{detection.created_at.isoformat()}|{detection.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, identifier = raw.split("|", 1)
        return datetime.fromisoformat(stamp), identifier
    except (ValueError, UnicodeDecodeError):
        raise invalid([field_error("cursor", "not a cursor returned by this endpoint")]) from None


@dataclass
class DetectionFilter:
    country: str | None = None
    drug_class: str | None = None
    verdict: str | None = None
    substance: str | None = None
    since: date | None = None
    until: date | None = None


def search(
    session: Session, principal: Principal, filters: DetectionFilter, cursor: str | None, limit: int
) -> tuple[list[tuple[Detection, list[DetectionComponent]]], str | None]:
    query = select(Detection).where(visible(principal))
    if filters.country:
        query = query.where(Detection.country == filters.country)
    if filters.since:
        query = query.where(col(Detection.seized_on) >= filters.since)
    if filters.until:
        query = query.where(col(Detection.seized_on) <= filters.until)
    component_conditions = []
    if filters.drug_class:
        component_conditions.append(col(DetectionComponent.drug_class) == filters.drug_class)
    if filters.verdict:
        component_conditions.append(col(DetectionComponent.verdict) == filters.verdict)
    if filters.substance:
        component_conditions.append(
            or_(
                col(DetectionComponent.substance_id) == filters.substance,
                col(DetectionComponent.inchikey) == filters.substance,
                col(DetectionComponent.skeleton_key) == filters.substance,
            )
        )
    if component_conditions:
        query = query.where(
            exists().where(col(DetectionComponent.detection_id) == Detection.id, *component_conditions)
        )
    if cursor:
        stamp, identifier = decode_cursor(cursor)
        query = query.where(
            or_(
                col(Detection.created_at) < stamp,
                and_(col(Detection.created_at) == stamp, col(Detection.id) < identifier),
            )
        )
    query = query.order_by(col(Detection.created_at).desc(), col(Detection.id).desc()).limit(limit + 1)
    detections = list(session.exec(query).all())
    next_cursor = encode_cursor(detections[limit - 1]) if len(detections) > limit else None
    detections = detections[:limit]
    by_detection: dict[str, list[DetectionComponent]] = {d.id: [] for d in detections}
    if detections:
        for component in session.exec(
            select(DetectionComponent)
            .where(col(DetectionComponent.detection_id).in_(list(by_detection)))
            .order_by(col(DetectionComponent.position))
        ).all():
            by_detection[component.detection_id].append(component)
    return [(d, by_detection[d.id]) for d in detections], next_cursor
