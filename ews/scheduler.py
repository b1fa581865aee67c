"""The scheduler (APScheduler 3.x): delivery dispatch, digests, federation pulls.

Runs inside ``ews serve`` or alone as ``ews worker``; any number of them may
run against one PostgreSQL (leases and SKIP LOCKED keep them apart). A new
outbox row wakes the dispatcher at once: in-process through an event, across
processes through PostgreSQL LISTEN/NOTIFY; otherwise it polls.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from ews.config import Settings
from ews.db import engine_for, is_postgresql, normalize_url
from ews.events import OUTBOX_CHANNEL, outbox_wakeup
from ews.services.alerting import send_due_updates
from ews.services.digests import run_digests
from ews.services.dispatch import Dispatcher
from ews.services.federation import Federation
from ews.services.feeds import sequence_now

log = logging.getLogger("ews.scheduler")


def build_channels(settings: Settings) -> dict:
    from alerts.channels.webhook import WebhookChannel

    channels: dict = {"webhook": WebhookChannel(allow_loopback=settings.allow_loopback_webhooks)}
    if settings.smtp_url:
        from alerts.channels.email import EmailChannel
        from chem.depict import png

        channels["email"] = EmailChannel(settings.smtp_url, settings.mail_from, settings.base_url, depict=png)
    return channels


@dataclass
class Runner:
    scheduler: BackgroundScheduler
    dispatcher: Dispatcher
    federation: Federation
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def wake(self) -> None:
        job = self.scheduler.get_job("dispatch")
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    def shutdown(self, wait: bool = True) -> None:
        self.stop.set()
        outbox_wakeup.set()
        self.scheduler.shutdown(wait=wait)
        self.dispatcher.shutdown(wait=wait)
        self.federation.shutdown()


def _wake_on_events(runner: Runner) -> None:
    while not runner.stop.is_set():
        if outbox_wakeup.wait(timeout=1.0):
            outbox_wakeup.clear()
            if not runner.stop.is_set():
                runner.wake()


def _wake_on_notify(runner: Runner, url: str) -> None:
    """LISTEN for outbox notifications from other processes (PostgreSQL only)."""
    import psycopg

    dsn = normalize_url(url).replace("postgresql+psycopg://", "postgresql://")
    while not runner.stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
                while not runner.stop.is_set():
                    for _ in connection.notifies(timeout=1.0, stop_after=1):
                        runner.wake()
        except Exception:  # noqa: BLE001 - the database went away; polling covers until it is back
            log.warning("outbox LISTEN connection lost; retrying", exc_info=True)
            runner.stop.wait(2.0)


def start_scheduler(settings: Settings, extra_jobs: list | None = None) -> Runner:
    from ews.app import build_node  # the scheduler needs the node's library and alerting, not its web app

    engine = engine_for(settings.database_url)
    dispatcher = Dispatcher(engine, build_channels(settings), lease_seconds=settings.lease_seconds)
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        dispatcher.run_once, "interval", seconds=settings.dispatch_interval, id="dispatch", next_run_time=now
    )
    scheduler.add_job(dispatcher.due_count, "interval", seconds=15, id="outbox-gauge")
    scheduler.add_job(sequence_now, "interval", seconds=1, args=[engine], id="feed-sequencer")
    scheduler.add_job(run_digests, "interval", seconds=60, args=[engine], id="digests", next_run_time=now)
    node = build_node(settings)
    federation = Federation(settings, engine, node.alerting, node.identifier)
    # coalesced CAP Updates: checked often, sent at most once per alert per alert_update_interval
    scheduler.add_job(
        send_due_updates,
        "interval",
        seconds=min(5.0, max(0.2, settings.alert_update_interval / 4)),
        args=[engine, node.alerting],
        id="alert-updates",
        next_run_time=now,
    )
    scheduler.add_job(
        # every second: a peer's own next_pull_at says when it is due, so a wake-up is acted on at once
        federation.run_once,
        "interval",
        seconds=max(0.1, min(1.0, settings.federation_interval)),
        id="federation",
        next_run_time=now,
    )
    for job in extra_jobs or []:
        scheduler.add_job(**job)
    runner = Runner(scheduler, dispatcher, federation)
    scheduler.start()
    watchers = [threading.Thread(target=_wake_on_events, args=(runner,), daemon=True, name="ews-outbox-wake")]
    if is_postgresql(engine):
        watchers.append(
            threading.Thread(
                target=_wake_on_notify, args=(runner, settings.database_url), daemon=True, name="ews-listen"
            )
        )
    for thread in watchers:
        thread.start()
    runner.threads = watchers
    return runner
