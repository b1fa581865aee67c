"""Tables. Every change here comes with an Alembic revision in migrations/versions."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, event, select, text
from sqlmodel import Field, SQLModel

from chem.library import Control
from ews.db import JSONType, UTCDateTime, utcnow


def new_id() -> str:
    """A 26-character, time-ordered, random identifier (48-bit milliseconds + 80 random bits)."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(alphabet[(value >> shift) & 31] for shift in range(125, -5, -5))


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, **kwargs))


def _json(default_factory=list) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSONType, nullable=False))


ORG_KINDS = ("lab", "authority", "regional", "admin")
ROLES = ("lab", "authority", "regional", "admin")


class Organisation(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    country: str | None = Field(default=None, max_length=2)
    contact_email: str | None = Field(default=None, max_length=320)
    created_at: datetime = _ts()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    roles: list[str] = _json()
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Identification(SQLModel, table=True):
    """A match result already made, shared by every process of the node (ews.services.identify).

    The key is a digest of everything the result depends on: the exact input text and format,
    the name and legal question (jurisdiction, date), the library version and the chemistry's
    code. The result is kept as the JSON text it was made as (not JSONB, which reorders keys),
    so a result read back is byte for byte the one computed."""

    key: str = Field(primary_key=True, max_length=64)
    library_version: int = Field(index=True)
    as_of: date
    result: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _ts()


class NodeState(SQLModel, table=True):
    """Small facts about this node, one row each (the bootstrap admin, the library version)."""

    __tablename__ = "node_state"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=400)
    updated_at: datetime = _ts()


class SubstanceRecord(SQLModel, table=True):
    """A reference substance: bundled UN lists, known substances, national lists."""

    __tablename__ = "substance"
    id: str = Field(primary_key=True, max_length=120)
    name: str = Field(max_length=300, index=True)
    synonyms: list[str] = _json()
    smiles: str = Field(default="", max_length=2000)
    std_smiles: str = Field(default="", max_length=2000)
    inchikey: str | None = Field(default=None, max_length=27, index=True)
    skeleton_key: str | None = Field(default=None, max_length=14, index=True)
    formula: str = Field(default="", max_length=100)
    status: str = Field(max_length=16, index=True)
    drug_class: str | None = Field(default=None, max_length=32)
    category: str = Field(default="", max_length=32)
    constituents: list[str] = _json()
    excepted_from: str | None = Field(default=None, max_length=120)
    citation: str = Field(default="", max_length=2000)
    notes: str = Field(default="", max_length=4000)
    source: str = Field(default="", max_length=300)
    updated_at: datetime = _ts()


class SubstanceControl(SQLModel, table=True):
    __tablename__ = "substance_control"
    id: int | None = Field(default=None, primary_key=True)
    substance_id: str = Field(foreign_key="substance.id", index=True, max_length=120)
    jurisdiction: str | None = Field(default=None, max_length=8)
    instrument: str = Field(default="", max_length=300)
    schedule: str = Field(default="", max_length=40)
    controlled_since: date | None = None
    clauses: list[str] = _json()
    status: str = Field(default="controlled", max_length=16)
    citation: str = Field(default="", max_length=2000)
    source: str = Field(default="", max_length=300)
    controlled_until: date | None = None

    @classmethod
    def of(cls, substance_id: str, control: Control, source: str) -> SubstanceControl:
        return cls(
            substance_id=substance_id,
            jurisdiction=control.jurisdiction,
            instrument=control.instrument,
            schedule=control.schedule,
            controlled_since=control.controlled_since,
            controlled_until=control.controlled_until,
            clauses=sorted(control.clauses),
            status=control.status,
            citation=control.citation,
            source=source,
        )

    def control(self) -> Control:
        return Control(
            jurisdiction=self.jurisdiction,
            instrument=self.instrument,
            schedule=self.schedule,
            controlled_since=self.controlled_since,
            controlled_until=self.controlled_until,
            clauses=frozenset(self.clauses),
            citation=self.citation,
            status=self.status,
        )


class Detection(SQLModel, table=True):
    """What a lab found in one sample."""

    __table_args__ = (
        UniqueConstraint("organisation_id", "idempotency_key", name="uq_detection_idempotency"),
        UniqueConstraint("organisation_id", "external_ref", name="uq_detection_external_ref"),
        UniqueConstraint("origin_node", "origin_id", name="uq_detection_origin"),
        Index("ix_detection_created", "created_at", "id"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    external_ref: str | None = Field(default=None, max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str = Field(default="", max_length=64)
    form: str | None = Field(default=None, max_length=40)
    sold_as: str | None = Field(default=None, max_length=200)
    seized_on: date | None = Field(default=None, index=True)
    analyzed_on: date | None = None
    country: str = Field(max_length=2, index=True)
    region: str | None = Field(default=None, max_length=200)
    quantity_value: float | None = None
    quantity_unit: str | None = Field(default=None, max_length=16)
    purity_percent: float | None = None
    techniques: list[str] = _json()
    confidence: str = Field(default="confirmed", max_length=16)
    case_ref: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=10_000)
    origin_node: str | None = Field(default=None, max_length=200)
    origin_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    appearance: dict = _json(dict)  # colour, logo, shape, mass_mg, diameter_mm, packaging


MAIN_ROLE_SQL = "role = 'active' OR role IS NULL"
"""The components that may be a seizure's drug, as linking's candidates query selects them."""


class DetectionComponent(SQLModel, table=True):
    __tablename__ = "detection_component"
    __table_args__ = (
        Index("ix_component_skeleton_detection", "skeleton_key", "detection_id"),
        # linking's candidates: the most recent detections with a substance as a main component, read in
        # order off the index (newest first) instead of gathering the substance's whole history and sorting
        Index(
            "ix_component_main_recent",
            "skeleton_key",
            "detection_created_at",
            "detection_id",
            postgresql_where=text(MAIN_ROLE_SQL),
            postgresql_include=["profile_stamp"],  # the candidates query never visits the table
            sqlite_where=text(MAIN_ROLE_SQL),
        ),
        # the alert rules' history of a substance: seen before, seen in this country, how often in this
        # region since a date; counted off the index alone, not by visiting the country's detections
        Index(
            "ix_component_substance_place",
            "skeleton_key",
            "detection_country",
            "detection_region",
            "seen_on",
            "detection_id",
        ),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    detection_id: str = Field(foreign_key="detection.id", index=True, max_length=32)
    detection_created_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    """Its detection's created_at, copied (it never changes) so that the index above can order by it."""
    detection_country: str | None = Field(default=None, max_length=2)
    detection_region: str | None = Field(default=None, max_length=200)
    seen_on: date | None = None
    """Its detection's country, region and day (seized on, else the day it was reported, in UTC), copied
    like detection_created_at (they never change): see :func:`detection_copies`."""
    profile_stamp: str | None = Field(default=None, max_length=32)
    """None as stored; a new random value on every row of the detection whenever anything a linking profile
    is made of changes (the columns of PROFILE_COLUMNS, the detection's appearance). Set by database
    triggers (migration 0015), not by the application: a process keeps the profiles of candidates it has
    made under their stamp, and no writer can forget to invalidate them."""
    position: int = 0
    name: str | None = Field(default=None, max_length=300)
    input_format: str = Field(default="smiles", max_length=16)
    input_text: str = Field(default="", max_length=200_000)
    std_smiles: str = Field(default="", max_length=2000)
    inchikey: str = Field(max_length=27, index=True)
    skeleton_key: str = Field(max_length=14, index=True)
    formula: str = Field(default="", max_length=100)
    verdict: str = Field(max_length=16, index=True)
    drug_class: str | None = Field(default=None, max_length=32, index=True)
    substance_id: str | None = Field(default=None, max_length=120, index=True)
    substance_name: str | None = Field(default=None, max_length=300)
    purity_percent: float | None = None
    high_harm: bool = False
    match: dict = _json(dict)
    role: str | None = Field(default=None, max_length=16)
    amount_mg: float | None = None
    enantiomer_ratio: float | None = None


class AuditEntry(SQLModel, table=True):
    """Who did what: every write through the API or the command line."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    organisation_id: str | None = Field(default=None, max_length=32, index=True)
    api_key_id: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    detail: dict = _json(dict)


# --- alerts -----------------------------------------------------------------------------------

ALERT_STATUSES = ("draft", "published", "dismissed", "cancelled")


class Alert(SQLModel, table=True):
    """One warning about one substance; repeated triggers update it rather than add more."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    dedup_key: str = Field(max_length=300, unique=True)
    rule: str = Field(max_length=32, index=True)
    status: str = Field(default="draft", max_length=16, index=True)
    scope: str = Field(default="Public", max_length=16)
    severity: str = Field(max_length=16, index=True)
    urgency: str = Field(max_length=16)
    certainty: str = Field(max_length=16)
    event: str = Field(max_length=200)
    headline: str = Field(max_length=400)
    description: str = Field(default="", max_length=10_000)
    instruction: str = Field(default="", max_length=4_000)
    texts: dict = _json(dict)  # {language: {event, headline, description, instruction}}
    facts: dict = _json(dict)  # what the wording was made from (names, places, counts)
    drug_class: str | None = Field(default=None, max_length=32, index=True)
    verdict: str | None = Field(default=None, max_length=16)
    substance_key: str = Field(max_length=27, index=True)
    substance_id: str | None = Field(default=None, max_length=120)
    substance_name: str | None = Field(default=None, max_length=300)
    inchikey: str | None = Field(default=None, max_length=27)
    smiles: str | None = Field(default=None, max_length=2000)
    high_harm: bool = False
    countries: list[str] = _json()
    regions: list[dict] = _json()
    evidence: dict = _json(dict)
    reasons: list[str] = _json()
    detection_count: int = 0
    version: int = 0
    origin_node: str | None = Field(default=None, max_length=200, index=True)
    origin_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # a coalesced CAP Update waits until then (the facts changed since the last version)
    update_due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )


class AlertDetection(SQLModel, table=True):
    """Which detections (components) fed an alert."""

    __tablename__ = "alert_detection"
    alert_id: str = Field(foreign_key="alert.id", primary_key=True, max_length=32)
    component_id: str = Field(primary_key=True, max_length=32)
    detection_id: str = Field(index=True, max_length=32)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts()


class AlertVersion(SQLModel, table=True):
    """A published message of an alert: CAP Alert, Update or Cancel, with what it said."""

    __tablename__ = "alert_version"
    __table_args__ = (UniqueConstraint("alert_id", "version", name="uq_alert_version"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: str = Field(foreign_key="alert.id", index=True, max_length=32)
    version: int
    msg_type: str = Field(max_length=8)
    identifier: str = Field(max_length=300, unique=True)
    references: list[str] = _json()
    sent_at: datetime = _ts()
    actor_organisation_id: str | None = Field(default=None, max_length=32)
    snapshot: dict = _json(dict)


DIGESTS = ("immediate", "daily", "weekly")
LANGUAGES = ("en", "es", "pt", "fr")


class Subscription(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    channel: str = Field(max_length=16)
    url: str | None = Field(default=None, max_length=2000)
    address: str | None = Field(default=None, max_length=320)
    secret: str | None = Field(default=None, max_length=500)  # encrypted at rest (ews.keyring)
    filters: dict = _json(dict)
    language: str = Field(default="en", max_length=5)
    digest: str = Field(default="immediate", max_length=16)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=400)
    failing_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    next_digest_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = _ts()


class Delivery(SQLModel, table=True):
    """The outbox: one message to one target, retried until delivered or given up.

    Its id is the ``webhook-id`` (and the e-mail Message-ID): the same on every retry.
    """

    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    subscription_id: str | None = Field(default=None, foreign_key="subscription.id", index=True, max_length=32)
    alert_id: str | None = Field(default=None, max_length=32, index=True)
    alert_version: int | None = None
    kind: str = Field(default="alert", max_length=16)
    channel: str = Field(max_length=16)
    target: str = Field(max_length=2000)
    event_type: str = Field(max_length=64)
    language: str = Field(default="en", max_length=5)
    payload: dict = _json(dict)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts()
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class DigestItem(SQLModel, table=True):
    """An alert version waiting for a subscription's daily or weekly digest."""

    __tablename__ = "digest_item"
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(foreign_key="subscription.id", index=True, max_length=32)
    alert_id: str = Field(max_length=32)
    alert_version: int
    payload: dict = _json(dict)
    created_at: datetime = _ts()
    delivery_id: str | None = Field(default=None, max_length=32, index=True)


# --- feeds and federation ---------------------------------------------------------------------


class FeedEntry(SQLModel, table=True):
    """One record in this node's outgoing feeds: an alert version or a detection.

    ``position`` is handed out by the feed sequencer (:func:`ews.services.feeds.sequence`)
    once the entry has committed, so positions follow visibility: a cursor
    never skips an entry that committed late.
    """

    __tablename__ = "feed_entry"
    __table_args__ = (Index("ix_feed_entry_cursor", "kind", "position", "seq"),)
    seq: int | None = Field(default=None, primary_key=True)
    position: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    kind: str = Field(max_length=16)  # alert | detection
    object_id: str = Field(max_length=64)
    version: int = 0
    scope: str = Field(default="Public", max_length=16)
    origin_node: str = Field(max_length=200, index=True)
    origin_id: str = Field(max_length=64)
    payload: dict = _json(dict)
    created_at: datetime = _ts()


class FeedClock(SQLModel, table=True):
    """The last feed position handed out; its row lock makes one sequencer at a time."""

    __tablename__ = "feed_clock"
    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class Peer(SQLModel, table=True):
    """Another ews node whose feeds this node pulls."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    url: str = Field(max_length=2000, unique=True)
    token: str = Field(max_length=1000)  # encrypted at rest (ews.keyring)
    node_id: str | None = Field(default=None, max_length=200)
    public_key: str | None = Field(default=None, max_length=200)  # pinned at `ews peers add`
    wake_secret: str | None = Field(default=None, max_length=500)  # signs the peer's wake-ups; encrypted
    id_clash: bool = False
    organisation_id: str | None = Field(default=None, max_length=32)
    alerts_cursor: str | None = Field(default=None, max_length=200)
    detections_cursor: str | None = Field(default=None, max_length=200)
    active: bool = True
    failures: int = 0
    next_pull_at: datetime = _ts()
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_success_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts()


# --- profiles: linked seizures and their clusters -------------------------------------------------


class DetectionLink(SQLModel, table=True):
    """Two detections whose profiles score as one batch (chem.profiles); stored once, ``detection_a`` < ``detection_b``."""

    __tablename__ = "detection_link"
    detection_a: str = Field(foreign_key="detection.id", primary_key=True, max_length=32)
    detection_b: str = Field(foreign_key="detection.id", primary_key=True, max_length=32, index=True)
    score: float
    parts: dict = _json(dict)
    shared: list[str] = _json()
    method: str = Field(default="", max_length=64)
    created_at: datetime = _ts()


class LinkCluster(SQLModel, table=True):
    """Detections connected by links: one supply, seen over time and across countries."""

    __tablename__ = "link_cluster"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    substance_key: str = Field(max_length=27, index=True)
    substance_name: str | None = Field(default=None, max_length=300)
    drug_class: str | None = Field(default=None, max_length=32)
    high_harm: bool = False
    size: int = 0
    countries: list[str] = _json()
    first_seen: date | None = None
    last_seen: date | None = None
    alert_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ClusterMember(SQLModel, table=True):
    __tablename__ = "cluster_member"
    detection_id: str = Field(foreign_key="detection.id", primary_key=True, max_length=32)
    cluster_id: str = Field(foreign_key="link_cluster.id", index=True, max_length=32)


# --- people in the browser (sign-in, sessions, batch uploads) ---------------------------------


class UserAccount(SQLModel, table=True):
    """A person who signs in to the web pages; machines keep API keys. Roles as for keys."""

    __tablename__ = "user_account"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=200)
    roles: list[str] = _json()
    created_at: datetime = _ts()
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_sign_in_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, this row only its SHA-256."""

    __tablename__ = "web_session"
    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="user_account.id", index=True, max_length=32)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _ts()
    expires_at: datetime = _ts(index=True)
    last_seen_at: datetime = _ts()


class SignInFailure(SQLModel, table=True):
    """A failed sign-in, counted per account and per address (rate limits across processes)."""

    __tablename__ = "sign_in_failure"
    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=400, index=True)
    at: datetime = _ts(index=True)


class UploadBatch(SQLModel, table=True):
    """A batch uploaded from the browser, with its per-row results (for the page and its CSV)."""

    __tablename__ = "upload_batch"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    filename: str = Field(default="", max_length=300)
    summary: dict = _json(dict)
    results: list[dict] = _json()
    created_at: datetime = _ts()


class NodeSecret(SQLModel, table=True):
    """This node's own secrets (its signing key, a stored SMTP URL), encrypted at rest (ews.keyring)."""

    __tablename__ = "node_secret"
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
    public: str | None = Field(default=None, max_length=400)
    updated_at: datetime = _ts()


class RateWindow(SQLModel, table=True):
    """Requests counted per caller and fixed one-minute window, shared by every process of the node."""

    __tablename__ = "rate_window"
    subject: str = Field(primary_key=True, max_length=100)
    window: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    count: int = 0


def detection_copies(detection: Detection) -> dict[str, Any]:
    """What a component keeps of its detection, so that the indexes linking and the alert rules read
    need no join (none of it changes once stored)."""
    return _copies(detection.created_at, detection.country, detection.region, detection.seized_on)


def _copies(created_at: datetime, country: str, region: str | None, seized_on: date | None) -> dict[str, Any]:
    return {
        "detection_created_at": created_at,
        "detection_country": country,
        "detection_region": region,
        "seen_on": seized_on or created_at.astimezone(UTC).date(),
    }


@event.listens_for(DetectionComponent, "before_insert")
def _copy_detection_fields(mapper: Any, connection: Any, component: DetectionComponent) -> None:
    """A component added through the session without its detection's copies gets them here (Core
    inserts, such as the submission's, set them themselves)."""
    if component.detection_created_at is None or component.detection_country is None:
        table = Detection.__table__  # type: ignore[attr-defined]
        row = connection.execute(
            select(table.c.created_at, table.c.country, table.c.region, table.c.seized_on).where(
                table.c.id == component.detection_id
            )
        ).first()
        if row is None:
            return  # no such detection: the insert fails on its foreign key, as it should
        for name, value in _copies(*row).items():
            setattr(component, name, value)
