"""``ews serve`` and ``ews worker``: processes of one node."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import threading

import uvicorn

from ews.config import get_settings
from ews.db import engine_for
from ews.logs import configure as configure_logs
from ews.services.admin import bootstrap_admin


class PortBusy(Exception):
    """The address to serve on is taken (or not ours to bind)."""


def check_port(host: str, port: int) -> None:
    """Bind HOST:PORT once and let go: a busy port is a one-line error before anything else runs."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise PortBusy(f"cannot serve on {host}:{port}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortBusy(
                    f"port {port} on {host} is already in use; stop what runs there or choose another port "
                    f"(make run PORT={port + 1}, ews serve --port {port + 1})"
                ) from None
            raise PortBusy(f"cannot serve on {host}:{port}: {error.strerror}") from None


def follow_address(host: str, port: int) -> None:
    """Unless EWS_BASE_URL is set, links, feeds and CAP name the address this process serves on."""
    if os.environ.get("EWS_BASE_URL"):
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    os.environ["EWS_BASE_URL"] = f"http://{shown}:{port}"
    get_settings.cache_clear()


def announce_first_start() -> None:
    key = bootstrap_admin(engine_for(get_settings().database_url))
    if key is not None:
        print(
            "First start: created the organisation 'Node administration' (admin).\n"
            "Its API key is shown once — keep it:\n",
            file=sys.stderr,
        )
        print(key, flush=True)


def _logs() -> None:
    settings = get_settings()
    configure_logs(settings.log_format, settings.log_level)
    os.environ["EWS_CONFIGURE_LOGS"] = "1"  # uvicorn worker processes configure theirs the same way


def serve(host: str, port: int, scheduler: bool, workers: int = 1) -> int:
    settings = get_settings()
    _logs()
    announce_first_start()
    runner = None
    if scheduler and settings.scheduler_enabled:
        from ews.scheduler import start_scheduler

        runner = start_scheduler(settings)
    try:
        uvicorn.run(
            "ews.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers if workers > 1 else None,
            log_level="warning",
            log_config=None,  # ews.logs configured them: JSON lines with request ids
            access_log=False,
        )
    finally:
        if runner is not None:
            runner.shutdown(wait=False)
    return 0


def work() -> int:
    """Scheduler and delivery only, until SIGTERM or SIGINT."""
    from ews.scheduler import start_scheduler

    settings = get_settings()
    _logs()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runner = start_scheduler(settings)
    print(f"ews worker: scheduler running against {settings.database_url.split('@')[-1]}", file=sys.stderr)
    stop.wait()
    runner.shutdown(wait=True)
    return 0
