"""Atom feeds of alerts, following the convention alert hubs read for CAP.

Each entry links its CAP message (``rel="alternate" type="application/cap+xml"``);
the ``.cap.atom`` flavour also embeds the CAP message as the entry content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from alerts.cap import CAP_MEDIA_TYPE, to_cap

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass
class AtomEntry:
    id: str
    title: str
    updated: str
    summary: str
    html_link: str
    cap_link: str
    author: str
    cap: dict | None = None  # the alert snapshot, to embed as CAP
    categories: list[str] = field(default_factory=list)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def atom_feed(
    feed_id: str, title: str, self_url: str, updated: str, entries: list[AtomEntry], sender: str
) -> bytes:
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(root, "id", feed_id)
    _sub(root, "title", title)
    _sub(root, "updated", updated)
    _sub(root, "link", rel="self", href=self_url, type="application/atom+xml")
    author = _sub(root, "author")
    _sub(author, "name", f"ews node {sender}")
    _sub(root, "generator", "ews")
    for entry in entries:
        element = _sub(root, "entry")
        _sub(element, "id", entry.id)
        _sub(element, "title", entry.title)
        _sub(element, "updated", entry.updated)
        writer = _sub(element, "author")
        _sub(writer, "name", entry.author)
        for term in entry.categories:
            _sub(element, "category", term=term)
        _sub(element, "link", rel="alternate", type=CAP_MEDIA_TYPE, href=entry.cap_link)
        _sub(element, "link", rel="related", type="text/html", href=entry.html_link)
        _sub(element, "summary", entry.summary)
        if entry.cap is not None:
            content = _sub(element, "content", type=CAP_MEDIA_TYPE)
            content.append(to_cap(entry.cap, sender))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
