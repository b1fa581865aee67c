"""OASIS Common Alerting Protocol 1.2 messages from alert versions.

One ``<info>`` block per language the alert has text in, category Health,
parameters carrying the InChIKey and SMILES, areas with ISO 3166 geocodes.
Element order follows the CAP 1.2 schema (it is an ``xs:sequence``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pycountry

from alerts.texts import LANGUAGES, country_name

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
_FORBIDDEN = re.compile(r"[\s,<&]")


def cap_datetime(value: str | datetime | None) -> str:
    """CAP's dateTime form: 2026-11-27T22:50:04-00:00 (no fractions, explicit offset; UTC as -00:00)."""
    if value is None:
        stamp = datetime.now(UTC)
    elif isinstance(value, str):
        stamp = datetime.fromisoformat(value)
    else:
        stamp = value
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def cap_token(value: str) -> str:
    """identifier and sender may not contain spaces, commas or restricted characters."""
    return _FORBIDDEN.sub("_", value) or "ews"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    holder = _sub(parent, tag)
    _sub(holder, "valueName", name)
    _sub(holder, "value", value)


def _region_code(country: str, region: str | None) -> str | None:
    """The ISO 3166-2 code of a region given by name or code, when pycountry knows it."""
    if not region:
        return None
    candidate = region.strip()
    if pycountry.subdivisions.get(code=candidate.upper()) is not None:
        return candidate.upper()
    for subdivision in pycountry.subdivisions.get(country_code=country) or []:
        if subdivision.name.casefold() == candidate.casefold():
            return subdivision.code
    return None


def to_cap(alert: dict, sender: str) -> ET.Element:
    """The CAP ``<alert>`` element of one published alert version (its snapshot)."""
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(
        root,
        "identifier",
        cap_token(alert.get("identifier") or f"urn:ews:{sender}:alert:{alert['id']}:{alert['version']}"),
    )
    _sub(root, "sender", cap_token(sender))
    _sub(root, "sent", cap_datetime(alert.get("sent_at")))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", alert.get("msg_type") or "Alert")
    _sub(root, "source", "ews early-warning system for new psychoactive substances")
    scope = alert.get("scope") or "Public"
    _sub(root, "scope", scope)
    if scope == "Restricted":
        _sub(root, "restriction", "Drug observatories, health and law-enforcement authorities of the ews network")
    if alert.get("references"):
        _sub(root, "references", " ".join(_reference(r) for r in alert["references"]))
    texts = alert.get("texts") or {}
    languages = [lang for lang in LANGUAGES if lang in texts] or ["en"]
    for language in languages:
        _info(root, alert, language, texts.get(language) or {}, sender)
    return root


def _reference(reference: str) -> str:
    """sender,identifier,sent with CAP's dateTime form."""
    parts = reference.split(",")
    if len(parts) == 3:
        return f"{cap_token(parts[0])},{cap_token(parts[1])},{cap_datetime(parts[2])}"
    return cap_token(reference)


def _info(root: ET.Element, alert: dict, language: str, text: dict, sender: str) -> None:
    info = _sub(root, "info")
    _sub(info, "language", language)
    _sub(info, "category", "Health")
    _sub(info, "event", text.get("event") or alert.get("event") or "New psychoactive substance")
    _sub(info, "responseType", "Monitor")
    _sub(info, "urgency", alert.get("urgency") or "Unknown")
    _sub(info, "severity", alert.get("severity") or "Unknown")
    _sub(info, "certainty", alert.get("certainty") or "Unknown")
    _sub(info, "audience", "health services, harm-reduction services, forensic laboratories, drug observatories")
    _pair(info, "eventCode", "ews:rule", alert.get("rule") or "unknown")
    if alert.get("published_at"):
        _sub(info, "effective", cap_datetime(alert["published_at"]))
    _sub(info, "senderName", f"ews node {sender}")
    _sub(info, "headline", (text.get("headline") or alert.get("headline") or "")[:160])
    _sub(info, "description", text.get("description") or alert.get("description") or "")
    if text.get("instruction") or alert.get("instruction"):
        _sub(info, "instruction", text.get("instruction") or alert.get("instruction"))
    if (alert.get("links") or {}).get("web"):
        _sub(info, "web", alert["links"]["web"])
    substance = alert.get("substance") or {}
    for name, value in (
        ("InChIKey", substance.get("inchikey")),
        ("SMILES", substance.get("smiles")),
        ("substanceName", substance.get("name")),
        ("molecularFormula", substance.get("formula")),
        ("drugClass", substance.get("class")),
        ("verdict", substance.get("verdict")),
        ("detectionCount", str(alert.get("detection_count") or 0)),
        ("firstSeen", alert.get("first_seen")),  # the earliest seizure date, not the first report
    ):
        if value:
            _pair(info, "parameter", name, value)
    for country in alert.get("countries") or []:
        area = _sub(info, "area")
        regions = [
            r.get("region") for r in alert.get("regions") or [] if r.get("country") == country and r.get("region")
        ]
        place = country_name(country, language)
        _sub(area, "areaDesc", f"{place}: {', '.join(regions)}" if regions else place)
        _pair(area, "geocode", "ISO 3166-1 alpha-2", country)
        for region in regions:
            code = _region_code(country, region)
            if code:
                _pair(area, "geocode", "ISO 3166-2", code)


def to_cap_xml(alert: dict, sender: str) -> bytes:
    ET.register_namespace("", CAP_NS)
    return ET.tostring(to_cap(alert, sender), encoding="utf-8", xml_declaration=True)
