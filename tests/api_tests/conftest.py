"""An API app over the session deployment, and a helper to sign in as any key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import CONSORTIUM_KEY, ONE, issue_claim
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

from api.auth import SiweMessage
from api.config import Settings
from api.main import create_app
from indexer import Indexer
from indexer.models import Deposit, EvidenceBatch, Financing, Redemption, SlotMark
from risk.models import RISK_TABLES, CreditScore, RiskAlert


@pytest.fixture
def settings(anvil, tmp_path) -> Settings:
    return Settings(rpc_url=anvil.url, manifest=Path("unused.json"), secret=b"test-secret-0123456789abcdef0123",
                    max_body_bytes=64 * 1024, db_url=f"sqlite:///{tmp_path}/mirror.db",
                    consortium_key=CONSORTIUM_KEY)


@pytest.fixture
def client(ledger, settings) -> TestClient:
    return TestClient(create_app(settings, ledger=ledger))


def siwe_text(client: TestClient, address: str, *, nonce: str | None = None, domain: str = "localhost",
              chain_id: int = 31337) -> str:
    nonce = nonce or client.get("/auth/nonce").json()["nonce"]
    message = SiweMessage(
        domain=domain, address=address, uri=f"http://{domain}/login", version="1", chain_id=chain_id,
        nonce=nonce, issued_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        statement="Sign in to scf-ledger",
    )
    return message.prepare_message()


def sign_in(client: TestClient, account, *, address: str | None = None) -> dict[str, str]:
    """Sign in with ``account``'s key (for ``address``, a wallet it signs for); returns auth headers."""
    text = siwe_text(client, address or account.address)
    signature = account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
    response = client.post("/auth/login", json={"message": text, "signature": signature})
    assert response.status_code == 200, response.json()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _financing(fid: int, lender: str, holder: str, **kw) -> Financing:
    fields = dict(financing_id=fid, lender=lender, holder=holder, token_id=fid, lender_token_id=100 + fid,
                  value=500 * ONE, price=490 * ONE, fee=ONE, kind=0, settlement=0, recourse=False,
                  bank_reference="ref", status=0, start=1)
    fields.update(kw)
    return Financing(**fields)


@pytest.fixture
def world(client, ledger, actors, settings):
    """Two payables (core -> supplier, split on to supplier3; core2 -> supplier2) indexed from the chain;
    financings, settlement history, evidence batches, scores and alerts put into the mirror directly."""
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    slot2, _ = issue_claim(ledger, actors, 300 * ONE, holder=actors.supplier2, core=actors.core2)
    t2, _ = ledger.as_member(actors.supplier).split(token, actors.supplier3.address, 100 * ONE)
    engine = client.app.state.engine
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0, engine=engine).sync()
    SQLModel.metadata.create_all(engine, tables=[m.__table__ for m in RISK_TABLES])  # as risk's scorer would
    a = actors
    with Session(engine) as s:
        s.add_all([
            _financing(1, a.lender.address, a.supplier.address),
            _financing(2, a.lender.address, a.supplier2.address, kind=1, status=1),
            _financing(3, a.core2.address, a.supplier3.address),
            Deposit(block_number=10**6, block_timestamp=1, log_index=0, tx_hash="0x01", slot=slot, payer=a.core.address,
                    amount=400 * ONE, cumulative_paid=400 * ONE),
            Redemption(block_number=10**6, block_timestamp=1, log_index=1, tx_hash="0x01", token_id=t2, slot=slot,
                       holder=a.supplier3.address, paid=40 * ONE, total_paid_to_token=40 * ONE),
            SlotMark(block_number=10**6, block_timestamp=1, log_index=2, tx_hash="0x02", slot=slot, mark="overdue",
                     outstanding=600 * ONE),
            EvidenceBatch(batch_id=1, root="0x" + "11" * 32, submitter=a.auditor.address, leaf_count=4,
                          anchored_at=1, uri="ipfs://a"),
            EvidenceBatch(batch_id=2, root="0x" + "22" * 32, submitter=a.supplier.address, leaf_count=2,
                          anchored_at=2, uri=""),
            CreditScore(address=a.supplier.address, model_version="scorecard-v1", as_of_block=5, score=600,
                        base_score=590, addons={"supply_chain_position": 10.0}, dimension_points={"payment": 120.5},
                        reason_codes=["OLD"], warning="none", credit_line=1),
            CreditScore(address=a.supplier.address, model_version="scorecard-v2", as_of_block=9, score=640,
                        base_score=630, addons={"supply_chain_position": 10.0, "fraud_alerts": 0.0},
                        dimension_points={"payment": 130.0, "scale": 50.25}, reason_codes=["R01", "R07"],
                        warning="yellow", credit_line=5 * ONE),
            RiskAlert(alert_id="a1", rule="circular_trading", subject="s1", severity="high",
                      firms=[a.supplier.address, a.supplier2.address], reasons=["cycle"], evidence=[{"slot": slot}],
                      source_block=7),
            RiskAlert(alert_id="a2", rule="split_chain", subject="s2", severity="medium",
                      firms=[a.supplier3.address], reasons=["deep"], evidence=[], source_block=8),
            RiskAlert(alert_id="a3", rule="split_chain", subject="s3", severity="low",
                      firms=[a.supplier.address], reasons=["old"], evidence=[], source_block=3, status="withdrawn"),
        ])
        s.commit()
    return {"slot": slot, "slot2": slot2, "token": token, "t2": t2}
