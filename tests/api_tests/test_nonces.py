"""Sign-in nonces are single-use across worker processes: issued by one app, accepted by another that
shares the secret and the database, and never twice; forged, altered and expired nonces are refused."""

from __future__ import annotations

import time
from dataclasses import replace

from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.auth import NonceStore, api_used_nonce
from api.main import create_app
from api_tests.conftest import siwe_text
from indexer.db import make_engine


def _login(client, account, text):
    signature = account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
    return client.post("/auth/login", json={"message": text, "signature": signature})


def test_a_nonce_from_one_worker_signs_in_at_another_once(ledger, settings, actors):
    worker_a = TestClient(create_app(settings, ledger=ledger))
    worker_b = TestClient(create_app(settings, ledger=ledger))  # another process: same secret and database
    text = siwe_text(worker_a, actors.supplier.address)
    assert _login(worker_b, actors.supplier, text).status_code == 200
    for worker in (worker_a, worker_b):
        replay = _login(worker, actors.supplier, text)
        assert (replay.status_code, replay.json()["error"]) == (401, "InvalidNonce")
    other_secret = TestClient(create_app(replace(settings, secret=b"another-secret-0123456789abcdef0"), ledger=ledger))
    stranger = siwe_text(other_secret, actors.supplier.address)  # issued under another secret
    refused = _login(worker_a, actors.supplier, stranger)
    assert (refused.status_code, refused.json()["error"]) == (401, "InvalidNonce")


def test_forged_altered_and_expired_nonces_are_refused(tmp_path):
    from api.audit import upgrade

    engine = make_engine(f"sqlite:///{tmp_path}/n.db")
    upgrade(engine)
    store = NonceStore(300, b"s" * 32, engine)
    nonce = store.issue()
    assert len(nonce) == 58 and nonce.isalnum()  # EIP-4361: at least 8 alphanumerics
    altered = nonce[:-1] + ("0" if nonce[-1] != "0" else "1")
    later = f"{int(nonce[:10], 16) + 3600:010x}" + nonce[10:]  # a longer life, same MAC
    for bad in (altered, later, "deadbeefdeadbeef", "", nonce + "00"):
        assert not store.consume(bad), bad
    assert store.consume(nonce) and not store.consume(nonce)
    expired = NonceStore(-1, b"s" * 32, engine)
    assert not expired.consume(expired.issue())


def test_spent_nonces_are_deleted_once_they_would_have_expired(tmp_path):
    from api.audit import upgrade

    engine = make_engine(f"sqlite:///{tmp_path}/n.db")
    upgrade(engine)
    short = NonceStore(1, b"s" * 32, engine)
    assert short.consume(short.issue())
    time.sleep(2.1)
    assert short.consume(short.issue())  # spending this one deletes the first, expired by now
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(api_used_nonce)).scalar_one() == 1
