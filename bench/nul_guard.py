"""What ``ews.middleware.RefuseNul`` adds to a request: the same ASGI app called bare and wrapped.

A detection-sized JSON POST and a GET with a query string go through a trivial app, bare and behind
the middleware, in the same process; the added microseconds per request are printed (a detection's
own handling takes milliseconds).

Run: ``python -m bench.nul_guard [--requests 20000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from starlette.types import Message, Receive, Scope, Send

from ews.middleware import RefuseNul

DETECTION = json.dumps(
    {
        "external_ref": "LAB-2026-0117",
        "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO", "region": "Antioquia"},
        "components": [{"smiles": "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "name": "caffeine", "purity_percent": 12.5}],
        "notes": "private to the lab " * 20,
    }
).encode()


def _scope(method: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": "/api/v1/detections",
        "query_string": query,
        "headers": headers,
    }


POST = _scope("POST", b"", [(b"content-type", b"application/json"), (b"authorization", b"Bearer ews_example")])
GET = _scope("GET", b"country=CO&since=2026-01-01&limit=50", [(b"authorization", b"Bearer ews_example")])


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["method"] == "POST":
        await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> Message:
    return {"type": "http.request", "body": DETECTION, "more_body": False}


async def _send(message: Message) -> None:
    pass


async def _per_request(app, scope: Scope, requests: int) -> float:
    start = time.perf_counter()
    for _ in range(requests):
        await app(scope, _receive, _send)
    return (time.perf_counter() - start) / requests * 1e6


async def main(requests: int, rounds: int) -> None:
    guarded = RefuseNul(_app)
    for name, scope in (("JSON POST", POST), ("GET with query", GET)):
        for _ in range(rounds):
            bare = await _per_request(_app, scope, requests)
            wrapped = await _per_request(guarded, scope, requests)
            print(
                f"{name}: bare {bare:.1f} µs, with RefuseNul {wrapped:.1f} µs: +{wrapped - bare:.1f} µs per request"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))
