"""Faults survived with nothing lost: SMTP down then back, slow receivers, workers killed at random points."""

from __future__ import annotations

import json
import random
import signal
import threading
from collections import defaultdict

from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from ews.db import engine_for
from ews.models import Delivery
from ews.scheduler import start_scheduler
from tests.alerts.test_email import Mailbox
from tests.ews.test_alerts import NEW_NITAZENE, report, subscribe
from tests.ews.test_worker_crash import NITAZENES, start_worker
from tests.support import WAIT, WebhookReceiver, free_port, wait_for


def _deliveries(url: str, channel: str | None = None) -> list[Delivery]:
    with Session(engine_for(url)) as session:
        query = select(Delivery)
        if channel:
            query = query.where(Delivery.channel == channel)
        return list(session.exec(query).all())


def test_smtp_down_then_back_queues_and_sends_each_email_once(client, actors, settings):
    port = free_port()
    settings.smtp_url = f"smtp://127.0.0.1:{port}"  # nothing listens there yet
    settings.dispatch_interval = 0.2
    addresses = [f"analyst{i}@example.org" for i in range(3)]
    for address in addresses:
        response = client.post(
            "/api/v1/subscriptions",
            json={"channel": "email", "address": address},
            headers=actors["regional"].headers,
        )
        assert response.status_code == 201, response.text
    runner = start_scheduler(settings)
    controller = None
    try:
        report(client, actors["lab_co"], NEW_NITAZENE, "SMTP-1")

        def all_failed_once():
            rows = _deliveries(settings.database_url, "email")
            return len(rows) == 3 and all(d.attempts >= 1 and d.last_error and d.status == "pending" for d in rows)

        wait_for(all_failed_once, what="each e-mail to fail once while SMTP is down")
        mailbox = Mailbox()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, ready_timeout=WAIT)
        controller.start()
        wait_for(lambda: all(d.status == "delivered" for d in _deliveries(settings.database_url, "email")))
    finally:
        runner.shutdown(wait=True)
        if controller is not None:
            controller.stop()
    recipients = sorted(rcpt for _, rcpts, _ in mailbox.received for rcpt in rcpts)
    assert recipients == sorted(addresses)  # each queued e-mail sent, none twice
    assert len({m["Message-ID"] for m in mailbox.messages()}) == 3


def test_slow_receivers_do_not_hold_up_the_rest_of_the_fan_out(client, actors, settings):
    settings.dispatch_interval = 0.2
    with WebhookReceiver() as receiver:
        healthy = [f"/ok/{i}" for i in range(40)]
        slow = [f"/slow/{i}" for i in range(10)]
        answer_slow = threading.Event()  # the slow receivers answer only when the test says so
        for path in slow:
            receiver.behaviour[path] = [("hold", answer_slow)]
        for path in healthy + slow:
            subscribe(client, actors["regional"], receiver.url(path))
        runner = start_scheduler(settings)
        try:
            report(client, actors["lab_co"], NEW_NITAZENE, "FAN-1")
            wait_for(lambda: all(receiver.received(p) for p in healthy), what="every healthy endpoint's alert")
            # every healthy endpoint has its alert while no slow one has answered yet (none answers until told)
            waiting = [d for d in _deliveries(settings.database_url) if "/slow/" in d.target]
            assert len(waiting) == 10 and not any(d.status == "delivered" for d in waiting)
            # and the slow ones were being sent meanwhile, not queued behind the healthy ones: they all
            # reach their receivers while every one of them is still held open
            wait_for(lambda: all(receiver.received(p) for p in slow), what="every slow endpoint's request")
        finally:
            answer_slow.set()
            runner.shutdown(wait=False)


def test_workers_killed_at_random_points_deliver_everything_at_least_once_under_one_id(client, actors, settings):
    """1,000 deliveries (10 alerts x 100 endpoints); a worker is SIGKILLed three times at random points."""
    chooser = random.Random()
    paths = [f"/r/{i}" for i in range(100)]
    with WebhookReceiver() as receiver:
        for path in paths:
            subscribe(client, actors["regional"], receiver.url(path))
        for number, smiles in enumerate(NITAZENES + [s.replace("CCCCC", "CCCC(C)", 1) for s in NITAZENES]):
            report(client, actors["lab_co"], smiles, f"KILL-{number}")
        expected = {d.id for d in _deliveries(settings.database_url)}
        assert len(expected) == 1000

        for _ in range(3):
            worker = start_worker(settings)
            already = len(receiver.received())
            target = already + chooser.randint(1, max(1, (1000 - already) // 2))
            try:
                wait_for(lambda: len(receiver.received()) >= target, timeout=2 * WAIT)  # noqa: B023
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=WAIT)
        last = start_worker(settings)
        try:
            wait_for(
                lambda: all(d.status == "delivered" for d in _deliveries(settings.database_url)), timeout=3 * WAIT
            )
        finally:
            last.send_signal(signal.SIGTERM)
            last.wait(timeout=WAIT)

    requests = [r for r in receiver.received() if _complete(r)]  # a kill may cut a request short
    ids = {r["headers"]["webhook-id"] for r in requests}
    assert ids == expected  # every delivery arrived at least once
    per_message: dict[tuple[str, str], set[str]] = defaultdict(set)
    for request in requests:
        alert = json.loads(request["body"])["data"]["id"]
        per_message[(request["path"], alert)].add(request["headers"]["webhook-id"])
    assert len(per_message) == 1000
    assert all(len(found) == 1 for found in per_message.values())  # never under two ids


def _complete(request: dict) -> bool:
    try:
        json.loads(request["body"])
    except ValueError:
        return False
    return True
