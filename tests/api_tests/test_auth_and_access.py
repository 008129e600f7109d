"""Sign-in with Ethereum, session tokens, and the access table that drives every endpoint."""

from __future__ import annotations

import time
from dataclasses import replace

from conftest import DAY, now
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from api.access import ACCESS
from api.main import create_app
from api_tests.conftest import sign_in, siwe_text
from indexer import Indexer
from indexer.db import upgrade
from ledger.roles import Role


def _login(client, account, text):
    signature = account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
    return client.post("/auth/login", json={"message": text, "signature": signature})


def test_every_route_has_exactly_one_access_rule(client):
    paths = client.app.openapi()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    table = [(rule.method, rule.path) for rule in ACCESS]
    assert len(table) == len(set(table))
    assert routes == set(table)


def test_sign_in_and_me(client, actors):
    headers = sign_in(client, actors.supplier)
    me = client.get("/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json() == {"address": actors.supplier.address, "roles": ["SUPPLIER"]}


def test_siwe_message_cannot_be_replayed(client, actors):
    text = siwe_text(client, actors.supplier.address)
    assert _login(client, actors.supplier, text).status_code == 200
    replay = _login(client, actors.supplier, text)
    assert replay.status_code == 401
    assert replay.json()["error"] == "InvalidNonce"


def test_unknown_nonce_wrong_domain_wrong_chain_forged_signature_and_garbage(client, actors):
    cases = {
        "InvalidNonce": siwe_text(client, actors.supplier.address, nonce="deadbeefdeadbeef"),
        "WrongDomain": siwe_text(client, actors.supplier.address, domain="evil.example"),
        "WrongChain": siwe_text(client, actors.supplier.address, chain_id=1),
    }
    for error, text in cases.items():
        response = _login(client, actors.supplier, text)
        assert (response.status_code, response.json()["error"]) == (401, error), response.json()
    forged = _login(client, actors.supplier2, siwe_text(client, actors.supplier.address))
    assert (forged.status_code, forged.json()["error"]) == (401, "InvalidSignature")
    garbage = client.post("/auth/login", json={"message": "hello", "signature": "0x00"})
    assert (garbage.status_code, garbage.json()["error"]) == (401, "InvalidSiweMessage")


def test_erc1271_wallet_signs_in(client, ledger, actors):
    wallet, _ = ledger.chain.deploy(actors.admin, "ERC1271Wallet", actors.supplier3.address)
    ledger.as_registrar(actors.registrar).admit(wallet.address, "wallet", [Role.LENDER], now(ledger.chain) + DAY)
    headers = sign_in(client, actors.supplier3, address=wallet.address)
    assert client.get("/auth/me", headers=headers).json() == {"address": wallet.address, "roles": ["LENDER"]}


def test_signed_in_non_member_is_refused(client):
    stranger = Account.create()
    headers = sign_in(client, stranger)
    response = client.get("/auth/me", headers=headers)
    assert (response.status_code, response.json()["error"]) == (403, "NotAMember")


def test_missing_forged_and_expired_tokens(client, actors, settings):
    assert client.get("/auth/me").json()["error"] == "NotSignedIn"
    headers = sign_in(client, actors.supplier)
    token = headers["Authorization"].split()[1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (forged, "not-a-token", token.split(".")[0] + ".", ""):
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
    from api.auth import Session, issue_token

    expired = issue_token(Session(actors.supplier.address, 1), settings.secret)
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert (response.status_code, response.json()["error"]) == (401, "TokenExpired")


def test_removed_member_loses_access_once_the_chain_moves(client, ledger, actors):
    headers = sign_in(client, actors.supplier2)
    members = client.app.state.members
    for _ in range(3):  # one chain read, then the cached answer while the head stays
        assert client.get("/auth/me", headers=headers).status_code == 200
    assert members.reads == 1
    ledger.as_registrar(actors.registrar).remove(actors.supplier2.address)
    deadline = time.monotonic() + 40 * members.refresh_seconds  # generous: a shared, busy machine
    while (response := client.get("/auth/me", headers=headers)).status_code == 200:
        assert time.monotonic() < deadline, "still a member long after the removal was mined"
        time.sleep(members.refresh_seconds / 10)
    assert (response.status_code, response.json()["error"]) == (403, "NotAMember")


def test_without_refresh_interval_every_request_reads_the_chain(ledger, settings, actors):
    client = TestClient(create_app(replace(settings, member_refresh_seconds=0), ledger=ledger))
    headers = sign_in(client, actors.supplier2)
    assert client.get("/auth/me", headers=headers).status_code == 200
    ledger.as_registrar(actors.registrar).remove(actors.supplier2.address)
    response = client.get("/auth/me", headers=headers)
    assert (response.status_code, response.json()["error"]) == (403, "NotAMember")
    assert client.app.state.members.reads == 2


def test_health_and_ready(client, ledger, settings):
    assert client.get("/health").json() == {"status": "ok"}
    no_mirror = client.get("/ready")
    assert (no_mirror.status_code, no_mirror.json()["error"]) == (503, "MirrorUnavailable")
    upgrade(client.app.state.engine)  # the mirror's tables, but nothing indexed yet
    unindexed = client.get("/ready")
    assert (unindexed.status_code, unindexed.json()["error"]) == (503, "IndexerNotStarted")
    indexer = Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
                      engine=client.app.state.engine)
    indexer.sync()
    ready = client.get("/ready").json()
    assert ready["status"] == "ready" and ready["chain_id"] == ledger.chain.chain_id
    assert set(ready["contracts"]) == set(ledger.deployment.contracts)
    assert (ready["indexed_block"], ready["indexer_lag"]) == (ledger.chain.w3.eth.block_number, 0)
    ledger.chain.w3.provider.make_request("anvil_mine", [hex(settings.max_indexer_lag + 1)])
    behind = client.get("/ready")
    assert (behind.status_code, behind.json()["error"]) == (503, "IndexerBehind")
    assert f"{settings.max_indexer_lag + 1} blocks behind" in behind.json()["message"]
    indexer.sync()
    assert client.get("/ready").json()["indexer_lag"] == 0


def test_oversized_body_is_refused(client):
    response = client.post("/auth/login", content=b"x" * (65 * 1024), headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (413, "BodyTooLarge")
