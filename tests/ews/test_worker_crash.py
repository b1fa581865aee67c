"""A worker killed with SIGKILL in the middle of deliveries loses nothing: real processes, both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading

from sqlmodel import Session, select

from ews.db import engine_for
from ews.models import Delivery
from tests.ews.test_alerts import report, subscribe
from tests.support import WAIT, WebhookReceiver, wait_for

# five nitazenes nobody has listed: each raises an Extreme alert, published and delivered at once
NITAZENES = [f"CCCCC{'C' * i}Oc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1" for i in range(5)]


def start_worker(settings, log=None) -> subprocess.Popen:
    env = {
        **os.environ,
        "EWS_DATABASE_URL": settings.database_url,
        "EWS_ALLOW_LOOPBACK_WEBHOOKS": "true",
        "EWS_LEASE_SECONDS": "3",
        "EWS_DISPATCH_INTERVAL": "0.2",
        "EWS_NODE_ID": "test-node",
        "EWS_CACHE_DIR": str(settings.cache_dir),
    }
    return subprocess.Popen(
        # its logs go to a file: a pipe nobody reads would fill and stall the worker
        [sys.executable, "-m", "ews.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log or tempfile.TemporaryFile(),
    )


def deliveries(url: str) -> list[Delivery]:
    with Session(engine_for(url)) as session:
        return list(session.exec(select(Delivery)).all())


def test_sigkill_mid_delivery_then_restart_delivers_everything_once_per_id(client, actors, settings):
    with WebhookReceiver() as receiver:
        held = threading.Event()
        receiver.behaviour["/hook"] = [("hold", held)]  # hold every request open: the worker dies mid-delivery
        sub = subscribe(client, actors["regional"], receiver.url())
        for i, smiles in enumerate(NITAZENES):
            report(client, actors["lab_co"], smiles, f"CRASH-{i}")
        expected = {d.id for d in deliveries(settings.database_url)}
        assert len(expected) == len(NITAZENES)

        first = start_worker(settings)
        try:
            wait_for(lambda: len(receiver.received()) == len(NITAZENES), what="all five deliveries to arrive")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=WAIT)
            held.set()
        assert {r["headers"]["webhook-id"] for r in receiver.received()} == expected
        assert all(d.status == "pending" for d in deliveries(settings.database_url))  # nothing was recorded

        receiver.behaviour["/hook"] = [200]
        receiver.requests.clear()
        second = start_worker(settings)
        try:
            wait_for(lambda: all(d.status == "delivered" for d in deliveries(settings.database_url)))
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=WAIT)
        redelivered = receiver.received()
        assert {r["headers"]["webhook-id"] for r in redelivered} == expected
        assert len(redelivered) == len(expected)  # the restarted worker sent each once
        from standardwebhooks import Webhook

        for request in redelivered:
            Webhook(sub["secret"]).verify(request["body"], request["headers"])
        assert all(d.attempts == 2 for d in deliveries(settings.database_url))
