"""Firm profiles with provenance, submitted by a CREDIT_BUREAU or REGULATOR (a library call now;
the API later). The submitter's role is checked against the mirror's role table."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from risk import data
from risk.models import FirmProfile
from risk.models import upgrade as upgrade_risk_tables

SUBMITTER_ROLES = ("CREDIT_BUREAU", "REGULATOR")
TAX_GRADES = ("A", "B", "C", "D", "M")


class ProfileError(ValueError):
    pass


def document_hash(document: bytes | dict[str, Any]) -> str:
    """SHA-256 of the source document (a dict is hashed as canonical JSON)."""
    raw = document if isinstance(document, bytes) else json.dumps(document, sort_keys=True).encode()
    return "0x" + hashlib.sha256(raw).hexdigest()


def submit_profile(engine: Engine, *, submitted_by: str, submitted_at: int, source: str,
                   document: bytes | dict | None = None, document_sha256: str | None = None,
                   check_role: bool = True, **facts: Any) -> FirmProfile:
    """Store one profile record (``facts``: the :class:`FirmProfile` fact columns, ``address`` included). The
    source document is given itself (hashed here) or by its SHA-256 (0x hex) when it stays with the submitter."""
    if (document is None) == (document_sha256 is None):
        raise ProfileError("give the source document or its SHA-256, exactly one")
    if check_role and not data.has_role(engine, submitted_by, SUBMITTER_ROLES):
        raise ProfileError(f"{submitted_by} holds neither CREDIT_BUREAU nor REGULATOR")
    if facts.get("tax_grade", "B") not in TAX_GRADES:
        raise ProfileError(f"tax grade must be one of {TAX_GRADES}")
    if not facts.get("address"):
        raise ProfileError("a profile needs the firm's address")
    upgrade_risk_tables(engine)
    profile = FirmProfile(submitted_by=submitted_by, submitted_at=submitted_at, source=source,
                          document_hash=document_sha256 or document_hash(document), **facts)
    with Session(engine) as session:
        session.add(profile)
        session.commit()
        session.refresh(profile)
    return profile
