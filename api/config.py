"""API settings, read from the environment (``SCF_*``)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    rpc_url: str
    manifest: Path
    secret: bytes  # HMAC key of session tokens; random per process unless SCF_API_SECRET is set
    db_url: str = "sqlite:///.data/index.db"  # the indexer's SQL mirror
    domain: str = "localhost"  # the EIP-4361 domain members sign in to
    token_ttl: int = 15 * 60
    nonce_ttl: int = 5 * 60
    max_body_bytes: int = 1 << 20
    audit_db_url: str | None = None  # where api_audit goes (default: the mirror's database)
    audit_batch_rows: int = 200  # the audit writer flushes at this many rows ...
    audit_flush_seconds: float = 0.5  # ... or when its oldest row has waited this long
    audit_queue_rows: int = 10_000  # requests wait (never drop their row) when this many are queued
    audit_retention_days: float | None = 90.0  # audit rows older than this are deleted (None: kept forever)
    member_refresh_seconds: float = 0.25  # members' roles are re-read once the chain head moved (0: every request)
    freeze_heap: bool = False  # gc.freeze() once started (served from the environment; off for in-process apps)
    max_indexer_lag: int = 64  # /ready fails when the mirror is more blocks than this behind the chain head
    consortium_key: bytes | None = None  # invoice fingerprints' HMAC key (as `scf invoice`); None: no registration

    @classmethod
    def from_env(cls) -> Settings:
        secret = os.environ.get("SCF_API_SECRET")
        return cls(
            rpc_url=os.environ.get("SCF_RPC_URL", "http://127.0.0.1:8545"),
            manifest=Path(os.environ.get("SCF_MANIFEST", ".data/deployments.json")),
            secret=secret.encode() if secret else secrets.token_bytes(32),
            db_url=os.environ.get("SCF_DB_URL", "sqlite:///.data/index.db"),
            domain=os.environ.get("SCF_API_DOMAIN", "localhost"),
            audit_db_url=os.environ.get("SCF_AUDIT_DB_URL") or None,
            audit_retention_days=_optional_float(os.environ.get("SCF_AUDIT_RETENTION_DAYS", "90")),
            member_refresh_seconds=float(os.environ.get("SCF_MEMBER_REFRESH_SECONDS", "0.25")),
            freeze_heap=os.environ.get("SCF_GC_FREEZE", "1") != "0",
            max_indexer_lag=int(os.environ.get("SCF_MAX_INDEXER_LAG", "64")),
            consortium_key=os.environ.get("SCF_CONSORTIUM_KEY", "").encode() or None,
        )


def _optional_float(text: str) -> float | None:
    """A number of days, or None for "keep forever" (empty, ``none`` or 0)."""
    if text.strip().lower() in ("", "none", "0"):
        return None
    return float(text)
