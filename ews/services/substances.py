"""What the node knows about one reference substance: its detections, first detections, alerts, analogs.

Read by the substance pages and ``GET /api/v1/substances/{id}/monthly``; the
library search is the one behind ``GET /api/v1/substances``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime

from rdkit import Chem
from sqlalchemy import or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, func, select

from chem.errors import StructureError
from chem.library import ReferenceLibrary, Substance
from ews.auth import Principal
from ews.models import Alert, Detection, DetectionComponent
from ews.services.identify import Identifier

INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
STRUCTURE_HINT = re.compile(r"[=#()\[\]@\\/]|^InChI=|[a-z]\d|\d[a-z]|^[BCNOSPFIcnos]{2,}")
MAX_RESULTS = 100


def search(
    library: ReferenceLibrary, query: str, limit: int = MAX_RESULTS
) -> list[tuple[Substance, float | None]]:
    """Reference substances for a name, synonym, InChIKey, or a pasted SMILES or InChI.

    Names and synonyms match as case-insensitive substrings (exact names first);
    an InChIKey matches exactly (or on its first block, the skeleton); a
    structure gives the identical substance and then the most similar ones.
    """
    from ews.api.reference import _by_structure  # the structure search of GET /api/v1/substances

    text = query.strip()
    if not text:
        return [(s, None) for s in sorted(library.substances, key=lambda s: s.name.casefold())[:limit]]
    if INCHIKEY.match(text.upper()):
        key = text.upper()
        hits = list(library.by_inchikey.get(key, []))
        hits += [
            s
            for s in library.substances
            if s.standardized and s.standardized.inchikey[:14] == key[:14] and s not in hits
        ]
        return [(s, None) for s in hits[:limit]]
    needle = text.casefold()
    by_name = [
        s
        for s in library.substances
        if needle in s.name.casefold() or any(needle in n.casefold() for n in s.synonyms)
    ]
    if by_name or " " in text or not STRUCTURE_HINT.search(text):
        by_name.sort(key=lambda s: (s.name.casefold() != needle, s.name.casefold()))
        return [(s, None) for s in by_name[:limit]]
    try:
        identical = _by_structure(library, text, "exact", 1.0)
        similar = _by_structure(library, text, "similarity", 0.45)
    except Exception:  # noqa: BLE001 - a problem (unreadable structure) means: no hits, said on the page
        return []
    seen = {s.id for s, _ in identical}
    return (identical + [(s, score) for s, score in similar if s.id not in seen])[:limit]


def is_structure_error(library: ReferenceLibrary, query: str) -> str | None:
    """Why a structure-like query could not be read, for the page to say; None when it was fine."""
    from chem.read import read_structure

    text = query.strip()
    if not text or " " in text or INCHIKEY.match(text.upper()) or not STRUCTURE_HINT.search(text):
        return None
    try:
        read_structure(text)
    except StructureError as error:
        return str(error)
    return None


def detection_counts(db: Session, substances: list[Substance]) -> dict[str, int]:
    """Detections holding each substance (by reference id or by InChIKey)."""
    if not substances:
        return {}
    ids = [s.id for s in substances]
    keys = {s.standardized.inchikey: s.id for s in substances if s.standardized}
    counts: Counter = Counter()
    by_id = db.exec(
        select(DetectionComponent.substance_id, func.count(func.distinct(DetectionComponent.detection_id)))
        .where(col(DetectionComponent.substance_id).in_(ids))
        .group_by(col(DetectionComponent.substance_id))
    )
    for substance_id, n in by_id:
        counts[substance_id] += n
    by_key = db.exec(
        select(DetectionComponent.inchikey, func.count(func.distinct(DetectionComponent.detection_id)))
        .where(col(DetectionComponent.inchikey).in_(list(keys)), col(DetectionComponent.substance_id).is_(None))
        .group_by(col(DetectionComponent.inchikey))
    )
    for key, n in by_key:
        counts[keys[key]] += n
    return dict(counts)


def _holding(substance: Substance):
    conditions = [col(DetectionComponent.substance_id) == substance.id]
    if substance.standardized:
        conditions.append(col(DetectionComponent.inchikey) == substance.standardized.inchikey)
    return or_(*conditions)


@dataclass
class Sighting:
    detection_id: str
    country: str
    region: str | None
    event: date
    seized_on: date | None
    reported_at: datetime
    origin_node: str | None


def sightings(db: Session, substance: Substance) -> list[Sighting]:
    """Every detection holding ``substance``, in order of seizure (or report) date."""
    rows = db.execute(
        select_columns(
            col(Detection.id),
            col(Detection.country),
            col(Detection.region),
            col(Detection.seized_on),
            col(Detection.created_at),
            col(Detection.origin_node),
        )
        .join(DetectionComponent, col(DetectionComponent.detection_id) == Detection.id)
        .where(_holding(substance))
        .distinct()
    )
    out = []
    for id_, country, region, seized_on, created_at, origin in rows:
        reported = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        out.append(Sighting(id_, country, region, seized_on or reported.date(), seized_on, reported, origin))
    out.sort(key=lambda s: (s.event, s.reported_at, s.detection_id))
    return out


def monthly(found: list[Sighting]) -> list[dict]:
    counts = Counter((s.event.strftime("%Y-%m"), s.country) for s in found)
    return [{"month": m, "country": c, "detections": n} for (m, c), n in sorted(counts.items())]


def first_by_country(found: list[Sighting], principal: Principal | None) -> list[dict]:
    """The first detection in each country: its month for everyone; the day, region and detection for
    those who may read that country's detections."""
    firsts: dict[str, Sighting] = {}
    totals: Counter = Counter()
    for s in found:
        firsts.setdefault(s.country, s)
        totals[s.country] += 1
    out = []
    for country, s in sorted(firsts.items(), key=lambda kv: kv[1].event):
        item: dict = {"country": country, "month": s.event.strftime("%Y-%m"), "detections": totals[country]}
        if principal is not None and (principal.sees_everything or principal.country == country):
            item.update({"date": s.event.isoformat(), "region": s.region, "detection_id": s.detection_id})
        out.append(item)
    return out


def alerts_about(db: Session, substance: Substance, principal: Principal | None) -> list[Alert]:
    """Published public alerts about the substance (reviewers see their drafts on the review queue)."""
    keys = [substance.standardized.inchikey] if substance.standardized else []
    query = select(Alert).where(
        or_(col(Alert.substance_id) == substance.id, col(Alert.substance_key).in_(keys)),
        col(Alert.status).in_(("published", "cancelled")),
    )
    if principal is None:
        query = query.where(Alert.scope == "Public")
    return list(db.exec(query.order_by(col(Alert.published_at).desc()).limit(10)))


def nearest_controlled(identifier: Identifier, substance: Substance, limit: int = 5) -> list[dict]:
    """The controlled substances most similar to this one, with the atoms (of this substance's
    standardized SMILES) that the maximum common substructure shares."""
    if substance.standardized is None:
        return []
    result = identifier.identify(substance.standardized.smiles, "smiles", name=None, jurisdiction="UN")
    if "error" in result:
        return []
    library = identifier.holder.get()
    out = []
    for match in result["matches"]:
        other = library.by_id.get(match["substance"]["id"])
        if match["kind"] != "similarity" or other is None or other.id == substance.id:
            continue
        out.append(
            {
                "substance": other,
                "score": match["score"],
                "shared_atoms": tuple(match.get("shared_atoms") or ()),
            }
        )
    return out[:limit]


def inchi_of(substance: Substance) -> str | None:
    if substance.standardized is None:
        return None
    return substance.standardized.inchi or Chem.MolToInchi(substance.standardized.mol)
