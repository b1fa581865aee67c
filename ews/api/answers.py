"""What the API answers: the shape of every JSON body, as /openapi.json describes it.

The bodies are built by the services as plain dicts (the same views feed pages, webhooks and feeds),
so these models describe them rather than build them: routes name them in ``responses=`` and the
document says what is sent. ``tests/ews/test_fuzz.py`` checks every answer against them.

A field that is always present is required (``X | None`` when it may be null); a field present only
sometimes (the lab's private fields, a webhook's secret) has a default. Every object may carry more
than is listed (additional properties are allowed), so that adding a field never breaks a client.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["controlled", "precursor", "analog", "known", "no_match"]
Timestamp = str  # ISO 8601 with offset, e.g. 2026-11-25T14:02:11.123456+00:00
Day = str  # ISO 8601 date, e.g. 2026-11-20


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- operations ------------------------------------------------------------------------------


class Health(Answer):
    status: Literal["ok"]


class Readiness(Answer):
    status: Literal["ready"]
    library_version: int | None = Field(
        description="the reference library loaded (it grows by one with each load)"
    )


class SignatureScheme(Answer):
    header: str
    nonce_header: str
    algorithm: str


class NodeIdentity(Answer):
    node_id: str
    base_url: str
    public_key: str
    jwk: dict[str, Any]
    signature: SignatureScheme
    time: Timestamp


# --- matching --------------------------------------------------------------------------------


class Standardized(Answer):
    smiles: str
    inchi: str
    inchikey: str
    formula: str
    exact_mass: float
    removed_fragments: list[str]


DrugClass = Literal[
    "opioid",
    "synthetic_cannabinoid",
    "cannabinoid",
    "cathinone",
    "phenethylamine",
    "arylalkylamine",
    "tryptamine",
    "lysergamide",
    "arylcyclohexylamine",
    "benzodiazepine",
    "piperazine",
    "piperidine_pyrrolidine",
    "aminoindane",
    "stimulant",
    "sedative",
    "other",
]


class SubstanceRef(Answer):
    id: str
    name: str


class Control(Answer):
    """One legal control that applies: the listing (``basis`` listed, isomer, ester, positional_isomer,
    …, with the listed ``substance``) or a generic definition (``basis`` generic, its ``definition`` id)."""

    jurisdiction: str | None = Field(description="null for a list that names no jurisdiction of its own")
    instrument: str
    schedule: str
    controlled_since: Day | None
    basis: str
    substance: SubstanceRef | None = None
    definition: str | None = None
    citation: str | None = None


class FamilyRef(Answer):
    id: str
    name: str
    drug_class: DrugClass | None = Field(alias="class")


class DefinitionRef(Answer):
    id: str
    jurisdiction: str


class MatchOf(Answer):
    """One piece of evidence: ``identity`` (with the substance's ``status`` and the ``basis`` of the
    identity), ``generic`` (a ``definition``), ``family`` (a drug-family rule) or ``similarity`` (Tanimoto
    ``score``, and the ``mcs_score`` when a maximum common substructure was weighed)."""

    kind: Literal["identity", "generic", "similarity", "family"]
    substance: SubstanceRef
    score: float = Field(ge=0, le=1)
    shared_atoms: list[int] | None = Field(default=None, description="atom indices of the query that match")
    mcs_score: float | None = Field(default=None, ge=0, le=1)
    status: str | None = None
    basis: str | None = None
    family: FamilyRef | None = None
    definition: DefinitionRef | None = None
    note: str | None = None


class MatchResult(Answer):
    """One structure's identification (docs/contract.md, "Match result"); an unreadable structure
    has ``error`` and ``error_code`` instead of the rest."""

    name: str | None
    input: str | None
    standardized: Standardized | None = None
    verdict: Verdict | None = None
    drug_class: DrugClass | None = Field(default=None, alias="class")
    as_of: Day | None = None
    jurisdiction: str | None = None
    controls: list[Control] = []
    matches: list[MatchOf] = []
    high_harm: bool | None = None
    warnings: list[str] = []
    error: str | None = None
    error_code: str | None = None


class MatchedComponent(Answer):
    name: str | None
    match: MatchResult


class Matches(Answer):
    """``results`` in order; ``components`` when components were sent, ``match`` for one structure."""

    results: list[MatchResult]
    components: list[MatchedComponent] | None = None
    match: MatchResult | None = None


# --- detections ------------------------------------------------------------------------------


class SampleQuantity(Answer):
    value: float
    unit: str


class Sample(Answer):
    form: str | None
    sold_as: str | None
    seized_on: Day | None
    analyzed_on: Day | None
    country: str
    region: str | None
    techniques: list[str] | None
    confidence: Literal["tentative", "confirmed"] | None
    quantity: SampleQuantity | None
    purity_percent: float | None
    appearance: dict[str, Any] | None


class DetectedComponent(Answer):
    id: str
    position: int
    name: str | None
    purity_percent: float | None
    role: str | None
    amount_mg: float | None
    enantiomer_ratio: float | None
    verdict: Verdict | None
    drug_class: str | None = Field(alias="class")
    substance: SubstanceRef | None
    match: MatchResult | None = Field(description="the match result (docs/contract.md)")


class Origin(Answer):
    node: str
    id: str | None


class Detection(Answer):
    """A detection as this key may read it: ``external_ref``, ``case_ref`` and ``notes`` only for the
    submitting lab, ``origin`` only for one pulled from a peer."""

    id: str
    organisation_id: str
    created_at: Timestamp
    sample: Sample
    components: list[DetectedComponent]
    origin: Origin | None = None
    external_ref: str | None = None
    case_ref: str | None = None
    notes: str | None = None


class DetectionPage(Answer):
    items: list[Detection]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class BatchSummary(Answer):
    created: int
    replayed: int
    duplicates: int
    failed: int
    warnings: int


class BatchRow(Answer):
    index: int
    source: str | None = None
    status: int = Field(description="201 created, 200 replayed or duplicate, 4xx failed")
    detection: Detection | None = None
    errors: list[dict[str, Any]] | None = None
    warnings: list[str] | None = None
    duplicate_of: int | None = None
    detail: str | None = None


class BatchResults(Answer):
    summary: BatchSummary
    results: list[BatchRow]


class LinkedDetection(Answer):
    detection: dict[str, Any]
    score: float
    parts: dict[str, Any] | None
    shared: list[Any] | dict[str, Any] | None
    method: str | None


class ClusterSubstance(Answer):
    key: str | None
    name: str | None
    drug_class: str | None = Field(alias="class")


class ClusterSummary(Answer):
    id: str
    substance: ClusterSubstance
    high_harm: bool
    size: int
    countries: list[str]
    first_seen: Day | None
    last_seen: Day | None
    alert_id: str | None
    updated_at: Timestamp


class ClusterPage(Answer):
    items: list[ClusterSummary]


class ClusterNode(Answer):
    id: str
    country: str | None
    region: str | None
    seized_on: Day
    form: str | None
    sold_as: str | None
    origin_node: str | None


class ClusterLink(Answer):
    source: str
    target: str
    score: float
    shared: Any


class ClusterMonth(Answer):
    month: str
    detections: int


class ClusterGraph(ClusterSummary):
    nodes: list[ClusterNode]
    links: list[ClusterLink]
    timeline: list[ClusterMonth]


# --- reference library -----------------------------------------------------------------------


class SubstanceSummary(Answer):
    id: str
    name: str
    status: str
    drug_class: str | None = Field(alias="class")
    formula: str | None
    smiles: str | None
    inchikey: str | None
    score: float | None = Field(default=None, description="similarity, when searched by structure")


class SubstancePage(Answer):
    items: list[SubstanceSummary]
    total: int


class SubstanceControl(Answer):
    jurisdiction: str
    instrument: str | None
    schedule: str | None
    controlled_since: Day | None
    clauses: list[str]
    status: str | None
    citation: str | None


class SubstanceDetail(SubstanceSummary):
    synonyms: list[str]
    listed_smiles: str | None
    category: str | None
    constituents: list[Any]
    excepted_from: Any
    citation: str | None
    notes: str | None
    controls: list[SubstanceControl]


# --- alerts ----------------------------------------------------------------------------------


class AlertLinks(Answer):
    web: str
    api: str
    cap: str


class AlertSubstance(Answer):
    id: str | None
    name: str | None
    smiles: str | None
    inchikey: str | None
    formula: str | None
    drug_class: str | None = Field(alias="class")
    verdict: str | None
    high_harm: bool | None


class Alert(Answer):
    id: str
    version: int
    msg_type: Literal["Alert", "Update", "Cancel"] | None
    identifier: str | None
    references: list[Any]
    status: Literal["draft", "published", "dismissed", "cancelled"]
    cancelled: bool
    scope: Literal["Public", "Restricted"]
    rule: str | None
    category: str
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
    event: str | None
    headline: str
    description: str | None
    instruction: str | None
    texts: dict[str, Any] | None
    reasons: list[Any] | None
    substance: AlertSubstance
    reported_as: list[Any]
    evidence: dict[str, Any] | list[Any] | None
    countries: list[str]
    regions: list[Any] | dict[str, Any] | None
    detection_count: int
    first_seen: Any
    detections: list[dict[str, Any]]
    created_at: Timestamp
    updated_at: Timestamp
    published_at: Timestamp | None
    sent_at: Timestamp | None
    update_pending: bool
    origin_node: str | None
    links: AlertLinks


class AlertPage(Answer):
    items: list[Alert]
    next_cursor: str | None


class Superseded(Answer):
    version: int
    links: dict[str, str]


class AlertVersion(Answer):
    version: int
    msg_type: Literal["Alert", "Update", "Cancel"]
    identifier: str
    references: list[Any]
    sent_at: Timestamp
    current: bool
    snapshot: dict[str, Any]
    superseded_by: Superseded | None = None


class AlertVersions(Answer):
    items: list[AlertVersion]


# --- subscriptions and deliveries ------------------------------------------------------------


class Subscription(Answer):
    id: str
    channel: Literal["webhook", "email"]
    url: str | None
    address: str | None
    filters: dict[str, Any]
    language: Literal["en", "es", "pt", "fr"]
    digest: Literal["immediate", "daily", "weekly"]
    active: bool
    disabled_reason: str | None
    failing_since: Timestamp | None
    next_digest_at: Timestamp | None
    created_at: Timestamp


class NewSubscription(Subscription):
    secret: str | None = Field(default=None, description="a webhook's signing secret (whsec_…), shown once")


class SubscriptionList(Answer):
    items: list[Subscription]


class Delivery(Answer):
    id: str
    subscription_id: str | None
    alert_id: str | None
    alert_version: int | None
    kind: str
    channel: str
    event_type: str | None
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    next_attempt_at: Timestamp
    last_status: int | None
    last_error: str | None
    created_at: Timestamp
    delivered_at: Timestamp | None


class DeliveryList(Answer):
    items: list[Delivery]


# --- feeds -----------------------------------------------------------------------------------


class FeedItem(Answer):
    kind: Literal["alert", "detection"]
    id: str
    version: int
    scope: str
    origin_node: str
    origin_id: str
    published_at: Timestamp
    data: dict[str, Any]
    title: str | None = None
    categories: list[str] | None = None
    status: str | None = None
    superseded_by: Superseded | None = None


class FeedPage(Answer):
    node: str
    items: list[FeedItem]
    next: str | None = Field(description="pass as ?after= for the next page")
    has_more: bool


# --- federation and administration -----------------------------------------------------------


class Peer(Answer):
    id: str
    url: str
    node_id: str | None
    public_key: str | None
    push_wakeups: bool
    id_clash: bool | None
    active: bool
    failures: int
    next_pull_at: Timestamp
    last_success_at: Timestamp | None
    last_error: str | None
    created_at: Timestamp
    note: str | None = Field(default=None, description="why the peer will not push wake-ups, when it will not")


class PeerList(Answer):
    items: list[Peer]


class Organisation(Answer):
    id: str
    name: str
    kind: Literal["lab", "authority", "regional", "admin"]
    country: str | None
    contact_email: str | None
    created_at: Timestamp


class OrganisationList(Answer):
    items: list[Organisation]


class ApiKey(Answer):
    id: str
    organisation_id: str
    prefix: str
    roles: list[Literal["lab", "authority", "regional", "admin"]]
    label: str | None
    created_at: Timestamp
    revoked_at: Timestamp | None


class NewApiKey(ApiKey):
    key: str = Field(description="the secret, shown once: send it as Authorization: Bearer <key>")


class ApiKeyList(Answer):
    items: list[ApiKey]


# --- indicators ------------------------------------------------------------------------------


class DetailShown(Answer):
    countries: Literal["all"] | list[str]
    min_cell: int


class Indicators(Answer):
    """Rows per month and country (docs/indicators.md)."""

    filters: dict[str, Any]
    read_at: Timestamp
    detail: DetailShown
    definitions: str
    rows: list[dict[str, Any]]


class Dashboard(Answer):
    filters: dict[str, Any]
    read_at: Timestamp
    detail: DetailShown
    definitions: str
    charts: dict[str, Any]


class MonthlyRow(Answer):
    month: str
    country: str
    detections: int


class SubstanceMonthly(Answer):
    substance: SubstanceRef
    filters: dict[str, Any]
    read_at: Timestamp
    definitions: str
    rows: list[MonthlyRow]


def answer(model: type[BaseModel], status: int = 200, description: str | None = None) -> dict[int | str, Any]:
    """``responses=`` entry: the answer with ``status`` has the shape of ``model``."""
    response: dict[str, Any] = {"model": model}
    if description:
        response["description"] = description
    return {status: response}
