"""Feeds and CAP 1.2: incremental JSON with ETag, scope, Atom, and CAP parsed strictly by cap-tools."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from cap_tools import Alert as CapAlert
from cap_tools import Category, MsgType, Scope, Severity
from sqlmodel import Session
from xsdata.exceptions import ParserError
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig

from ews.db import engine_for
from ews.services import feeds
from tests.ews.test_alerts import NEW_CATHINONE, NEW_NITAZENE, alerts, report

STRICT = XmlParser(
    config=ParserConfig(
        fail_on_unknown_properties=True, fail_on_unknown_attributes=True, fail_on_converter_warnings=True
    )
)
ATOM = "{http://www.w3.org/2005/Atom}"


def parse_cap(xml: bytes | str) -> CapAlert:
    return STRICT.from_bytes(xml if isinstance(xml, bytes) else xml.encode(), CapAlert)


def test_cap_of_a_published_alert_parses_strictly(client, actors, settings):
    report(client, actors["lab_co"], NEW_NITAZENE, "CAP-1", region="Antioquia")
    (alert,) = alerts(settings.database_url)
    response = client.get(f"/api/v1/alerts/{alert.id}.cap")
    message = parse_cap(response.content)
    assert message.sender == "test-node" and message.msg_type == MsgType.ALERT and message.scope == Scope.PUBLIC
    assert message.identifier.endswith(f"{alert.id}:1")
    assert message.sent.to_datetime().tzinfo is not None
    languages = [info.language for info in message.infos]
    assert languages == ["en", "es", "pt", "fr"]
    info = message.infos[1]
    assert info.categories == [Category.HEALTH] and info.severity == Severity.EXTREME
    assert info.headline.startswith("Nueva sustancia")
    parameters = {
        p.value_name.value if hasattr(p.value_name, "value") else p.value_name: p.value for p in info.parameters
    }
    names = {str(k): (v.value if hasattr(v, "value") else v) for k, v in parameters.items()}
    assert names["InChIKey"] == alert.inchikey and names["SMILES"] == alert.smiles
    area = info.areas[0]
    geocodes = {
        g.value_name.value if hasattr(g.value_name, "value") else g.value_name: g.value for g in area.geocodes
    }
    codes = {str(k): (v.value if hasattr(v, "value") else v) for k, v in geocodes.items()}
    assert codes["ISO 3166-1 alpha-2"] == "CO" and codes["ISO 3166-2"] == "CO-ANT"


def test_cap_update_and_cancel_reference_the_original(client, actors, settings):
    report(client, actors["lab_co"], NEW_CATHINONE, "CAP-2")
    (alert,) = alerts(settings.database_url)
    headers = actors["authority_co"].headers
    client.post(f"/api/v1/alerts/{alert.id}:publish", headers=headers)
    original = parse_cap(client.get(f"/api/v1/alerts/{alert.id}.cap").content)
    client.patch(f"/api/v1/alerts/{alert.id}", json={"scope": "Restricted"}, headers=headers)
    assert client.get(f"/api/v1/alerts/{alert.id}.cap").status_code == 404  # restricted: not for the public
    update = parse_cap(client.get(f"/api/v1/alerts/{alert.id}.cap", headers=headers).content)
    assert update.msg_type == MsgType.UPDATE and update.scope == Scope.RESTRICTED and update.restriction
    assert original.identifier in update.references and original.sender in update.references
    client.post(f"/api/v1/alerts/{alert.id}:cancel", headers=headers)
    cancel = parse_cap(client.get(f"/api/v1/alerts/{alert.id}.cap", headers=headers).content)
    assert cancel.msg_type == MsgType.CANCEL
    assert original.identifier in cancel.references and update.identifier in cancel.references


def test_the_strict_parser_catches_a_wrong_value_or_a_missing_element(client, actors, settings):
    report(client, actors["lab_co"], NEW_NITAZENE, "CAP-3")
    (alert,) = alerts(settings.database_url)
    xml = client.get(f"/api/v1/alerts/{alert.id}.cap").text
    parse_cap(xml)
    with pytest.raises((ParserError, ValueError, TypeError)):
        parse_cap(xml.replace("<severity>Extreme</severity>", "<severity>Catastrophic</severity>", 1))
    with pytest.raises((ParserError, ValueError, TypeError)):
        sent = xml[xml.index("<sent>") : xml.index("</sent>") + len("</sent>")]
        parse_cap(xml.replace(sent, ""))


def test_json_feed_is_incremental_with_etag(client, actors, settings):
    report(client, actors["lab_co"], NEW_NITAZENE, "FEED-1")
    first = client.get("/feeds/alerts.json")
    assert first.status_code == 200
    page = first.json()
    assert [i["kind"] for i in page["items"]] == ["alert"] and page["node"] == "test-node"
    assert page["items"][0]["origin_node"] == "test-node"
    assert client.get("/feeds/alerts.json", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    after = client.get("/feeds/alerts.json", params={"after": page["next"]}).json()
    assert after["items"] == [] and after["next"] == page["next"]
    report(client, actors["lab_co"], NEW_NITAZENE.replace("CCCCCO", "CCCCCCO"), "FEED-2")
    newer = client.get("/feeds/alerts.json", params={"after": page["next"]}).json()
    assert len(newer["items"]) == 1 and newer["items"][0]["id"] != page["items"][0]["id"]
    assert client.get("/feeds/alerts.json", params={"after": "garbage!"}).status_code == 422
    # a peer never gets its own records back
    assert client.get("/feeds/alerts.json", headers={"X-EWS-Node": "test-node"}).json()["items"] == []


def test_pages_are_bounded(client, actors):
    for i in range(5):
        report(client, actors["lab_co"], NEW_NITAZENE.replace("CCCCCO", "C" * (5 + i) + "O"), f"PAGE-{i}")
    seen, cursor = [], None
    while True:
        page = client.get("/feeds/alerts.json", params={"limit": 2} | ({"after": cursor} if cursor else {})).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 5


def test_restricted_alerts_only_for_authenticated_partners(client, actors, settings):
    report(client, actors["lab_co"], NEW_CATHINONE, "SCOPE-1")
    (alert,) = alerts(settings.database_url)
    client.patch(f"/api/v1/alerts/{alert.id}", json={"scope": "Restricted"}, headers=actors["admin"].headers)
    client.post(f"/api/v1/alerts/{alert.id}:publish", headers=actors["admin"].headers)
    assert client.get("/feeds/alerts.json").json()["items"] == []
    assert ATOM + "entry" not in client.get("/feeds/alerts.atom").text
    partner = client.get("/feeds/alerts.json", headers=actors["regional"].headers).json()
    assert [i["scope"] for i in partner["items"]] == ["Restricted"]
    assert client.get("/feeds/alerts.json", headers=actors["lab_mx"].headers).json()["items"] == []


def test_detections_feed_for_regional_partners_without_private_fields(client, actors):
    report(client, actors["lab_co"], NEW_NITAZENE, "DET-FEED-1")
    assert client.get("/feeds/detections.json").status_code == 401
    assert client.get("/feeds/detections.json", headers=actors["lab_co"].headers).status_code == 403
    response = client.get("/feeds/detections.json", headers=actors["regional"].headers)
    (item,) = response.json()["items"]
    assert item["data"]["sample"]["country"] == "CO" and item["data"]["components"][0]["verdict"] == "analog"
    assert "PRIVATE" not in response.text and "DET-FEED-1" not in response.text


def test_atom_feeds_link_and_carry_cap(client, actors, settings):
    report(client, actors["lab_co"], NEW_NITAZENE, "ATOM-1")
    report(client, actors["lab_co"], NEW_NITAZENE.replace("CCCCCO", "CCCCCCO"), "ATOM-2")
    feed = ET.fromstring(client.get("/feeds/alerts.atom").content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    for entry in entries:
        cap_links = [link for link in entry.findall(f"{ATOM}link") if link.get("type") == "application/cap+xml"]
        assert cap_links and cap_links[0].get("href").endswith(".cap")
        path = cap_links[0].get("href").replace("http://testserver", "")
        parse_cap(client.get(path).content)
    cap_feed = ET.fromstring(client.get("/feeds/alerts.cap.atom").content)
    for entry in cap_feed.findall(f"{ATOM}entry"):
        embedded = entry.find(f"{ATOM}content")[0]
        parse_cap(ET.tostring(embedded))


def test_the_cursor_never_skips_a_late_commit(pg_url):
    """Two writers: the one that wrote first commits last. Its entry comes after the cursor, not before it."""
    engine = engine_for(pg_url)
    early = Session(engine)
    feeds.record(early, "alert", "early", {"n": 1}, "node", "early")
    early.flush()  # transaction open, entry written (lower seq), not committed

    with Session(engine) as late:
        feeds.record(late, "alert", "late", {"n": 2}, "node", "late")
        late.commit()

    assert feeds.sequence_now(engine) == 1  # only the committed entry can be sequenced
    with Session(engine) as reader:
        page = feeds.read(reader, "alert", None, 10, include_restricted=True)
    assert [e.object_id for e in page.entries] == ["late"]
    cursor = page.cursor

    early.commit()
    early.close()
    feeds.sequence_now(engine)
    with Session(engine) as reader:
        page = feeds.read(reader, "alert", cursor, 10, include_restricted=True)
    assert [e.object_id for e in page.entries] == ["early"]  # a plain sequence cursor would have skipped it


def test_positions_follow_the_order_entries_become_visible(pg_url):
    engine = engine_for(pg_url)
    sessions = [Session(engine) for _ in range(4)]
    for number, session in enumerate(sessions):
        feeds.record(session, "alert", f"w{number}", {}, "node", f"w{number}")
        session.flush()
    seen: list[str] = []
    cursor = None
    for session in reversed(sessions):  # commit in the opposite order of writing, a reader polling between
        session.commit()
        session.close()
        feeds.sequence_now(engine)
        with Session(engine) as reader:
            page = feeds.read(reader, "alert", cursor, 10, include_restricted=True)
        seen += [e.object_id for e in page.entries]
        cursor = page.cursor
    assert seen == ["w3", "w2", "w1", "w0"]


def test_one_sequencer_at_a_time(pg_url):
    engine = engine_for(pg_url)
    with Session(engine) as writer:
        for number in range(3):
            feeds.record(writer, "alert", f"e{number}", {}, "node", f"e{number}")
        writer.commit()
    holder = Session(engine)
    assert feeds.sequence(holder) == 3  # holds the clock until it commits
    assert feeds.sequence_now(engine) == 0  # a second sequencer skips instead of waiting
    holder.commit()
    holder.close()
    with Session(engine) as reader:
        positions = [e.position for e in feeds.read(reader, "alert", None, 10, True).entries]
    assert positions == [1, 2, 3]
