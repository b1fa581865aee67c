"""Supply indicators per month and country, counted one way everywhere (docs/indicators.md).

Every figure is computed here from the detection tables, which on a regional
node also hold the detections imported from its peers (rows with an
``origin_node``): a regional node's indicators are the network's. The web
dashboard and ``GET /api/v1/indicators`` read the same functions.

A detection belongs to the month of its seizure (``seized_on``), or to the
month it reached this node when the lab gave no seizure date.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import and_, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, func

from chem.classes import CLASSES
from ews.auth import Principal
from ews.models import Alert, AlertDetection, Detection, DetectionComponent
from ews.problems import field_error, invalid
from ews.schemas import country_code

MAX_MONTHS = 120
"""The longest range one request may ask for: ten years of months."""
TOP = 10
"""How many adulterants, sold-as terms and main substances each row lists."""
INTEREST = ("controlled", "analog", "precursor", "no_match")
"""Verdicts of the substances the indicators follow; ``known`` ones are medicines, adulterants, diluents."""

# What samples are sold as, in the words people use, and the reference substances those words mean.
# A term that is neither here nor a name or synonym of a substance found in the sample is "unrecognised"
# and left out of the mismatch share (docs/indicators.md).
SOLD_AS_TERMS: dict[str, tuple[str, ...]] = {
    "heroin": ("heroin",),
    "heroína": ("heroin",),
    "heroina": ("heroin",),
    "cocaine": ("cocaine",),
    "cocaína": ("cocaine",),
    "cocaina": ("cocaine",),
    "crack": ("cocaine",),
    "basuco": ("cocaine",),
    "bazuco": ("cocaine",),
    "paco": ("cocaine",),
    "ecstasy": ("mdma",),
    "éxtasis": ("mdma",),
    "extasis": ("mdma",),
    "molly": ("mdma",),
    "mdma": ("mdma",),
    "methamphetamine": ("metamfetamine",),
    "metanfetamina": ("metamfetamine",),
    "crystal": ("metamfetamine",),
    "ice": ("metamfetamine",),
    "amphetamine": ("amfetamine", "dexamfetamine"),
    "anfetamina": ("amfetamine", "dexamfetamine"),
    "speed": ("amfetamine", "dexamfetamine"),
    "lsd": ("lysergide",),
    "acid": ("lysergide",),
    "ketamine": ("ketamine", "esketamine"),
    "ketamina": ("ketamine", "esketamine"),
    "fentanyl": ("fentanyl",),
    "fentanilo": ("fentanyl",),
    "oxycodone": ("oxycodone",),
    "alprazolam": ("alprazolam",),
    "xanax": ("alprazolam",),
    "2c-b": ("2c-b",),
    "ghb": ("ghb",),
    "dmt": ("dmt",),
}


@dataclass(frozen=True)
class Filters:
    """What an indicator request asks for; ``stated()`` is echoed in every export."""

    start: date  # first day of the first month
    end: date  # first day of the month after the last
    country: str | None = None
    drug_class: str | None = None

    @property
    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) < (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def stated(self) -> dict:
        last = self.months[-1] if self.months else None
        return {
            "from": self.start.strftime("%Y-%m"),
            "to": last,
            "country": self.country,
            "class": self.drug_class,
        }


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Months that can be counted: 0000-01 is no date, and a year earlier or the month after 9999-12 neither.
YEARS = range(1900, 3000)


def _month(value: str, name: str, errors: list) -> date | None:
    found = _MONTH.match(value.strip())
    if not found:
        errors.append(field_error(name, f"{value!r} is not a month; write YYYY-MM, e.g. 2026-03", "month"))
        return None
    if int(found.group(1)) not in YEARS:
        errors.append(
            field_error(name, f"{value!r} is out of range; months from {YEARS[0]}-01 to {YEARS[-1]}-12", "month")
        )
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def parse_filters(
    start: str | None, end: str | None, country: str | None, drug_class: str | None, today: date | None = None
) -> Filters:
    """Validated filters; a problem naming every bad field and what it accepts otherwise.

    Without ``from``/``to``: the twelve months up to and including this one.
    """
    errors: list[dict] = []
    today = today or datetime.now(UTC).date()
    last = _month(end, "to", errors) if end else date(today.year, today.month, 1)
    first = _month(start, "from", errors) if start else None
    code = None
    if country:
        try:
            code = country_code(country)
        except ValueError as error:
            errors.append(field_error("country", str(error), "country"))
    if drug_class is not None and drug_class not in CLASSES:
        errors.append(
            field_error(
                "class",
                f"{drug_class!r} is not a drug class; accepted: {', '.join(sorted(CLASSES))}",
                "class",
            )
        )
    if last is not None and first is None and not start:
        index = last.year * 12 + last.month - 1 - 11
        first = date(index // 12, index % 12 + 1, 1)
    if first and last:
        if first > last:
            errors.append(field_error("from", f"from ({first:%Y-%m}) is after to ({last:%Y-%m})", "range"))
        elif (last.year - first.year) * 12 + last.month - first.month + 1 > MAX_MONTHS:
            errors.append(field_error("from", f"at most {MAX_MONTHS} months per request", "range"))
    if errors:
        raise invalid(errors)
    assert first is not None and last is not None
    return Filters(start=first, end=_next_month(last), country=code, drug_class=drug_class)


# --- who sees what ------------------------------------------------------------------------------

PUBLIC_FIELDS = (
    "month",
    "country",
    "detections",
    "substances",
    "new_substances",
    "first_in_country",
    "sold_as_stated",
    "sold_as_recognised",
    "sold_as_differs",
    "sold_as_differs_share",
    "seizure_to_report_days",
    "report_to_alert_hours",
)


MIN_CELL = 3
"""A month-and-country cell with fewer detections shows the public only its counts, shares and times."""


def detail_countries(principal: Principal | None) -> set[str] | None:
    """Countries whose rows always carry the detail (sold-as terms, adulterants, purity); None: all.

    Everybody sees the counts, shares and times of every country: aggregates
    carry nothing private. The detail of a cell with fewer than ``MIN_CELL``
    detections could point at one seizure, so the public sees it only for
    larger cells; a country's labs and authority see their country's in full;
    regional nodes and administrators see everything.
    """
    if principal is None:
        return set()
    if principal.sees_everything:
        return None
    return {principal.country} if principal.country else set()


def shows_detail(detail: set[str] | None, country: str, detections: int) -> bool:
    return detail is None or country in detail or detections >= MIN_CELL


# --- reading the tables ------------------------------------------------------------------------


@dataclass
class Sample:
    id: str
    country: str
    event: date  # seizure date, or the day it reached this node
    seized_on: date | None
    reported_at: datetime
    sold_as: str | None
    origin_node: str | None
    components: list[Part] = field(default_factory=list)
    month: str = ""

    def __post_init__(self) -> None:
        self.month = f"{self.event.year:04d}-{self.event.month:02d}"


@dataclass
class Part:
    position: int
    inchikey: str
    verdict: str
    drug_class: str | None
    substance_id: str | None
    name: str
    purity: float | None
    role: str | None


def _has_role() -> bool:
    return "role" in DetectionComponent.model_fields


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _in_range(filters: Filters):
    start_at = datetime(filters.start.year, filters.start.month, 1, tzinfo=UTC)
    end_at = datetime(filters.end.year, filters.end.month, 1, tzinfo=UTC)
    return or_(
        and_(col(Detection.seized_on) >= filters.start, col(Detection.seized_on) < filters.end),
        and_(
            col(Detection.seized_on).is_(None),
            col(Detection.created_at) >= start_at,
            col(Detection.created_at) < end_at,
        ),
    )


def load_samples(db: Session, filters: Filters) -> list[Sample]:
    """The detections in the filters' months (and country) with their identified components."""
    query = select_columns(
        col(Detection.id),
        col(Detection.country),
        col(Detection.seized_on),
        col(Detection.created_at),
        col(Detection.sold_as),
        col(Detection.origin_node),
    ).where(_in_range(filters))
    if filters.country:
        query = query.where(col(Detection.country) == filters.country)
    samples: dict[str, Sample] = {}
    for id_, country, seized_on, created_at, sold_as, origin in db.connection().execute(query).all():
        reported = _aware(created_at)
        samples[id_] = Sample(id_, country, seized_on or reported.date(), seized_on, reported, sold_as, origin)
    if not samples:
        return []
    role = getattr(DetectionComponent, "role", None) if _has_role() else None
    columns: list = [
        col(DetectionComponent.detection_id),
        col(DetectionComponent.position),
        col(DetectionComponent.inchikey),
        col(DetectionComponent.verdict),
        col(DetectionComponent.drug_class),
        col(DetectionComponent.substance_id),
        col(DetectionComponent.substance_name),
        col(DetectionComponent.name),
        col(DetectionComponent.purity_percent),
    ]
    parts = select_columns(*columns, *([role] if role is not None else [])).join(
        Detection, col(Detection.id) == DetectionComponent.detection_id
    )
    parts = parts.where(_in_range(filters))
    if filters.country:
        parts = parts.where(col(Detection.country) == filters.country)
    for row in db.connection().execute(parts).all():
        detection_id, position, key, verdict, klass, substance_id, substance_name, name, purity = row[:9]
        sample = samples.get(detection_id)
        if sample is not None:
            sample.components.append(
                Part(
                    position,
                    key,
                    verdict,
                    klass,
                    substance_id,
                    substance_name or name or key,
                    purity,
                    row[9] if len(row) > 9 else None,
                )
            )
    for sample in samples.values():
        sample.components.sort(key=lambda p: p.position)
    return sorted(samples.values(), key=lambda s: (s.event, s.reported_at, s.id))


def roles_reported(sample: Sample) -> bool:
    """Whether the lab said what each component is (a role other than ``unknown`` on any of them)."""
    return any(p.role and p.role != "unknown" for p in sample.components)


def actives(sample: Sample) -> list[Part]:
    """The main active substances of a sample.

    With roles reported: the components with role ``active``. Otherwise
    inferred: the components whose verdict is not ``known``; when every
    component is a known substance (a ketamine sample, say), the one of
    highest purity (the first listed on a tie).
    """
    if roles_reported(sample):
        return [p for p in sample.components if p.role == "active"]
    found = [p for p in sample.components if p.verdict in INTEREST]
    if found or not sample.components:
        return found
    return [max(sample.components, key=lambda p: (p.purity or 0.0, -p.position))]


def adulterants(sample: Sample) -> list[Part]:
    """Components added to the main substance: role ``adulterant`` when roles are reported, otherwise
    the known substances that are not the main active."""
    if roles_reported(sample):
        return [p for p in sample.components if p.role == "adulterant"]
    main = {id(p) for p in actives(sample)}
    return [p for p in sample.components if p.verdict == "known" and id(p) not in main]


def _followed(sample: Sample, drug_class: str | None) -> list[Part]:
    """The substances of interest of a sample that the indicators count (of ``drug_class`` if set)."""
    return [
        p
        for p in sample.components
        if p.verdict in INTEREST and (drug_class is None or p.drug_class == drug_class)
    ]


def first_detections(db: Session, drug_class: str | None) -> tuple[dict[str, tuple], dict[tuple[str, str], tuple]]:
    """Each substance's first detection ever and first in each country, over every detection held.

    Order: event date, then the time it reached this node, then detection id.
    """
    query = (
        select_columns(
            col(DetectionComponent.inchikey),
            col(Detection.country),
            col(Detection.seized_on),
            col(Detection.created_at),
            col(Detection.id),
        )
        .join(Detection, col(Detection.id) == DetectionComponent.detection_id)
        .where(col(DetectionComponent.verdict).in_(INTEREST))
    )
    if drug_class:
        query = query.where(col(DetectionComponent.drug_class) == drug_class)
    ever: dict[str, tuple] = {}
    in_country: dict[tuple[str, str], tuple] = {}
    for key, country, seized_on, created_at, detection_id in db.connection().execute(query).all():
        reported = _aware(created_at)
        rank = (seized_on or reported.date(), reported, detection_id, country)
        if key not in ever or rank < ever[key]:
            ever[key] = rank
        if (key, country) not in in_country or rank < in_country[(key, country)]:
            in_country[(key, country)] = rank
    return ever, in_country


def first_alert_publication(db: Session, detection_ids: Iterable[str]) -> dict[str, datetime]:
    """For each detection, when the first published alert it fed was published.

    One grouped query over the alert links (far fewer rows than detections)."""
    wanted = set(detection_ids)
    rows = db.connection().execute(
        select_columns(col(AlertDetection.detection_id), func.min(col(Alert.published_at)))
        .join(Alert, col(Alert.id) == AlertDetection.alert_id)
        .where(col(Alert.published_at).is_not(None))
        .group_by(col(AlertDetection.detection_id))
    )
    return {
        detection_id: _aware(published_at)
        for detection_id, published_at in rows.all()
        if detection_id in wanted and published_at is not None
    }


# --- statistics --------------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between order statistics (numpy's default, Hyndman-Fan 7).

    >>> quantile([1, 2, 3, 4], 0.5), quantile([1, 2, 3, 4], 0.25), quantile([10], 0.9)
    (2.5, 1.75, 10.0)
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def _spread(values: Sequence[float], digits: int = 1) -> dict | None:
    if not values:
        return None
    return {
        "n": len(values),
        "median": round(statistics.median(values), digits),
        "p90": round(quantile(values, 0.9) or 0.0, digits),
    }


def _normal(term: str) -> str:
    return " ".join(term.casefold().split())


def sold_as_differs(sample: Sample, synonyms: dict[str, set[str]]) -> bool | None:
    """Whether a sample's content differs from what it was sold as; None when that cannot be said
    (nothing stated, or a term that names no known substance)."""
    if not sample.sold_as or not sample.sold_as.strip():
        return None
    term = _normal(sample.sold_as)
    meant = set(SOLD_AS_TERMS.get(term, ())) | synonyms.get(term, set())
    found_ids = {p.substance_id for p in sample.components if p.substance_id}
    found_names = {_normal(p.name) for p in sample.components}
    if not meant and term not in found_names:
        return None
    return not (meant & found_ids or term in found_names)


# --- the indicators ----------------------------------------------------------------------------


class _Answers:
    """Recent answers, kept while the tables they were read from have not changed.

    The key holds the filters, who asked (what detail they may see) and a
    version of the data (count and latest time of detections and of alert
    publications), so a new detection or publication is counted at once.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: dict[tuple, dict] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple) -> dict | None:
        with self.lock:
            return self.entries.get(key)

    def put(self, key: tuple, value: dict) -> None:
        with self.lock:
            if len(self.entries) >= self.size:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = value


ANSWERS = _Answers()


def data_version(db: Session) -> tuple:
    detections = (
        db.connection()
        .execute(select_columns(func.count(col(Detection.id)), func.max(col(Detection.created_at))))
        .one()
    )
    alerts = (
        db.connection()
        .execute(select_columns(func.count(col(Alert.published_at)), func.max(col(Alert.published_at))))
        .one()
    )
    components = db.connection().execute(select_columns(func.count(col(DetectionComponent.id)))).one()
    return (*detections, *alerts, *components)


def _cached(kind: str, db: Session, filters: Filters, principal: Principal | None, compute) -> dict:
    detail = detail_countries(principal)
    database = db.connection().engine.url.render_as_string(hide_password=True)
    key = (kind, database, filters, None if detail is None else tuple(sorted(detail)), data_version(db))
    found = ANSWERS.get(key)
    if found is None:
        found = compute()
        ANSWERS.put(key, found)
    return found  # shared between callers: read, never modified


def indicators(db: Session, filters: Filters, principal: Principal | None, synonyms: dict[str, set[str]]) -> dict:
    """Rows per month and country (see :func:`compute_indicators`), answered from a recent identical
    reading when nothing has changed since."""
    return _cached(
        "indicators", db, filters, principal, lambda: compute_indicators(db, filters, principal, synonyms)
    )


def dashboard(db: Session, filters: Filters, principal: Principal | None, synonyms: dict[str, set[str]]) -> dict:
    """The dashboard's charts (see :func:`compute_dashboard`), from a recent identical reading when
    nothing has changed since."""
    return _cached(
        "dashboard", db, filters, principal, lambda: compute_dashboard(db, filters, principal, synonyms)
    )


def compute_indicators(
    db: Session, filters: Filters, principal: Principal | None, synonyms: dict[str, set[str]]
) -> dict:
    """Rows per month and country (only pairs with at least one detection), with their definitions'
    inputs; see docs/indicators.md."""
    read_at = datetime.now(UTC)
    samples = [s for s in load_samples(db, filters) if not filters.drug_class or _followed(s, filters.drug_class)]
    ever, in_country = first_detections(db, filters.drug_class)
    published = first_alert_publication(db, (s.id for s in samples))
    detail = detail_countries(principal)
    cells: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        cells[(sample.month, sample.country)].append(sample)
    rows = []
    for (month, country), group in sorted(cells.items()):
        rows.append(_row(month, country, group, ever, in_country, published, synonyms, filters))
    for row in rows:
        if not shows_detail(detail, row["country"], row["detections"]):
            for key in list(row):
                if key not in PUBLIC_FIELDS:
                    row[key] = None
            row["detail"] = False
        else:
            row["detail"] = True
    return {
        "filters": filters.stated(),
        "read_at": read_at.isoformat(timespec="seconds"),
        "detail": {"countries": "all" if detail is None else sorted(detail), "min_cell": MIN_CELL},
        "definitions": "docs/indicators.md",
        "rows": rows,
    }


def _row(
    month: str,
    country: str,
    group: list[Sample],
    ever: dict[str, tuple],
    in_country: dict[tuple[str, str], tuple],
    published: dict[str, datetime],
    synonyms: dict[str, set[str]],
    filters: Filters,
) -> dict:
    ids = {s.id for s in group}
    keys = {p.inchikey for s in group for p in _followed(s, filters.drug_class)}
    new = sorted(k for k in keys if ever[k][2] in ids)
    new_here = sorted(k for k in keys if in_country[(k, country)][2] in ids)
    verdicts = [(s, sold_as_differs(s, synonyms)) for s in group]
    stated = [s for s in group if s.sold_as and s.sold_as.strip()]
    recognised = [(s, d) for s, d in verdicts if d is not None]
    differs = sum(1 for _, d in recognised if d)
    sold_terms: dict[str, Counter] = defaultdict(Counter)
    for s, d in verdicts:
        if s.sold_as and s.sold_as.strip():
            sold_terms[_normal(s.sold_as)]["samples"] += 1
            sold_terms[_normal(s.sold_as)]["differs"] += 1 if d else 0
    adulterant_counts: Counter = Counter()
    for s in group:
        for name in {p.name for p in adulterants(s)}:
            adulterant_counts[name] += 1
    purities: dict[str, list[float]] = defaultdict(list)
    for s in group:
        for p in actives(s):
            if p.purity is not None and (filters.drug_class is None or p.drug_class == filters.drug_class):
                purities[p.name].append(p.purity)
    to_report = [
        float((s.reported_at.date() - s.seized_on).days)
        for s in group
        if s.seized_on and s.reported_at.date() >= s.seized_on
    ]
    to_alert = [
        (published[s.id] - s.reported_at).total_seconds() / 3600
        for s in group
        if s.id in published and published[s.id] >= s.reported_at
    ]
    return {
        "month": month,
        "country": country,
        "detections": len(group),
        "imported": sum(1 for s in group if s.origin_node),
        "substances": len(keys),
        "new_substances": len(new),
        "first_in_country": len(new_here),
        "sold_as_stated": len(stated),
        "sold_as_recognised": len(recognised),
        "sold_as_differs": differs,
        "sold_as_differs_share": round(differs / len(recognised), 3) if recognised else None,
        "sold_as": [
            {"term": term, "samples": c["samples"], "differs": c["differs"]}
            for term, c in sorted(sold_terms.items(), key=lambda kv: (-kv[1]["samples"], kv[0]))[:TOP]
        ],
        "adulterants": [
            {"name": name, "samples": n, "share": round(n / len(group), 3)}
            for name, n in sorted(adulterant_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
        ],
        "purity": [
            {
                "substance": name,
                "n": len(values),
                "median": round(statistics.median(values), 1),
                "q1": round(quantile(values, 0.25) or 0.0, 1),
                "q3": round(quantile(values, 0.75) or 0.0, 1),
            }
            for name, values in sorted(purities.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP]
        ],
        "seizure_to_report_days": _spread(to_report),
        "report_to_alert_hours": _spread(to_alert),
    }


# --- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "month",
    "country",
    "detections",
    "imported",
    "substances",
    "new_substances",
    "first_in_country",
    "sold_as_stated",
    "sold_as_recognised",
    "sold_as_differs",
    "sold_as_differs_share",
    "seizure_to_report_days_median",
    "seizure_to_report_days_p90",
    "report_to_alert_hours_median",
    "report_to_alert_hours_p90",
    "sold_as",
    "adulterants",
    "purity",
)


def _flat(row: dict) -> dict:
    out = {k: row.get(k) for k in CSV_COLUMNS[:11]}
    for name in ("seizure_to_report_days", "report_to_alert_hours"):
        spread = row.get(name) or {}
        out[f"{name}_median"] = spread.get("median")
        out[f"{name}_p90"] = spread.get("p90")
    if row.get("detail"):
        out["sold_as"] = "; ".join(f"{t['term']}={t['samples']} ({t['differs']} differ)" for t in row["sold_as"])
        out["adulterants"] = "; ".join(f"{a['name']}={a['samples']}" for a in row["adulterants"])
        out["purity"] = "; ".join(
            f"{p['substance']}: n={p['n']} median={p['median']} q1={p['q1']} q3={p['q3']}" for p in row["purity"]
        )
    return out


def metadata_lines(report: dict) -> list[str]:
    """The comment lines that open every CSV export: filters, when the data was read, where defined."""
    stated = report["filters"]
    return [
        "# ews indicators",
        "# filters: " + ", ".join(f"{k}={'' if v is None else v}" for k, v in stated.items()),
        f"# read_at: {report['read_at']}",
        f"# definitions: {report['definitions']}",
    ]


def to_csv(report: dict) -> str:
    buffer = io.StringIO()
    buffer.write("\n".join(metadata_lines(report)) + "\n")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report["rows"]:
        writer.writerow(_flat(row))
    return buffer.getvalue()


def table_csv(report: dict, columns: Sequence[str], rows: Iterable[dict]) -> str:
    """A chart's data as CSV with the same metadata lines (used by the dashboard's downloads)."""
    buffer = io.StringIO()
    buffer.write("\n".join(metadata_lines(report)) + "\n")
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def library_synonyms(substances: Iterable) -> dict[str, set[str]]:
    """Reference substance ids by each of their names and synonyms, normalized."""
    index: dict[str, set[str]] = defaultdict(set)
    for substance in substances:
        for name in (substance.name, *substance.synonyms):
            index[_normal(name)].add(substance.id)
    return dict(index)


# --- the dashboard's charts ---------------------------------------------------------------------

CHARTS: dict[str, tuple[str, ...]] = {
    "by_class": ("month", "class", "detections"),
    "new_by_quarter": ("quarter", "new_substances"),
    "first_by_country": ("country", "first_in_country", "new_substances", "detections"),
    "delays": (
        "month",
        "seizure_to_report_days_median",
        "seizure_to_report_days_p90",
        "report_to_alert_hours_median",
        "report_to_alert_hours_p90",
    ),
    "sold_as": ("sold_as", "found", "samples"),
    "adulterants": ("adulterant", "samples", "share"),
}
"""Each chart of /dashboard and the columns of its CSV download."""


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def compute_dashboard(
    db: Session, filters: Filters, principal: Principal | None, synonyms: dict[str, set[str]]
) -> dict:
    """The data of every dashboard chart, counted as in :func:`indicators`."""
    read_at = datetime.now(UTC)
    samples = [s for s in load_samples(db, filters) if not filters.drug_class or _followed(s, filters.drug_class)]
    ever, in_country = first_detections(db, filters.drug_class)
    published = first_alert_publication(db, (s.id for s in samples))
    detail = detail_countries(principal)

    by_class: Counter = Counter()
    for s in samples:
        for klass in {p.drug_class or "unclassified" for p in _followed(s, filters.drug_class)}:
            by_class[(s.month, klass)] += 1

    def within(rank: tuple) -> bool:
        return filters.start <= rank[0] < filters.end

    quarters: Counter = Counter()
    for rank in ever.values():
        if within(rank) and (not filters.country or rank[3] == filters.country):
            quarters[_quarter(rank[0])] += 1
    all_quarters = sorted({_quarter(date.fromisoformat(m + "-01")) for m in filters.months})

    per_country: dict[str, Counter] = defaultdict(Counter)
    for (_, country), rank in in_country.items():
        if within(rank) and (not filters.country or country == filters.country):
            per_country[country]["first_in_country"] += 1
    for rank in ever.values():
        if within(rank) and (not filters.country or rank[3] == filters.country):
            per_country[rank[3]]["new_substances"] += 1
    for s in samples:
        per_country[s.country]["detections"] += 1

    months: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        months[s.month].append(s)
    delays = []
    for month in filters.months:
        group = months.get(month, [])
        report = (
            _spread(
                [
                    float((s.reported_at.date() - s.seized_on).days)
                    for s in group
                    if s.seized_on and s.reported_at.date() >= s.seized_on
                ]
            )
            or {}
        )
        alert = (
            _spread(
                [
                    (published[s.id] - s.reported_at).total_seconds() / 3600
                    for s in group
                    if s.id in published and published[s.id] >= s.reported_at
                ]
            )
            or {}
        )
        delays.append(
            {
                "month": month,
                "seizure_to_report_days_median": report.get("median"),
                "seizure_to_report_days_p90": report.get("p90"),
                "report_to_alert_hours_median": alert.get("median"),
                "report_to_alert_hours_p90": alert.get("p90"),
            }
        )

    cell_size = Counter((s.month, s.country) for s in samples)
    detailed = [s for s in samples if shows_detail(detail, s.country, cell_size[(s.month, s.country)])]
    sold: Counter = Counter()
    for s in detailed:
        if s.sold_as and s.sold_as.strip():
            found = ", ".join(sorted({p.name for p in actives(s)})) or "—"
            sold[(_normal(s.sold_as), found)] += 1
    mixed: Counter = Counter()
    for s in detailed:
        for name in {p.name for p in adulterants(s)}:
            mixed[name] += 1

    return {
        "filters": filters.stated(),
        "read_at": read_at.isoformat(timespec="seconds"),
        "detail": {"countries": "all" if detail is None else sorted(detail), "min_cell": MIN_CELL},
        "definitions": "docs/indicators.md",
        "charts": {
            "by_class": [{"month": m, "class": k, "detections": n} for (m, k), n in sorted(by_class.items())],
            "new_by_quarter": [{"quarter": q, "new_substances": quarters.get(q, 0)} for q in all_quarters],
            "first_by_country": [
                {
                    "country": c,
                    **{k: counts.get(k, 0) for k in ("first_in_country", "new_substances", "detections")},
                }
                for c, counts in sorted(per_country.items())
            ],
            "delays": delays,
            "sold_as": [
                {"sold_as": term, "found": found, "samples": n}
                for (term, found), n in sorted(sold.items(), key=lambda kv: (-kv[1], kv[0]))[:30]
            ],
            "adulterants": [
                {"adulterant": name, "samples": n, "share": round(n / len(detailed), 3)}
                for name, n in sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
            ],
        },
    }
