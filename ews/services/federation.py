"""Federation: pull peers' feeds, store what arrives with its origin, raise regional alerts.

Each peer is pulled on its own schedule under a lease, so several workers
share the peers and a peer that is down (retried with exponential backoff)
holds up nobody. Every page is imported in one transaction together with the
peer's cursor: a node killed mid-pull resumes from the last page it stored,
and unique (origin, id) constraints make a replay harmless.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
from sqlalchemy import Engine, func, or_, update
from sqlmodel import Session, col, select

from alerts.rules import Trigger
from alerts.texts import all_texts
from ews.config import Settings
from ews.db import reader_of, session_scope, utcnow
from ews.keyring import keyring_for
from ews.metrics import FEDERATION_PULLS, FEDERATION_REFUSED
from ews.models import Alert, Detection, DetectionComponent, Organisation, Peer, detection_copies
from ews.schemas import COMPONENT_ROLES
from ews.services.alerting import Alerting
from ews.services.dispatch import worker_id
from ews.services.feeds import FeedRecorder
from ews.services.identify import Identifier
from ews.services.identity import NONCE_HEADER, SIGNATURE_HEADER, PageRefused, new_nonce, verify_page
from ews.services.links import Linker

log = logging.getLogger("ews.federation")
NODE_HEADER = "X-EWS-Node"
MAX_PAGES_PER_PULL = 50
MAX_BACKOFF_SECONDS = 3600.0


class PeerRefused(Exception):
    """A peer that cannot be added: unreachable, refusing our token, or with this node's own id."""


def fetch_identity(url: str, token: str, settings: Settings) -> dict:
    """The peer's ``/api/v1/node`` identity, checked: another node than ours, and our token accepted."""
    url = url.rstrip("/")
    try:
        with httpx.Client(base_url=url, timeout=15.0, follow_redirects=False, trust_env=False) as client:
            response = client.get("/api/v1/node")
            if response.status_code != 200:
                raise PeerRefused(
                    f"{url}/api/v1/node answered {response.status_code}: is it an ews node of this version?"
                )
            found = response.json()
            probe = client.get(
                "/feeds/alerts.json",
                params={"limit": 1},
                headers={"Authorization": f"Bearer {token}", NODE_HEADER: settings.node_id},
            )
    except httpx.HTTPError as error:
        raise PeerRefused(f"cannot reach {url}: {type(error).__name__}: {error}") from None
    except ValueError:
        raise PeerRefused(f"{url}/api/v1/node did not answer JSON: is it an ews node?") from None
    node_id, public_key = found.get("node_id"), found.get("public_key")
    if not isinstance(node_id, str) or not node_id or not isinstance(public_key, str):
        raise PeerRefused(f"{url}/api/v1/node gave no node_id and public_key")
    if node_id == settings.node_id:
        raise PeerRefused(
            f"the peer's node id {node_id!r} is this node's own id: records of one would be taken for the "
            "other's and dropped. Give each node its own EWS_NODE_ID (the default is the host name)."
        )
    if probe.status_code == 401:
        raise PeerRefused(f"{url} does not accept the token (401): ask its administrator for a key")
    return {"node_id": node_id, "public_key": public_key}


def register_peer(
    session: Session, url: str, token: str, node_id: str | None = None, public_key: str | None = None
) -> Peer:
    """A peer and the organisation its imported detections belong to; its token is stored encrypted."""
    url = url.rstrip("/")
    bind = session.get_bind()
    stored_token = keyring_for(bind if isinstance(bind, Engine) else bind.engine).encrypt(token)
    existing = session.exec(select(Peer).where(Peer.url == url)).first()
    if existing is not None:
        existing.token = stored_token
        existing.active = True
        if public_key is not None:
            existing.node_id, existing.public_key, existing.id_clash = node_id, public_key, False
        session.add(existing)
        return existing
    organisation = Organisation(name=f"peer node {url}", kind="regional", country=None)
    session.add(organisation)
    session.flush()
    peer = Peer(
        url=url, token=stored_token, organisation_id=organisation.id, node_id=node_id, public_key=public_key
    )
    session.add(peer)
    session.flush()
    return peer


def _number(value: object) -> float | None:
    """A number from a peer's feed, or None for anything else (a peer's data is not trusted)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < 1e9 else None


def _appearance(value: object) -> dict:
    """A peer's sample appearance, known keys only and bounded."""
    if not isinstance(value, dict):
        return {}
    result: dict = {}
    for key in ("colour", "logo", "shape", "packaging"):
        if isinstance(value.get(key), str):
            result[key] = value[key][:500]
    for key in ("mass_mg", "diameter_mm"):
        number = _number(value.get(key))
        if number:
            result[key] = number
    return result


def subscribe_wakeups(engine: Engine, peer_id: str, token: str, base_url: str) -> str | None:
    """Ask the peer to POST a signed wake-up to us whenever it publishes an alert; None if it would not.

    The wake-up is an ordinary Standard Webhooks delivery from the peer's outbox
    (retried like any other) to ``/api/v1/peers/{id}:wake``; it only moves the
    next pull forward: the pull stays the source of truth.
    """
    with Session(engine) as session:
        peer = session.get(Peer, peer_id)
        if peer is None:
            return None
        url = peer.url
    callback = f"{base_url.rstrip('/')}/api/v1/peers/{peer_id}:wake"
    try:
        response = httpx.post(
            f"{url}/api/v1/subscriptions",
            json={"channel": "webhook", "url": callback},
            headers={"Authorization": f"Bearer {token}"},
            timeout=15.0,
            follow_redirects=False,
            trust_env=False,
        )
    except httpx.HTTPError as error:
        return f"no push wake-ups: {type(error).__name__}: {error}"
    if response.status_code != 201:
        detail = response.text[:300]
        return f"no push wake-ups: the peer answered {response.status_code}: {detail}"
    secret = response.json().get("secret")
    with session_scope(engine) as session:
        session.execute(
            update(Peer).where(col(Peer.id) == peer_id).values(wake_secret=keyring_for(engine).encrypt(secret))
        )
    return None


def wake(engine: Engine, peer_id: str, body: bytes, headers: dict[str, str]) -> bool:
    """A wake-up from a peer, checked against the secret it gave us: its next pull is now."""
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    with Session(engine) as session:
        peer = session.get(Peer, peer_id)
        stored = peer.wake_secret if peer is not None and peer.active else None
    if not stored:
        return False
    try:
        Webhook(keyring_for(engine).decrypt(stored)).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    with session_scope(engine) as session:
        session.execute(update(Peer).where(col(Peer.id) == peer_id).values(next_pull_at=utcnow()))
    return True


class IdClash(Exception):
    """A peer's feed carries this node's own id: everything in it would be dropped as ours."""


class Federation:
    def __init__(self, settings: Settings, engine: Engine, alerting: Alerting, identifier: Identifier) -> None:
        self.settings = settings
        self.engine = engine
        self.alerting = alerting
        self.identifier = identifier
        self.owner = worker_id()
        self.recorder = FeedRecorder(settings.node_id)
        self.linker = Linker(alerting)
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ews-federation")

    # -- scheduling ------------------------------------------------------------------------------

    def claim(self) -> list[str]:
        now = utcnow()
        lease = now + timedelta(seconds=max(120.0, self.settings.federation_interval * 2))
        due = (
            select(Peer.id)
            .where(
                col(Peer.active).is_(True),
                Peer.next_pull_at <= now,
                or_(col(Peer.lease_until).is_(None), col(Peer.lease_until) < now),
            )
            .with_for_update(skip_locked=True)
        )
        with session_scope(self.engine) as session:
            rows = session.execute(
                update(Peer)
                .where(col(Peer.id).in_(due.scalar_subquery()))
                .values(lease_owner=self.owner, lease_until=lease)
                .returning(col(Peer.id))
            ).all()
        return [row[0] for row in rows]

    def run_once(self) -> int:
        """Pull every due peer, concurrently; returns how many were pulled."""
        peers = self.claim()
        futures = [self.pool.submit(self.pull, peer_id) for peer_id in peers]
        for future in futures:
            future.result()
        return len(peers)

    def pull(self, peer_id: str) -> None:
        with Session(reader_of(self.engine)) as session:
            peer = session.get(Peer, peer_id)
            if peer is None:
                return
            url, stored_token = peer.url, peer.token
        try:
            token = keyring_for(self.engine).decrypt(stored_token)
            with httpx.Client(
                base_url=url,
                timeout=15.0,
                follow_redirects=False,
                trust_env=False,
                headers={"Authorization": f"Bearer {token}", NODE_HEADER: self.settings.node_id},
            ) as client:
                self._pull_feed(client, peer_id, "alerts")
                self._pull_feed(client, peer_id, "detections")
        except Exception as error:  # noqa: BLE001 - a peer's failure is recorded, never raised
            self._failed(peer_id, error)
            return
        self._succeeded(peer_id)

    def _pinned(self, client: httpx.Client, peer_id: str) -> tuple[str, str | None]:
        """The peer's pinned public key; a peer added before keys were pinned is pinned at its first pull."""
        with Session(reader_of(self.engine)) as session:
            peer = session.get(Peer, peer_id)
            if peer is not None and peer.public_key:
                return peer.public_key, peer.node_id
        response = client.get("/api/v1/node")
        response.raise_for_status()
        found = response.json()
        if found.get("node_id") == self.settings.node_id:
            raise IdClash(found["node_id"])
        with session_scope(self.engine) as session:
            session.execute(
                update(Peer)
                .where(col(Peer.id) == peer_id)
                .values(public_key=found["public_key"], node_id=found["node_id"])
            )
        log.info("pinned the public key of peer %s (node %s)", peer_id, found["node_id"])
        return found["public_key"], found["node_id"]

    def _fetch_page(self, client: httpx.Client, peer_id: str, kind: str, params: dict) -> httpx.Response:
        """One feed page, its signature checked against the pinned key (raises PageRefused)."""
        public_key, node_id = self._pinned(client, peer_id)
        nonce = new_nonce()
        response = client.get(f"/feeds/{kind}.json", params=params, headers={NONCE_HEADER: nonce})
        if response.status_code != 200:
            return response
        try:
            verify_page(
                public_key,
                node_id,
                response.content,
                response.request.url.raw_path.decode(),
                nonce,
                response.headers.get(SIGNATURE_HEADER),
            )
        except PageRefused as refused:
            FEDERATION_REFUSED.labels(refused.reason).inc()
            raise
        return response

    def _pull_feed(self, client: httpx.Client, peer_id: str, kind: str) -> None:
        for _ in range(MAX_PAGES_PER_PULL):
            with Session(reader_of(self.engine)) as session:
                peer = session.get(Peer, peer_id)
                if peer is None:
                    return  # removed while we were pulling
                cursor = peer.alerts_cursor if kind == "alerts" else peer.detections_cursor
            params = {"after": cursor} if cursor else {}
            response = self._fetch_page(client, peer_id, kind, params)
            if response.status_code == 403 and kind == "detections":
                return  # our key at the peer has no regional role: alerts only
            response.raise_for_status()
            page = response.json()
            if page.get("node") == self.settings.node_id:
                raise IdClash(page["node"])
            # the chemistry runs before the write transaction, which stays short
            identified = self._identify(page) if kind == "detections" else {}
            with session_scope(self.engine) as session:
                peer = session.exec(select(Peer).where(Peer.id == peer_id).with_for_update()).one()
                if peer.lease_owner != self.owner:
                    return  # our lease expired and another worker took the peer over
                peer.node_id = page.get("node") or peer.node_id
                for item in page.get("items", []):
                    if item.get("origin_node") == self.settings.node_id:
                        continue  # our own record coming back: never re-imported
                    if kind == "alerts":
                        self.import_alert(session, item)
                    else:
                        self.import_detection(session, peer, item, identified)
                if kind == "alerts":
                    peer.alerts_cursor = page.get("next")
                else:
                    peer.detections_cursor = page.get("next")
                session.add(peer)
            if not page.get("has_more"):
                return

    def _succeeded(self, peer_id: str) -> None:
        FEDERATION_PULLS.labels("ok").inc()
        now = utcnow()
        with session_scope(self.engine) as session:
            session.execute(
                update(Peer)
                .where(col(Peer.id) == peer_id, col(Peer.lease_owner) == self.owner)
                .values(
                    failures=0,
                    last_error=None,
                    id_clash=False,
                    last_success_at=now,
                    next_pull_at=now + timedelta(seconds=self.settings.federation_interval),
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def _failed(self, peer_id: str, error: Exception) -> None:
        if isinstance(error, IdClash):
            outcome = "id_clash"
            error = IdClash(
                f"the peer's feed carries node id {error}, this node's own id: nothing in it can be imported. "
                "Give each node its own EWS_NODE_ID."
            )
        else:
            outcome = "refused" if isinstance(error, PageRefused) else "failed"
        FEDERATION_PULLS.labels(outcome).inc()
        log.warning("pull from peer %s failed (%s): %s", peer_id, outcome, error)
        now = utcnow()
        with session_scope(self.engine) as session:
            peer = session.get(Peer, peer_id)
            if peer is None or peer.lease_owner != self.owner:
                return
            peer.failures += 1
            backoff = min(self.settings.federation_interval * (2**peer.failures), MAX_BACKOFF_SECONDS)
            peer.next_pull_at = now + timedelta(seconds=backoff)
            peer.last_error = f"{type(error).__name__}: {error}"[:2000]
            peer.id_clash = isinstance(error, IdClash)
            peer.lease_owner = None
            peer.lease_until = None
            session.add(peer)

    # -- importing -------------------------------------------------------------------------------

    def import_alert(self, session: Session, item: dict) -> Alert:
        """A peer's alert version: stored once per origin and id, updated by later versions."""
        data = item["data"]
        origin, origin_id = item["origin_node"], item["origin_id"]
        key = f"peer:{origin}:{origin_id}"
        alert = session.exec(select(Alert).where(Alert.dedup_key == key).with_for_update()).first()
        remote_version = int(item.get("version") or data.get("version") or 1)
        if alert is not None and alert.facts.get("origin_version", 0) >= remote_version:
            return alert
        substance = data.get("substance") or {}
        new = alert is None
        if new:
            # the fields the constructor would require are set from the peer's data below
            alert = Alert(dedup_key=key, origin_node=origin, origin_id=origin_id, substance_key="")  # type: ignore[call-arg]
        assert alert is not None  # found above, or created just now
        alert.rule = data.get("rule") or "new_substance"
        alert.scope = data.get("scope") or "Public"
        for field in ("severity", "urgency", "certainty", "event", "headline", "description", "instruction"):
            setattr(alert, field, data.get(field) or getattr(alert, field, "") or "Unknown")
        alert.texts = data.get("texts") or {}
        alert.drug_class = substance.get("class")
        alert.verdict = substance.get("verdict")
        alert.inchikey = substance.get("inchikey")
        alert.substance_key = (substance.get("inchikey") or "")[:14] or key[:27]
        alert.substance_name = substance.get("name")
        alert.smiles = substance.get("smiles")
        alert.high_harm = bool(substance.get("high_harm"))
        alert.countries = data.get("countries") or []
        alert.regions = data.get("regions") or []
        alert.evidence = data.get("evidence") or {}
        alert.reasons = data.get("reasons") or []
        alert.detection_count = int(data.get("detection_count") or 0)
        alert.facts = {
            **(alert.facts or {}),
            "origin_version": remote_version,
            "formula": substance.get("formula"),
        }
        alert.updated_at = utcnow()
        session.add(alert)
        session.flush()
        remote_type = data.get("msg_type") or "Alert"
        # our first copy of a peer's alert is an Alert for our subscribers, whatever the peer's version
        msg_type = "Alert" if new else ("Cancel" if remote_type == "Cancel" else "Update")
        self.alerting.publish(session, alert, actor=None, msg_type=msg_type)
        if remote_type == "Cancel":
            alert.status = "cancelled"
            session.add(alert)
        return alert

    def _identify(self, page: dict) -> dict:
        results = {}
        for item in page.get("items", []):
            country = ((item.get("data") or {}).get("sample") or {}).get("country") or "UN"
            for position, component in enumerate((item.get("data") or {}).get("components") or []):
                if component.get("smiles"):
                    results[(item["origin_id"], position)] = self.identifier.identify(
                        component["smiles"], "smiles", name=component.get("name"), jurisdiction=country
                    )
        return results

    def import_detection(
        self, session: Session, peer: Peer, item: dict, identified: dict | None = None
    ) -> Detection | None:
        """A peer's detection, re-identified against this node's library; once per origin and id."""
        origin, origin_id = item["origin_node"], item["origin_id"]
        exists = session.exec(
            select(Detection.id).where(Detection.origin_node == origin, Detection.origin_id == origin_id)
        ).first()
        if exists is not None:
            return None
        data = item["data"]
        sample = data.get("sample") or {}
        detection = Detection(
            organisation_id=peer.organisation_id or "",
            country=sample.get("country") or "ZZ",
            region=sample.get("region"),
            form=sample.get("form"),
            sold_as=sample.get("sold_as"),
            seized_on=date.fromisoformat(sample["seized_on"]) if sample.get("seized_on") else None,
            analyzed_on=date.fromisoformat(sample["analyzed_on"]) if sample.get("analyzed_on") else None,
            techniques=sample.get("techniques") or [],
            confidence=sample.get("confidence") or "confirmed",
            purity_percent=sample.get("purity_percent"),
            appearance=_appearance(sample.get("appearance")),
            origin_node=origin,
            origin_id=origin_id,
            request_hash="federated",
        )
        session.add(detection)
        session.flush()
        components = []
        for position, component in enumerate(data.get("components") or []):
            if not component.get("smiles"):
                continue
            result = (identified or {}).get((origin_id, position)) or self.identifier.identify(
                component["smiles"], "smiles", name=component.get("name"), jurisdiction=detection.country
            )
            if "error" in result:
                continue
            identity = next((m for m in result["matches"] if m["kind"] == "identity"), None)
            row = DetectionComponent(
                detection_id=detection.id,
                **detection_copies(detection),
                position=position,
                name=component.get("name"),
                input_format="smiles",
                input_text=component["smiles"],
                std_smiles=result["standardized"]["smiles"],
                inchikey=result["standardized"]["inchikey"],
                skeleton_key=result["standardized"]["inchikey"][:14],
                formula=result["standardized"]["formula"],
                verdict=result["verdict"],
                drug_class=result["class"],
                substance_id=identity["substance"]["id"] if identity else None,
                substance_name=identity["substance"]["name"] if identity else None,
                purity_percent=_number(component.get("purity_percent")),
                high_harm=bool(result.get("high_harm")),
                match=result,
                role=component.get("role") if component.get("role") in COMPONENT_ROLES else None,
                amount_mg=_number(component.get("amount_mg")),
                enantiomer_ratio=_number(component.get("enantiomer_ratio")),
            )
            session.add(row)
            components.append(row)
        session.flush()
        self.recorder(session, detection, components)
        self.linker(session, detection, components)
        for component in components:
            self.regional_spread(session, detection, component)
        return detection

    def regional_spread(
        self, session: Session, detection: Detection, component: DetectionComponent
    ) -> Alert | None:
        """One substance in several countries: this node's own regional alert."""
        if component.verdict not in ("analog", "no_match", "controlled") or (
            component.verdict == "controlled" and not component.high_harm
        ):
            return None
        countries = sorted(
            {
                c
                for (c,) in session.execute(
                    select(Detection.country)
                    .join(DetectionComponent, col(DetectionComponent.detection_id) == Detection.id)
                    .where(DetectionComponent.skeleton_key == component.skeleton_key)
                    .group_by(Detection.country)
                ).all()
            }
        )
        if len(countries) < 2:
            return None
        count = session.exec(
            select(func.count(func.distinct(DetectionComponent.detection_id))).where(
                DetectionComponent.skeleton_key == component.skeleton_key
            )
        ).one()
        high = component.high_harm or component.drug_class in ("opioid", "benzodiazepine")
        trigger = Trigger(
            rule="regional_spread",
            key=f"regional:{component.skeleton_key}",
            severity="Extreme" if component.high_harm else ("Severe" if high else "Moderate"),
            urgency="Immediate" if high else "Expected",
            certainty="Observed" if detection.confidence == "confirmed" else "Likely",
            reasons=(f"detected in {len(countries)} countries: {', '.join(countries)}",),
        )
        alert = session.exec(select(Alert).where(Alert.dedup_key == trigger.key).with_for_update()).first()
        if alert is None:
            facts = self.alerting.facts(session, detection, component)
            alert = self.alerting.raise_alert(session, trigger, facts, detection, component)  # a draft
            changed = True
        else:
            self.alerting.link(session, alert, detection, component)
            changed = bool(set(countries) - set(alert.countries))
        alert.countries = countries
        alert.detection_count = int(count)
        alert.reasons = list(trigger.reasons)
        alert.facts = {**alert.facts, "countries": countries, "detection_count": int(count)}
        if not alert.facts.get("edited_by_analyst"):
            alert.texts = all_texts("regional_spread", alert.facts)
            english = alert.texts["en"]
            alert.event, alert.headline = english["event"], english["headline"]
            alert.description, alert.instruction = english["description"], english["instruction"]
        alert.updated_at = utcnow()
        session.add(alert)
        session.flush()
        if alert.status == "draft" and trigger.severity == "Extreme":
            self.alerting.publish(session, alert, actor=None)
        elif alert.status == "published" and changed:
            self.alerting.schedule_update(session, alert)  # coalesced, like every automatic Update
        return alert

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
