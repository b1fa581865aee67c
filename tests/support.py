"""Test helpers: a real uvicorn server on a loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(app, port: int | None = None):
    """Serve ``app`` on 127.0.0.1 until the block ends; yields the base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_for(condition, timeout: float = 30.0, interval: float = 0.05):
    """Poll ``condition`` until it returns something truthy; return it, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def get_json(url: str, **kwargs):
    response = httpx.get(url, timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 recording webhook requests.

    ``behaviour[path]`` is a list of responses to give in turn (the last one
    repeats): an int status, ``("status", {"header": "value"})``, or
    ``("sleep", seconds)`` to answer 200 after a delay.
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
                if isinstance(step, tuple) and step[0] == "sleep":
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
        self.server.shutdown()
        self.server.server_close()


def post_form(client, path: str, data: dict, **kwargs):
    """POST a page's form as a browser does: first GET the page for its CSRF token and cookie."""
    from tests.ews.workspace_support import csrf_of

    page = client.get(path)
    return client.post(path, data={**data, "csrf_token": csrf_of(page.text)}, **kwargs)
