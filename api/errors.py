"""One error body for every failure: ``{"error": CODE, "message": TEXT, "details": {...}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.errors import (
    AccessDeniedError,
    ChainConnectionError,
    ConfigurationError,
    ContractRevertError,
    LedgerError,
)


class ErrorBody(BaseModel):
    error: str
    message: str
    details: dict[str, Any] = {}


class ApiError(Exception):
    """A refusal with an HTTP status, a stable code and a readable message."""

    def __init__(self, status: int, error: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = details


def _body(status: int, error: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(ErrorBody(error=error, message=message, details=details or {}).model_dump(), status)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _body(exc.status, exc.error, exc.message, exc.details)

    @app.exception_handler(ContractRevertError)
    async def reverted(_: Request, exc: ContractRevertError) -> JSONResponse:
        status = 403 if isinstance(exc, AccessDeniedError) else 409
        return _body(status, exc.name, str(exc), {k: jsonable(v) for k, v in exc.fields.items()})

    @app.exception_handler(ChainConnectionError)
    async def unreachable(_: Request, exc: ChainConnectionError) -> JSONResponse:
        return _body(503, "ChainUnavailable", str(exc))

    @app.exception_handler(ConfigurationError)
    async def misconfigured(_: Request, exc: ConfigurationError) -> JSONResponse:
        return _body(503, "NotConfigured", str(exc))

    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        return _body(400, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _body(422, "InvalidRequest", f"{where}: {first.get('msg', 'invalid request')}",
                     {"errors": [{k: jsonable(v) for k, v in e.items() if k != "ctx"} for e in exc.errors()]})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _body(exc.status_code, "HttpError", str(exc.detail))


def limit_body_size(app: FastAPI, max_bytes: int) -> None:
    """Refuse request bodies over ``max_bytes`` (by Content-Length, or as streamed) with 413."""
    app.add_middleware(BodyLimit, max_bytes=max_bytes)


class BodyLimit:
    """Pure ASGI (a ``BaseHTTPMiddleware`` would cost a task group per request): a declared length over
    the limit is refused before the app runs; a body of undeclared length is read up to the limit first."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        if declared is None and scope["method"] in ("POST", "PUT", "PATCH"):
            body, more = b"", True
            while more:
                message = await receive()
                if message["type"] != "http.request":  # the client went away
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _body(413, "BodyTooLarge", f"request bodies are limited to {self.max_bytes} bytes")
        await response(scope, receive, send)


def jsonable(value: Any) -> Any:
    """A JSON-safe copy: bytes as 0x-hex, integers beyond 2^53 as strings (JavaScript loses them),
    mappings and sequences converted throughout, anything else unknown as its text."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def install_mirror_errors(app: FastAPI) -> None:
    """A mirror that is missing tables (not yet migrated or indexed) or unreachable is a 503, not a 500."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    @app.exception_handler(OperationalError)
    @app.exception_handler(ProgrammingError)
    async def mirror_unavailable(_: Request, exc: Exception) -> JSONResponse:
        return _body(503, "MirrorUnavailable", "the SQL mirror cannot answer yet (not indexed, or unreachable): "
                     f"{type(exc).__name__}")
