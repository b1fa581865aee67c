"""A lab's private fields (case reference, notes, external reference) reach nobody else through any endpoint."""

from __future__ import annotations

from tests.ews.test_alerts import NEW_NITAZENE, report

SECRETS = ("PRIVATE-CASE", "PRIVATE-NOTES", "SECRET-REF-1")


def test_no_get_endpoint_leaks_private_fields_to_another_organisation(client, actors, settings):
    created = report(client, actors["lab_co"], NEW_NITAZENE, "SECRET-REF-1")
    assert created["case_ref"] == "PRIVATE-CASE"  # the lab itself sees them
    alert_id = client.get("/api/v1/alerts", headers=actors["admin"].headers).json()["items"][0]["id"]
    ids = {"detection_id": created["id"], "alert_id": alert_id, "substance_id": "fentanyl"}
    paths = []
    for template, operations in client.app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        path = template
        for name, value in ids.items():
            path = path.replace("{" + name + "}", value)
        if "{" not in path:
            paths.append(path)
    assert len(paths) > 15
    readers = [None, "lab_co2", "lab_mx", "authority_co", "authority_mx", "regional", "admin"]
    for reader in readers:
        headers = actors[reader].headers if reader else {}
        for path in paths:
            response = client.get(path, headers=headers)
            for secret in SECRETS:
                assert secret not in response.text, (reader, path)
    # and not in what was delivered or exported
    from sqlmodel import Session, select

    from ews.db import engine_for
    from ews.models import AlertVersion, Delivery, FeedEntry

    with Session(engine_for(settings.database_url)) as session:
        for row in [
            *session.exec(select(FeedEntry)),
            *session.exec(select(AlertVersion)),
            *session.exec(select(Delivery)),
        ]:
            dumped = str(row.model_dump())
            for secret in SECRETS:
                assert secret not in dumped
