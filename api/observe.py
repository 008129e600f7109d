"""Per-request observability: the audit row and the Prometheus metrics, from one ASGI middleware.

Metrics are labelled by method, route *template* (``/payables/{slot}``, never a concrete path) and
status, so they carry no addresses, slots or fingerprints: no firm's data. Unmatched paths share the
label ``<unmatched>`` so that scanning for paths cannot blow up the label space.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import AuditRow, AuditWriter

CALLER_KEY = "scf.caller"  # set in the ASGI scope by deps.authorize once a bearer token is read
UNMATCHED = "<unmatched>"


class Metrics:
    """A registry per app, so several apps (tests) do not clash over collector names."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("scf_api_requests", "HTTP requests by route template and status",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("scf_api_request_duration_seconds", "request latency by route template and status",
                                 ("method", "route", "status"), registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, audit: AuditWriter, metrics: Metrics) -> None:
        self.app = app
        self.audit = audit
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        at, started = time.time(), time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None)
            self.metrics.observe(scope["method"], route or UNMATCHED, status, seconds)
            await self.audit.asubmit(AuditRow(at=at, method=scope["method"], path=scope["path"][:2048], route=route,
                                              status=status, caller=scope.get(CALLER_KEY),
                                              duration_ms=round(seconds * 1000, 3)))
