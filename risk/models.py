"""Risk tables, in the same database as the SQL mirror, migrated by their own Alembic chain
(:func:`upgrade`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, Column, Engine, Text
from sqlmodel import Field, SQLModel


class FirmProfile(SQLModel, table=True):
    """Off-chain facts about a firm, with provenance. Append-only: a new submission is a new row;
    the newest row per firm (highest ``profile_id``) is the current one."""

    __tablename__ = "risk_firm_profile"
    profile_id: int | None = Field(default=None, primary_key=True)
    address: str = Field(index=True)
    registered_on: int  # registration date (unix seconds)
    registered_capital: int  # in currency units
    shareholders: list[str] = Field(sa_column=Column(JSON, nullable=False), default_factory=list)
    legal_representative: str = ""
    funding_address: str | None = None  # the address that funded the firm's account (KYC)
    tax_grade: str = "B"  # A, B, C, D, M
    court_judgments: int = 0
    social_insurance_headcount: int = 0
    patents: int = 0
    rd_spend: int = 0  # last year, currency units
    # provenance
    source: str  # e.g. "SAMR registry", "tax bureau", "simulator"
    submitted_by: str  # address of the CREDIT_BUREAU or REGULATOR
    submitted_at: int
    document_hash: str  # hash of the source document


class RiskAlert(SQLModel, table=True):
    """One alert per (rule, subject); ``status`` "active" or "withdrawn" (its source rows are gone)."""

    __tablename__ = "risk_alert"
    alert_id: str = Field(primary_key=True)  # sha256(rule | subject)
    rule: str = Field(index=True)
    subject: str
    severity: str
    firms: list[str] = Field(sa_column=Column(JSON, nullable=False), default_factory=list)
    reasons: list[str] = Field(sa_column=Column(JSON, nullable=False), default_factory=list)
    evidence: list[dict] = Field(sa_column=Column(JSON, nullable=False), default_factory=list)
    source_block: int = 0  # the newest block among the evidence rows
    status: str = Field(default="active", index=True)
    content_hash: str = ""


class CreditScore(SQLModel, table=True):
    __tablename__ = "risk_credit_score"
    score_id: int | None = Field(default=None, primary_key=True)
    address: str = Field(index=True)
    model_version: str
    as_of_block: int
    score: int
    base_score: int
    addons: dict = Field(sa_column=Column(JSON, nullable=False), default_factory=dict)
    dimension_points: dict = Field(sa_column=Column(JSON, nullable=False), default_factory=dict)
    feature_points: dict = Field(sa_column=Column(JSON, nullable=False), default_factory=dict)
    inputs: dict = Field(sa_column=Column(JSON, nullable=False), default_factory=dict)
    reason_codes: list[str] = Field(sa_column=Column(JSON, nullable=False), default_factory=list)
    warning: str = "none"  # none | blue | yellow | red
    credit_line: int = 0
    note: str = Field(sa_column=Column(Text, nullable=False), default="")


RISK_TABLES = (FirmProfile, RiskAlert, CreditScore)
MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: Engine) -> None:
    """Bring the risk tables in ``engine``'s database to the latest migration (risk/migrations,
    version table ``risk_alembic_version``, independent of the mirror's own migrations)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
