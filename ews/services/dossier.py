"""The dossier of a substance for expedited control: what an authority sends to its national
competent authority, WHO or UNODC, with the provenance of every figure.

The subject is a reference substance (its id) or a detected substance nobody has listed (its
InChIKey, or the first block of it). Figures are aggregates over the detections stored on this
node, its own and those imported from peers; nothing private to a laboratory appears.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from rdkit import Chem
from rdkit.Chem.Descriptors import MolWt  # type: ignore[attr-defined]
from sqlmodel import Session, col, select

from chem.depict import svg
from chem.library import Substance
from ews.db import utcnow
from ews.models import Alert, Detection, DetectionComponent, LinkCluster
from ews.problems import not_found
from ews.services.identify import Identifier
from ews.services.library import LibraryHolder

JURISDICTIONS = ("UN", "GB", "DE", "US")
"""Where the legal status is always asked; the countries with detections are added."""
MAX_ANALOGS = 4


@dataclass
class Subject:
    key: str  # first block of the InChIKey: what detections are grouped by
    smiles: str
    names: list[str]
    substance: Substance | None


def resolve(session: Session, library: LibraryHolder, identifier: str) -> Subject:
    """A reference substance by id, or a detected substance by InChIKey (or its first block)."""
    substance = library.get().by_id.get(identifier)
    if substance is not None and substance.standardized is not None:
        std = substance.standardized
        return Subject(std.skeleton_key, std.smiles, [substance.name, *substance.synonyms], substance)
    block = identifier.split("-")[0].upper()
    if len(block) == 14 and block.isalpha():
        components = session.exec(
            select(DetectionComponent)
            .where(DetectionComponent.skeleton_key == block)
            .order_by(col(DetectionComponent.id).desc())
            .limit(200)
        ).all()
        if components:
            names = Counter(str(c.name or c.substance_name) for c in components if c.name or c.substance_name)
            known = next((c.substance_id for c in components if c.substance_id), None)
            listed = library.get().by_id.get(known) if known else None
            return Subject(block, components[0].std_smiles, [n for n, _ in names.most_common(5)], listed)
    raise not_found("substance", identifier)


def _identity(subject: Subject, match: dict) -> dict:
    std = match.get("standardized", {})
    mol = Chem.MolFromSmiles(subject.smiles)
    return {
        "names": list(dict.fromkeys(n for n in subject.names if n)),
        "smiles": std.get("smiles") or subject.smiles,
        "inchi": std.get("inchi") or (Chem.MolToInchi(mol) if mol is not None else None),
        "inchikey": std.get("inchikey"),
        "formula": std.get("formula"),
        "exact_mass": std.get("exact_mass"),
        "molecular_weight": round(MolWt(mol), 2) if mol is not None else None,
        "drawing": _bare_svg(svg(subject.smiles, size=(320, 240))),
    }


_STYLE = re.compile(r"""\sstyle=(['"])([^'"]*)\1""")


def _attributes(match: re.Match) -> str:
    """``style='fill:none;stroke:#000'`` as presentation attributes: ``fill="none" stroke="#000"``."""
    pairs = []
    for declaration in match.group(2).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if re.fullmatch(r"[a-z-]+", name) and value and '"' not in value:
            pairs.append(f'{name}="{value.removesuffix("px") if name.endswith("width") else value}"')
    return (" " + " ".join(pairs)) if pairs else ""


def _bare_svg(drawing: str | None) -> str:
    """An SVG drawing to embed in HTML: without its XML declaration, and with presentation attributes
    instead of ``style`` attributes, which a Content Security Policy without 'unsafe-inline' refuses.

    >>> _bare_svg("<?xml version='1.0'?><svg><path style='fill:none;stroke-width:2.0px'/></svg>")
    '<svg><path fill="none" stroke-width="2.0"/></svg>'
    """
    if not drawing:
        return ""
    body = drawing.split("?>", 1)[1].strip() if drawing.startswith("<?xml") else drawing
    return _STYLE.sub(_attributes, body)


def _chemistry(subject: Subject, match: dict, library: LibraryHolder) -> dict:
    analogs: list[dict] = []
    for m in match.get("matches", []):
        if m["kind"] != "similarity" or len(analogs) >= MAX_ANALOGS:
            continue
        reference = library.get().by_id.get(m["substance"]["id"])
        shared = tuple(m.get("shared_atoms") or ())
        analogs.append(
            {
                "name": m["substance"]["name"],
                "id": m["substance"]["id"],
                "score": m.get("score"),
                "mcs_score": m.get("mcs_score"),
                "shared_atoms": len(shared),
                "smiles": reference.standardized.smiles if reference and reference.standardized else None,
                "drawing": _bare_svg(svg(match["standardized"]["smiles"], size=(220, 170), highlight=shared)),
                "reference_drawing": _bare_svg(
                    svg(reference.standardized.smiles, size=(220, 170))
                    if reference and reference.standardized
                    else None
                ),
            }
        )
    return {
        "verdict": match.get("verdict"),
        "class": match.get("class"),
        "families": [m["substance"]["name"] for m in match.get("matches", []) if m["kind"] == "family"],
        "analogs": analogs,
    }


def _legal(identifier: Identifier, subject: Subject, countries: list[str], as_of: date) -> tuple[list, list]:
    """Controls in force by jurisdiction (instrument, schedule, since) and the generic definitions that cover it."""
    rows: list[dict] = []
    generic: dict[str, dict] = {}
    listed = [c.jurisdiction for c in (subject.substance.controls if subject.substance else []) if c.jurisdiction]
    for jurisdiction in dict.fromkeys([*JURISDICTIONS, *countries, *listed]):
        result = identifier.identify(subject.smiles, "smiles", name=None, jurisdiction=jurisdiction, as_of=as_of)
        controls = result.get("controls", [])
        rows.append(
            {
                "jurisdiction": jurisdiction,
                "verdict": result.get("verdict"),
                "controls": [
                    {
                        "instrument": c.get("instrument"),
                        "schedule": c.get("schedule"),
                        "since": c.get("controlled_since"),
                        "basis": c.get("basis"),
                    }
                    for c in controls
                ],
            }
        )
        for m in result.get("matches", []):
            if m["kind"] == "generic":
                generic.setdefault(m["substance"]["name"], {"name": m["substance"]["name"], "jurisdictions": []})
                generic[m["substance"]["name"]]["jurisdictions"].append(jurisdiction)
    return rows, list(generic.values())


def _detections(session: Session, key: str) -> list[tuple[Detection, DetectionComponent]]:
    return list(
        session.exec(
            select(Detection, DetectionComponent)
            .join(DetectionComponent, col(DetectionComponent.detection_id) == Detection.id)
            .where(DetectionComponent.skeleton_key == key)
            .order_by(col(Detection.seized_on), col(Detection.created_at))
        ).all()
    )


def _day(detection: Detection) -> date:
    return detection.seized_on or detection.created_at.date()


def _months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (YYYY-MM), both included.

    >>> _months_between("2025-11", "2026-02")
    ['2025-11', '2025-12', '2026-01', '2026-02']
    """
    if not first or not last:
        return []
    year, month = int(first[:4]), int(first[5:7])
    months: list[str] = []
    while f"{year:04d}-{month:02d}" <= last and len(months) < 600:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _occurrence(session: Session, rows: list[tuple[Detection, DetectionComponent]], key: str) -> dict:
    detections = list({d.id: d for d, _ in rows}.values())
    by_month: dict[str, Counter] = {}
    for d in detections:
        by_month.setdefault(_day(d).strftime("%Y-%m"), Counter())[d.country] += 1
    for month in _months_between(min(by_month, default=""), max(by_month, default="")):
        by_month.setdefault(month, Counter())  # a month without detections is a figure too
    countries = sorted({d.country for d in detections})
    first: dict[str, Detection] = {}
    for d in sorted(detections, key=lambda d: (_day(d), d.created_at)):
        first.setdefault(d.country, d)
    ids = [d.id for d in detections]
    co: Counter[str] = Counter()
    if ids:
        for c in session.exec(
            select(DetectionComponent).where(
                col(DetectionComponent.detection_id).in_(ids), DetectionComponent.skeleton_key != key
            )
        ).all():
            co[c.substance_name or c.name or c.formula] += 1
    origins = Counter(d.origin_node or "" for d in detections)
    return {
        "total": len(detections),
        "countries": countries,
        "months": [
            {"month": month, "by_country": dict(counts), "total": sum(counts.values())}
            for month, counts in sorted(by_month.items())
        ],
        "first": [
            {
                "country": d.country,
                "region": d.region,
                "date": _day(d).isoformat(),
                "origin_node": d.origin_node,
            }
            for d in sorted(first.values(), key=lambda d: _day(d))
        ],
        "forms": Counter(d.form or "?" for d in detections).most_common(),
        "sold_as": Counter(d.sold_as for d in detections if d.sold_as).most_common(10),
        "co_occurring": co.most_common(10),
        "origins": sorted(origins.items()),
    }


def chart_svg(months: list[dict], countries: list[str], width: int = 640, height: int = 220) -> str:
    """Detections per month, stacked by country: an SVG drawn here so a PDF carries it as it is."""
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    if not months:
        return ""
    left, bottom, top = 40, 30, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(m["total"] for m in months) or 1
    bar = plot_w / len(months)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 8}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for i, month in enumerate(months):
        y = top + plot_h
        for j, country in enumerate(countries):
            count = month["by_country"].get(country, 0)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(
                f'<rect x="{left + i * bar + 2:.1f}" y="{y:.1f}" width="{max(bar - 4, 1):.1f}" height="{h:.1f}" '
                f'fill="{palette[j % len(palette)]}"><title>{country} {month["month"]}: {count}</title></rect>'
            )
        parts.append(
            f'<text x="{left + i * bar + bar / 2:.1f}" y="{height - 12}" font-size="9" '
            f'text-anchor="middle">{month["month"]}</text>'
        )
    for j, country in enumerate(countries):
        parts.append(
            f'<rect x="{left + 8 + j * 48}" y="{top}" width="10" height="10" fill="{palette[j % len(palette)]}"/>'
            f'<text x="{left + 22 + j * 48}" y="{top + 9}" font-size="10">{country}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _clusters(session: Session, key: str) -> list[dict]:
    rows = session.exec(
        select(LinkCluster).where(LinkCluster.substance_key == key).order_by(col(LinkCluster.first_seen))
    ).all()
    return [
        {
            "id": c.id,
            "size": c.size,
            "countries": c.countries,
            "first_seen": c.first_seen.isoformat() if c.first_seen else None,
            "last_seen": c.last_seen.isoformat() if c.last_seen else None,
        }
        for c in rows
    ]


def _alerts(session: Session, key: str) -> list[dict]:
    rows = session.exec(
        select(Alert)
        .where(Alert.substance_key == key, col(Alert.status).in_(("published", "cancelled")))
        .order_by(col(Alert.published_at))
    ).all()
    return [
        {
            "id": a.id,
            "rule": a.rule,
            "severity": a.severity,
            "status": a.status,
            "headline": a.headline,
            "texts": a.texts,
            "countries": a.countries,
            "published_at": a.published_at.date().isoformat() if a.published_at else None,
            "origin_node": a.origin_node,
        }
        for a in rows
    ]


def build(
    session: Session, library: LibraryHolder, identifier: Identifier, node_id: str, substance_id: str
) -> dict:
    """Every section of the dossier as plain data (the HTML and PDF render it)."""
    read_at: datetime = utcnow()
    subject = resolve(session, library, substance_id)
    as_of = read_at.date()
    match = identifier.identify(subject.smiles, "smiles", name=None, jurisdiction="UN", as_of=as_of)
    rows = _detections(session, subject.key)
    occurrence = _occurrence(session, rows, subject.key)
    legal, generic = _legal(identifier, subject, occurrence["countries"], as_of)
    nodes = [origin or node_id for origin, _ in occurrence["origins"]]
    return {
        "id": substance_id,
        "node_id": node_id,
        "read_at": read_at.isoformat(timespec="seconds"),
        "identity": _identity(subject, match),
        "chemistry": _chemistry(subject, match, library),
        "legal": legal,
        "generic": generic,
        "occurrence": occurrence,
        "chart": chart_svg(occurrence["months"], occurrence["countries"]),
        "clusters": _clusters(session, subject.key),
        "alerts": _alerts(session, subject.key),
        "provenance": {
            "node": node_id,
            "read_at": read_at.isoformat(timespec="seconds"),
            "detections_from": sorted(set(nodes)),
            "library_version": library.version,
            "listing_sources": sorted(
                {c.citation for c in (subject.substance.controls if subject.substance else []) if c.citation}
            ),
            "as_of": as_of.isoformat(),
        },
    }
