"""ews.db helpers of the hot path: rows made without the constructor's events are the same rows."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from ews.db import construct, engine_for, insert_new, session_scope
from ews.models import AuditEntry, Detection, DetectionComponent, FeedEntry, Organisation

VARYING = {"id", "created_at", "at", "detection_created_at"}
"""Fields whose default is made afresh for each row (an id, a time)."""

CASES = [
    (
        Detection,
        {
            "organisation_id": "org",
            "external_ref": "REF-1",
            "request_hash": "0" * 64,
            "form": "powder",
            "seized_on": date(2026, 11, 1),
            "country": "CO",
            "region": "Antioquia",
            "techniques": ["GC-MS"],
            "appearance": {"colour": "pink"},
        },
    ),
    (
        DetectionComponent,
        {
            "position": 1,
            "input_format": "smiles",
            "input_text": "CCO",
            "std_smiles": "CCO",
            "inchikey": "LFQSCWFLJHTTHZ-UHFFFAOYSA-N",
            "skeleton_key": "LFQSCWFLJHTTHZ",
            "formula": "C2H6O",
            "verdict": "known",
            "drug_class": "other",
            "match": {"verdict": "known", "matches": []},
            "purity_percent": 12.5,
        },
    ),
    (AuditEntry, {"organisation_id": "org", "action": "detection.create", "object_type": "detection"}),
    (FeedEntry, {"kind": "detection", "object_id": "d1", "origin_node": "node", "origin_id": "d1", "payload": {}}),
]


def test_a_constructed_row_has_the_constructors_values_defaults_and_fields_set():
    for model, values in CASES:
        made, built = model(**values), construct(model, **dict(values))
        assert type(built) is model
        assert built.model_fields_set == made.model_fields_set == set(values)
        for name in model.model_fields:
            if name not in VARYING:
                assert getattr(built, name) == getattr(made, name), (model.__name__, name)
            assert (getattr(built, name) is None) == (getattr(made, name) is None), (model.__name__, name)
        assert built.model_dump(exclude=VARYING) == made.model_dump(exclude=VARYING)
        built_again = construct(model, **dict(values))
        for name in VARYING & set(model.model_fields):
            if name == "id" and getattr(built, name) is not None:
                assert getattr(built_again, name) != getattr(built, name)  # a fresh default per row


def test_a_constructed_row_is_stored_by_core_and_by_the_unit_of_work(settings, actors):
    engine = engine_for(settings.database_url)
    with session_scope(engine) as session:
        organisation = session.exec(select(Organisation)).first()
        assert organisation is not None
        detection = construct(Detection, **{**CASES[0][1], "organisation_id": organisation.id})
        component = construct(DetectionComponent, **CASES[1][1])
        component.detection_id = detection.id  # set afterwards, as submit() does
        component.detection_created_at = detection.created_at
        insert_new(session, detection, component)
        session.add(construct(AuditEntry, **{**CASES[2][1], "object_id": detection.id}))  # as audit() adds one
    with Session(engine) as session:
        stored = session.get(Detection, detection.id)
        assert stored is not None and stored.appearance == {"colour": "pink"} and stored.techniques == ["GC-MS"]
        assert stored.seized_on == date(2026, 11, 1)
        (part,) = session.exec(select(DetectionComponent).where(DetectionComponent.detection_id == detection.id))
        assert part.match == {"verdict": "known", "matches": []} and part.purity_percent == 12.5
        entry = session.exec(select(AuditEntry).where(AuditEntry.object_id == detection.id)).one()
        assert entry.id is not None and entry.action == "detection.create" and entry.detail == {}


def test_a_component_of_no_detection_is_refused_by_the_foreign_key(database_url):
    """A component added through the session copies its detection's place and times before it is
    inserted; for a detection that does not exist there is nothing to copy, and the database refuses
    the row on its foreign key (an IntegrityError, as for any broken reference), storing nothing."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    engine = engine_for(database_url)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(
            DetectionComponent(
                detection_id="no-such-detection",
                inchikey="A" * 14 + "-X-N",
                skeleton_key="A" * 14,
                verdict="known",
            )
        )
    with Session(engine) as session:
        assert (
            session.exec(
                select(DetectionComponent).where(DetectionComponent.detection_id == "no-such-detection")
            ).all()
            == []
        )
