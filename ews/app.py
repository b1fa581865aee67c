"""The ASGI application: API, feeds and web pages of one ews node."""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ews import openapi, problems, web
from ews.api import (
    admin,
    alerts,
    detections,
    dossier,
    feeds,
    health,
    indicators,
    peers,
    profiles,
    reference,
    subscriptions,
)
from ews.api import node as node_api
from ews.api.deps import Node
from ews.config import Settings, get_settings
from ews.db import engine_for
from ews.logs import configure as configure_logs
from ews.metrics import LATENCY, REQUESTS
from ews.middleware import RateLimit, RefuseNul, RequestContext, SecurityHeaders
from ews.problems import Problem, problem_response
from ews.services.alerting import Alerting
from ews.services.feeds import FeedRecorder
from ews.services.identify import Identifier
from ews.services.library import LibraryHolder
from ews.services.links import Linker
from ews.services.ratelimit import RateLimiter


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = Problem(413, "Content too large", f"request bodies are limited to {self.limit} bytes")
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await problem_response(too_large)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await problem_response(too_large)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class Metrics:
    """Count and time every request by route template (not by raw path: ids would explode labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - start)
            REQUESTS.labels(scope["method"], template, str(status)).inc()


def build_node(settings: Settings) -> Node:
    engine = engine_for(settings.database_url)
    holder = LibraryHolder(engine, cache_dir=settings.cache_dir)
    alerting = Alerting(settings, holder)
    return Node(
        settings=settings,
        engine=engine,
        library=holder,
        identifier=Identifier(holder),
        alerting=alerting,
        detection_listeners=[alerting, Linker(alerting), FeedRecorder(settings.node_id)],
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if os.environ.get("EWS_CONFIGURE_LOGS"):  # set by `ews serve` for its uvicorn worker processes
        configure_logs(settings.log_format, settings.log_level)
    node = build_node(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        node.library.get()  # build the library index before the first request
        yield

    app = FastAPI(
        title="ews — early warning system for new psychoactive substances",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # /docs is served by ews.web.apidocs, with Swagger UI from ews/static/vendor
        redoc_url=None,
    )
    app.state.node = node
    problems.install(app)
    openapi.install(app)
    web.account.install(app)  # pages answer errors with HTML in the visitor's language
    for module in (
        health,
        detections,
        profiles,
        dossier,
        reference,
        alerts,
        subscriptions,
        feeds,
        peers,
        admin,
        indicators,
        node_api,
    ):
        app.include_router(module.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(RefuseNul)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(
        RateLimit,
        limiter=RateLimiter(node.engine),
        per_key=settings.rate_limit_per_key,
        per_address=settings.rate_limit_per_address,
    )
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # closed unless configured: browsers on other sites get no CORS grant
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "ETag"],
        )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Metrics)
    app.add_middleware(RequestContext)
    return app
