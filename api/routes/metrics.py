"""Prometheus metrics (public: labels are method, route template and status only, no firm data)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import Authorized

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition"}})
def metrics(_: Authorized, request: Request) -> Response:
    """Request counts and latency histograms by method, route template and status."""
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)
