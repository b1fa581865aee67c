"""Linked seizures: profile links computed when a detection is stored, clusters kept current.

A new detection is scored (chem.profiles) against the most recent detections
that share one of its main substances, a bounded set; links at or above the
threshold are stored once per pair, so reading them is one indexed query.
Linked detections form clusters (connected components): one supply seen over
time and across countries. Imported detections of peer nodes run through the
same listener, so links cross the federation on the shared fields only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Select, Text, bindparam, case, cast, func, or_, union_all, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from alerts.rules import ClusterFacts, linked_cluster
from alerts.texts import all_texts
from chem import profiles
from chem.profiles import Appearance, Component, Profile
from ews.auth import Principal
from ews.db import utcnow
from ews.models import ClusterMember, Detection, DetectionComponent, DetectionLink, LinkCluster
from ews.services.alerting import Alerting
from ews.services.detections import sample_view, visible

MAX_CANDIDATES = 500
"""Most recent detections sharing a main substance that a new one is compared with."""
METHOD = f"{profiles.PRETREATMENT}+{profiles.METRIC}@{profiles.LINK_THRESHOLD}"


class ProfileComponent(Protocol):
    """What linking reads of a component (a DetectionComponent, or a row of just these columns)."""

    skeleton_key: str
    role: str | None
    verdict: str
    purity_percent: float | None
    amount_mg: float | None
    enantiomer_ratio: float | None


PROFILE_COLUMNS = [
    col(DetectionComponent.detection_id),
    col(DetectionComponent.skeleton_key),
    col(DetectionComponent.role),
    col(DetectionComponent.verdict),
    col(DetectionComponent.purity_percent),
    col(DetectionComponent.amount_mg),
    col(DetectionComponent.enantiomer_ratio),
]


def is_main(component: ProfileComponent) -> bool:
    """The drug of the seizure: reported as active, or (no role given) anything but a known cutting agent."""
    if component.role:
        return component.role == "active"
    return component.verdict != "known"


def profile_of(detection: Detection, components: Iterable[ProfileComponent]) -> Profile:
    return _profile(detection.appearance, components)


def _profile(appearance: dict | None, components: Iterable[ProfileComponent]) -> Profile:
    appearance = appearance or {}
    mass = appearance.get("mass_mg")
    items = []
    for c in components:
        role = c.role or ("active" if is_main(c) else "adulterant")
        amount = profiles.amount_percent(c.purity_percent, c.amount_mg, mass)
        items.append(Component(c.skeleton_key, role, amount, c.enantiomer_ratio))
    return Profile(
        tuple(items),
        Appearance(
            colour=appearance.get("colour"),
            logo=appearance.get("logo"),
            shape=appearance.get("shape"),
            mass_mg=mass,
            diameter_mm=appearance.get("diameter_mm"),
        ),
    )


def _most_features(appearance: dict | None, components: list[Any]) -> int:
    """At least the ``features`` of the profile these make, counted without making it: every
    component but one main (active) one, and the physical traits reported."""
    traits = sum(1 for k in PHYSICAL_TRAITS if appearance and appearance.get(k))
    return len(components) - 1 + traits


PHYSICAL_TRAITS = ("colour", "logo", "shape", "mass_mg", "diameter_mm")
"""The traits chem.profiles.Profile.features counts (packaging is not one)."""


def _components_by_detection(session: Session, ids: list[str]) -> dict[str, list[DetectionComponent]]:
    result: dict[str, list[DetectionComponent]] = {i: [] for i in ids}
    if ids:
        for component in session.exec(
            select(DetectionComponent)
            .where(col(DetectionComponent.detection_id).in_(ids))
            .order_by(col(DetectionComponent.position))
        ).all():
            result[component.detection_id].append(component)
    return result


def _names(components: Iterable[DetectionComponent]) -> dict[str, str]:
    return {c.skeleton_key: c.substance_name or c.name or c.formula for c in components}


def candidates(session: Session, detection: Detection, keys: set[str]) -> list[tuple[str, Profile]]:
    """The most recent other detections with one of these substances as a main component whose profile
    has the features a link needs: (id, profile), newest first.

    Per substance, the newest ids are read off ``ix_component_main_recent`` in order and the scan
    stops after MAX_CANDIDATES: the cost does not grow with the substance's history. That index holds
    each row's ``profile_stamp``, so the first query reads no table row at all; the profiles are kept
    per process under their stamp (see :func:`_profiles_of`), and only the candidates this process has
    not made a profile of, or whose stamp changed since, are read: usually the few stored since the
    last detection of the substance."""
    parameters: dict[str, Any] = {f"key_{i}": key for i, key in enumerate(sorted(keys))}
    parameters["detection_id"] = detection.id
    connection = session.connection()
    # plain (id, stamp) tuples: 500 rows a detection, no column with a result type to convert
    recent = connection.execute(_candidates_statement(len(keys)), parameters).all()
    made: dict[str, Profile | None] = {}
    missing: list[str] = []
    kept = _profiles.get  # a read needs no lock: the dict is only changed under it, and entries are immutable
    for detection_id, stamp in recent:
        cached = kept(detection_id)
        if cached is not None and cached[0] == stamp:
            made[detection_id] = cached[1]
        else:
            missing.append(detection_id)
    if missing:
        made.update(_profiles_of(connection, missing))
    return [
        (detection_id, profile) for detection_id, _ in recent if (profile := made.get(detection_id)) is not None
    ]


def _profiles_of(connection: Any, ids: list[str]) -> dict[str, Profile | None]:
    """Make the profiles of these detections from their rows, and keep them under the stamp read with
    the rows (one snapshot: a stamp never names other rows than the ones its profile was made of).

    None for a detection that cannot make the features a link needs (a third of all candidates), left
    unmade; a detection whose rows are gone is left out."""
    rows_of: dict[str, list[Any]] = {}
    for row in connection.execute(_profile_rows_statement(), {"ids": ids}):
        rows_of.setdefault(row.id, []).append(row)
    made: dict[str, Profile | None] = {}
    for detection_id, rows in rows_of.items():
        traits = json.loads(rows[0].appearance) if rows[0].appearance else None
        made[detection_id] = (
            _profile(traits, rows) if _most_features(traits, rows) >= profiles.MIN_FEATURES else None
        )
    with _profiles_lock:
        for detection_id, profile in made.items():
            _profiles.pop(detection_id, None)  # made anew: kept as the newest
            _profiles[detection_id] = (rows_of[detection_id][0].stamp, profile)
        while len(_profiles) > PROFILE_CACHE_SIZE:  # the oldest made first: candidates are the newest detections
            del _profiles[next(iter(_profiles))]
    return made


@lru_cache(maxsize=16)
def _candidates_statement(key_count: int) -> Select:
    """The candidates query for ``key_count`` substances, built once per process (its values are bound
    parameters ``key_0``..., ``detection_id``): ids and profile stamps, newest first."""
    component = DetectionComponent
    created, detection_id = col(component.detection_created_at), col(component.detection_id)
    stamp = col(component.profile_stamp)
    per_key: list[Any] = [
        # grouped, not DISTINCT: grouping by the index's order needs no sort, so the scan stops at the limit
        sa_select(detection_id.label("id"), func.max(stamp).label("stamp"), created.label("created_at"))
        .where(
            col(component.skeleton_key) == bindparam(f"key_{i}"),
            or_(col(component.role) == "active", col(component.role).is_(None)),
            detection_id != bindparam("detection_id"),
        )
        .group_by(created, detection_id)
        .order_by(created.desc(), detection_id.desc())
        .limit(MAX_CANDIDATES)
        for i in range(key_count)
    ]
    if len(per_key) == 1:
        return per_key[0].with_only_columns(detection_id.label("id"), func.max(stamp).label("stamp"))
    # a detection with two of the substances comes up once per substance (with one stamp: every row of a
    # detection is given the same one, in one statement)
    either = union_all(*(key.subquery().select() for key in per_key)).subquery()
    return (
        sa_select(either.c.id, either.c.stamp)
        .group_by(either.c.created_at, either.c.id, either.c.stamp)
        .order_by(either.c.created_at.desc(), either.c.id.desc())
        .limit(MAX_CANDIDATES)
    )


@lru_cache(maxsize=1)
def _profile_rows_statement() -> Select:
    """The rows profiles are made of, for detections given as the bound list ``ids``: each component's
    profile columns with its stamp, and the appearance as its JSON text (decoded once per detection)."""
    return (
        sa_select(
            col(DetectionComponent.detection_id).label("id"),
            col(DetectionComponent.profile_stamp).label("stamp"),
            cast(col(Detection.appearance), Text).label("appearance"),
            *PROFILE_COLUMNS[1:],
        )
        .join(Detection, col(Detection.id) == DetectionComponent.detection_id)
        .where(col(DetectionComponent.detection_id).in_(bindparam("ids", expanding=True)))
        .order_by(col(DetectionComponent.detection_id), col(DetectionComponent.position))
    )


PROFILE_CACHE_SIZE = 20 * MAX_CANDIDATES
"""Candidate profiles kept per process: a new detection is compared with the same recent ones as the last."""
_profiles: dict[str, tuple[str | None, Profile | None]] = {}
_profiles_lock = threading.Lock()


def _store_links(session: Session, links: list[dict[str, Any]]) -> None:
    """Store links in one batched statement (a new detection may link to hundreds of others)."""
    session.connection().execute(_links_upsert(session.get_bind().dialect.name), links)


@lru_cache(maxsize=4)
def _links_upsert(dialect: str) -> Any:
    table = DetectionLink.__table__  # type: ignore[attr-defined]
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["detection_a", "detection_b"],
        set_={name: statement.excluded[name] for name in ("score", "parts", "shared", "method")},
    )


@lru_cache(maxsize=4)
def _members_insert(dialect: str) -> Any:
    table = ClusterMember.__table__  # type: ignore[attr-defined]
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table).on_conflict_do_nothing(
        index_elements=["detection_id"]
    )


@lru_cache(maxsize=1)
def _clusters_statement() -> Any:
    """The clusters of detections (bound parameter ``ids``, a list), oldest first."""
    members = select(ClusterMember.cluster_id).where(
        col(ClusterMember.detection_id).in_(bindparam("ids", expanding=True))
    )
    return (
        select(LinkCluster)
        .where(col(LinkCluster.id).in_(members))
        .order_by(col(LinkCluster.created_at), col(LinkCluster.id))
    )


@lru_cache(maxsize=1)
def _cluster_for_update() -> Any:
    """A cluster (bound parameter ``id``), its row locked and read afresh."""
    return (
        select(LinkCluster)
        .where(LinkCluster.id == bindparam("id"))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@lru_cache(maxsize=1)
def _summary_statement() -> Any:
    """A cluster's members (bound parameter ``cluster_id``) counted per country, with their date bounds."""
    undated = col(Detection.seized_on).is_(None)
    return (
        sa_select(
            col(Detection.country),
            func.count(),
            func.min(Detection.seized_on),
            func.max(Detection.seized_on),
            func.min(case((undated, col(Detection.created_at)))),
            func.max(case((undated, col(Detection.created_at)))),
        )
        .join(ClusterMember, col(ClusterMember.detection_id) == Detection.id)
        .where(col(ClusterMember.cluster_id) == bindparam("cluster_id"))
        .group_by(col(Detection.country))
    )


def _day(value: date | datetime | str) -> date:
    """A seizure date, or the date of a creation time (SQLite may hand an aggregate back as text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


class Linker:
    """Detection listener: links a new detection to earlier ones of the same supply, keeps clusters."""

    def __init__(self, alerting: Alerting | None = None) -> None:
        self.alerting = alerting

    def __call__(self, session: Session, detection: Detection, components: list[DetectionComponent]) -> None:
        main = {c.skeleton_key for c in components if is_main(c)}
        if not main:
            return
        profile = profile_of(detection, components)
        if profile.features < profiles.MIN_FEATURES:
            return
        names = _names(components)
        linked: list[str] = []
        links: list[dict[str, Any]] = []
        now = utcnow()
        for other_id, other in candidates(session, detection, main):
            if not other.actives & main:
                continue  # its main component is not among this one's (another main one was found)
            if not profiles.may_link(profile, other):
                continue  # compare() would score it below the threshold: most candidates
            link = profiles.compare(profile, other)
            if not link.linked:
                continue
            a, b = sorted((detection.id, other_id))
            shared = [names.get(key, key) for key in link.shared]
            links.append(
                {
                    "detection_a": a,
                    "detection_b": b,
                    "score": link.score,
                    "parts": link.parts,
                    "shared": shared,
                    "method": METHOD,
                    "created_at": now,
                }
            )
            linked.append(other_id)
        if links:
            _store_links(session, links)
            cluster = self._cluster(session, detection, linked, components)
            self._alert(session, cluster, detection, components)

    # --- clusters --------------------------------------------------------------------------------

    def _cluster(
        self, session: Session, detection: Detection, linked: list[str], components: list[DetectionComponent]
    ) -> LinkCluster:
        """Join the detection and its linked ones into one cluster, merging clusters it bridges.

        Two submissions linking to one earlier detection may race: memberships are inserted with
        ON CONFLICT DO NOTHING and read back, and a cluster another transaction committed meanwhile
        is merged like any other."""
        ids = [detection.id, *linked]
        target = self._locked_target(session, ids)
        if target is None:
            main = next((c for c in components if is_main(c)), components[0])
            target = LinkCluster(
                substance_key=main.skeleton_key,
                substance_name=main.substance_name or main.name or main.formula,
                drug_class=main.drug_class,
                high_harm=main.high_harm,
            )
            session.add(target)
            session.flush()
        # executemany of one cached statement: a VALUES list of hundreds of rows is compiled anew each time
        session.connection().execute(
            _members_insert(session.get_bind().dialect.name),
            [{"detection_id": i, "cluster_id": target.id} for i in ids],
        )
        for absorbed in self._clusters_of(session, ids):
            if absorbed.id == target.id:
                continue
            session.execute(
                update(ClusterMember)
                .where(col(ClusterMember.cluster_id) == absorbed.id)
                .values(cluster_id=target.id)
            )
            target.alert_id = target.alert_id or absorbed.alert_id
            session.flush()
            session.delete(absorbed)
        session.flush()
        self._summarise(session, target)
        return target

    def _locked_target(self, session: Session, ids: list[str]) -> LinkCluster | None:
        """The oldest cluster of these detections, its row locked before any member row refers to it.

        Each member row takes a key-share lock on its cluster; two transactions that both added
        members and then both asked for the row lock (to count) would wait for each other. Taking
        the row lock first orders them. A cluster merged away meanwhile is looked up again."""
        for _ in range(5):
            clusters = self._clusters_of(session, ids)
            if not clusters:
                return None
            locked = session.exec(_cluster_for_update(), params={"id": clusters[0].id}).first()
            if locked is not None:
                return locked
        raise RuntimeError(f"the clusters of detections {ids[:3]} kept being merged away while linking")

    @staticmethod
    def _clusters_of(session: Session, ids: list[str]) -> list[LinkCluster]:
        """The clusters these detections belong to, oldest first."""
        return list(session.exec(_clusters_statement(), params={"ids": ids}).all())

    @staticmethod
    def _summarise(session: Session, cluster: LinkCluster) -> None:
        # The cluster's row lock orders concurrent writers: whoever counts last counts everyone. It is
        # held already: _locked_target took it, or this transaction created the row (no one sees it yet).
        # one row per country, not per member: a large cluster costs no more to count than a small one
        rows = session.connection().execute(_summary_statement(), {"cluster_id": cluster.id}).all()
        dates = [_day(value) for _, _, *bounds in rows for value in bounds if value is not None]
        cluster.size = sum(count for _, count, *_ in rows)
        cluster.countries = sorted(country for country, *_ in rows)
        cluster.first_seen = min(dates) if dates else None
        cluster.last_seen = max(dates) if dates else None
        cluster.updated_at = utcnow()
        session.add(cluster)
        session.flush()

    def _alert(
        self, session: Session, cluster: LinkCluster, detection: Detection, components: list[DetectionComponent]
    ) -> None:
        if self.alerting is None:
            return
        trigger = linked_cluster(
            ClusterFacts(
                cluster.id,
                cluster.substance_key,
                cluster.drug_class,
                cluster.high_harm,
                tuple(cluster.countries),
                cluster.size,
                detection.confidence,
            )
        )
        if trigger is None:
            return
        component = next((c for c in components if c.skeleton_key == cluster.substance_key), components[0])
        facts = self.alerting.facts(session, detection, component)
        alert = self.alerting.raise_alert(session, trigger, facts, detection, component)
        alert.countries = sorted(set(alert.countries) | set(cluster.countries))
        alert.detection_count = cluster.size
        alert.facts = {
            **alert.facts,
            "countries": alert.countries,
            "detection_count": cluster.size,
            "cluster_id": cluster.id,
        }
        if not alert.facts.get("edited_by_analyst"):
            alert.texts = all_texts(trigger.rule, alert.facts)
            english = alert.texts["en"]
            alert.event, alert.headline = english["event"], english["headline"]
            alert.description, alert.instruction = english["description"], english["instruction"]
        session.add(alert)
        cluster.alert_id = alert.id
        session.add(cluster)
        session.flush()


# --- reading ------------------------------------------------------------------------------------


def detection_summary(detection: Detection, components: list[DetectionComponent]) -> dict:
    """A linked detection as any reader allowed to see it may: place, date, profile; nothing private."""
    body = {
        "id": detection.id,
        "created_at": detection.created_at.isoformat(),
        "sample": sample_view(detection),
        "components": [
            {
                "name": c.name,
                "substance": {"id": c.substance_id, "name": c.substance_name} if c.substance_id else None,
                "inchikey": c.inchikey,
                "class": c.drug_class,
                "verdict": c.verdict,
                "role": c.role,
                "purity_percent": c.purity_percent,
                "amount_mg": c.amount_mg,
            }
            for c in components
        ],
    }
    if detection.origin_node:
        body["origin"] = {"node": detection.origin_node, "id": detection.origin_id}
    return body


def links_of(session: Session, principal: Principal, detection_id: str) -> list[dict]:
    """The detections linked to this one that the principal may see, best score first."""
    rows = session.exec(
        select(DetectionLink).where(
            or_(col(DetectionLink.detection_a) == detection_id, col(DetectionLink.detection_b) == detection_id)
        )
    ).all()
    by_other = {(r.detection_b if r.detection_a == detection_id else r.detection_a): r for r in rows}
    if not by_other:
        return []
    seen = session.exec(select(Detection).where(col(Detection.id).in_(list(by_other)), visible(principal))).all()
    parts = _components_by_detection(session, [d.id for d in seen])
    result: list[dict[str, Any]] = [
        {
            "detection": detection_summary(d, parts[d.id]),
            "score": by_other[d.id].score,
            "parts": by_other[d.id].parts,
            "shared": by_other[d.id].shared,
            "method": by_other[d.id].method,
        }
        for d in seen
    ]
    result.sort(key=lambda item: (-item["score"], item["detection"]["id"]))
    return result


def cluster_of(session: Session, detection_id: str) -> LinkCluster | None:
    member = session.get(ClusterMember, detection_id)
    return session.get(LinkCluster, member.cluster_id) if member else None


def cluster_summary(cluster: LinkCluster) -> dict:
    return {
        "id": cluster.id,
        "substance": {"key": cluster.substance_key, "name": cluster.substance_name, "class": cluster.drug_class},
        "high_harm": cluster.high_harm,
        "size": cluster.size,
        "countries": cluster.countries,
        "first_seen": cluster.first_seen.isoformat() if cluster.first_seen else None,
        "last_seen": cluster.last_seen.isoformat() if cluster.last_seen else None,
        "alert_id": cluster.alert_id,
        "updated_at": cluster.updated_at.isoformat(),
    }


def list_clusters(
    session: Session, substance_key: str | None = None, country: str | None = None, limit: int = 100
) -> list[LinkCluster]:
    query = select(LinkCluster)
    if substance_key:
        query = query.where(LinkCluster.substance_key == substance_key)
    rows = list(session.exec(query.order_by(col(LinkCluster.updated_at).desc()).limit(limit * 4)).all())
    if country:
        rows = [c for c in rows if country in c.countries]
    return rows[:limit]


def cluster_graph(session: Session, cluster: LinkCluster) -> dict:
    """The cluster as a link chart and a timeline: members with place and date, links with scores.

    Only what alerts already publish of a detection (country, region, date, form, sold as, origin
    node): nothing that belongs to the submitting laboratory."""
    members = session.exec(
        select(Detection)
        .join(ClusterMember, col(ClusterMember.detection_id) == Detection.id)
        .where(ClusterMember.cluster_id == cluster.id)
        .order_by(col(Detection.seized_on), col(Detection.created_at))
    ).all()
    ids = [d.id for d in members]
    links = (
        session.exec(
            select(DetectionLink).where(
                col(DetectionLink.detection_a).in_(ids), col(DetectionLink.detection_b).in_(ids)
            )
        ).all()
        if ids
        else []
    )
    months: dict[str, int] = {}
    for d in members:
        day: date = d.seized_on or d.created_at.date()
        months[day.strftime("%Y-%m")] = months.get(day.strftime("%Y-%m"), 0) + 1
    return {
        **cluster_summary(cluster),
        "nodes": [
            {
                "id": d.id,
                "country": d.country,
                "region": d.region,
                "seized_on": (d.seized_on or d.created_at.date()).isoformat(),
                "form": d.form,
                "sold_as": d.sold_as,
                "origin_node": d.origin_node,
            }
            for d in members
        ],
        "links": [
            {"source": link.detection_a, "target": link.detection_b, "score": link.score, "shared": link.shared}
            for link in links
        ],
        "timeline": [{"month": month, "detections": count} for month, count in sorted(months.items())],
    }
