"""Test helpers: a real uvicorn server on a loopback port, in a thread; waits for events.

Tests never sleep to let something happen: they wait for it with ``wait_for``,
bounded by ``WAIT`` seconds (``EWS_TEST_WAIT``, 120 by default) — generous, so
that a loaded CI machine is slow, not red, yet a test that never sees its event
still fails with the condition it was waiting for.
"""

from __future__ import annotations

import errno
import os
import random
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

WAIT = float(os.environ.get("EWS_TEST_WAIT", "120"))


def _below_ephemeral() -> range:
    """Ports the kernel never numbers by itself (binds to port 0, outgoing connections) on this machine."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    return range(20000, low) if low > 21000 else range(10000, 65536)  # else the reservations alone


# Ports handed to subprocesses are picked below the kernel's ephemeral range, so no socket the kernel
# numbers itself can take one between the pick and the bind, and are reserved with a file per port,
# so two pytest-xdist workers (or two test runs) never pick the same one.
_PORTS = _below_ephemeral()
_RESERVED = Path(tempfile.gettempdir()) / "ews-test-ports"
_RESERVATION_SECONDS = 900  # far longer than any server takes to bind; after that the kernel guards the port


def _reserve(port: int) -> bool:
    """Claim ``port`` for this period and the next: a file named by port and period, created only once."""
    _RESERVED.mkdir(exist_ok=True)
    period = int(time.time() // _RESERVATION_SECONDS)
    if (_RESERVED / f"{port}.{period - 1}").exists():
        return False
    try:
        os.close(os.open(_RESERVED / f"{port}.{period}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    for old in _RESERVED.glob(f"{port}.*"):  # periods no one looks at any more
        if int(old.suffix[1:]) < period - 1:
            old.unlink(missing_ok=True)
    return True


def free_port() -> int:
    """A loopback port nothing listens on, for a server that another process will bind later."""
    chooser = random.Random()
    for _ in range(1000):
        port = chooser.choice(_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as error:
                if error.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
        if _reserve(port):
            return port
    raise RuntimeError(f"no free loopback port in {_PORTS}")


@contextmanager
def running(app, port: int | None = None):
    """Serve ``app`` on 127.0.0.1 until the block ends; yields the base URL.

    The socket is bound here and handed to uvicorn, so the port is ours before anyone learns it.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.started or not thread.is_alive(), interval=0.02, what="the test server to start")
        if not server.started:
            raise RuntimeError("test server did not start (its lifespan start-up failed)")
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
        sock.close()


def wait_for(condition, timeout: float | None = None, interval: float = 0.05, what: str | None = None):
    """Poll ``condition`` until it returns something truthy; return it, or fail after ``timeout`` (``WAIT``)."""
    timeout = WAIT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            name = what or getattr(condition, "__name__", "condition")
            raise AssertionError(f"waited {timeout:g} s for {name}; it did not happen")
        time.sleep(interval)


def get_json(url: str, **kwargs):
    response = httpx.get(url, timeout=WAIT, **kwargs)
    response.raise_for_status()
    return response.json()


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 recording webhook requests.

    ``behaviour[path]`` is a list of responses to give in turn (the last one
    repeats): an int status, ``("status", {"header": "value"})``, or
    ``("hold", event)`` to answer 200 only once the test sets ``event`` (a
    receiver that is slow for exactly as long as the test needs, however
    busy the machine; bounded by ``WAIT``), or ``("sleep", seconds)`` to
    answer 200 after a delay (for benchmarks: bench/alert_latency.py).
    """

    def __init__(self) -> None:
        import http.server

        self.requests: list[dict] = []
        self.behaviour: dict[str, list] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                with receiver.lock:
                    plan = receiver.behaviour.get(self.path, [200])
                    seen = sum(1 for r in receiver.requests if r["path"] == self.path)
                    step = plan[min(seen, len(plan) - 1)]
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": body,
                            "at": time.monotonic(),
                        }
                    )
                status, headers = 200, {}
                if isinstance(step, tuple) and step[0] == "hold":
                    step[1].wait(timeout=WAIT)
                elif isinstance(step, tuple) and step[0] == "sleep":
                    time.sleep(step[1])
                elif isinstance(step, tuple):
                    status, headers = step
                else:
                    status = step
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", "0")
                self.end_headers()

        class Server(http.server.ThreadingHTTPServer):
            # the default listen backlog of 5 drops connections when a fan-out arrives at once; dropped
            # SYNs are retried after 1, 2, 4 s, which made healthy deliveries look slow
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        for plan in self.behaviour.values():  # let held requests go, so shutdown need not wait for them
            for step in plan:
                if isinstance(step, tuple) and step[0] == "hold":
                    step[1].set()
        self.server.shutdown()
        self.server.server_close()


def post_form(client, path: str, data: dict, **kwargs):
    """POST a page's form as a browser does: first GET the page for its CSRF token and cookie."""
    from tests.ews.workspace_support import csrf_of

    page = client.get(path)
    return client.post(path, data={**data, "csrf_token": csrf_of(page.text)}, **kwargs)
