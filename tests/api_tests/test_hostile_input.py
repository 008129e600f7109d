"""Malformed and hostile input: bad addresses wherever an address is taken, oversized bodies (declared or
streamed), malformed JSON, bad signatures and out-of-date sign-in messages, oversized or non-hex raw
transactions. Each gets a 4xx with a code and a message, and nothing changes on the chain or in the
sign-in state. (Replayed SIWE messages and transactions to foreign contracts or chains:
test_auth_and_access.py and test_relay.py.)"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from eth_account.messages import encode_defunct

from api.auth import SiweMessage
from api_tests.conftest import sign_in

GOOD = "0x70997970C51812Dc3A010c7D01B50E20D17Dc79C"  # a valid checksummed address
TYPO = GOOD[:-1] + GOOD[-1].swapcase()  # the same hex, a broken EIP-55 checksum: a typo
BAD_ADDRESSES = ("0x12", "0x" + "g" * 40, "not-an-address", TYPO, GOOD.lower()[:-1] + "z", GOOD + "00")


def _refused(response, status: int, code: str) -> dict:
    body = response.json()
    assert (response.status_code, body["error"]) == (status, code), body
    assert body["message"], body
    return body


def test_bad_addresses_are_422_wherever_an_address_is_taken(client, ledger, actors):
    headers = sign_in(client, actors.auditor)
    head = ledger.chain.w3.eth.block_number
    reads = [("/scores/{}", None), ("/holdings", "owner"), ("/invoices", "party"), ("/financings", "party"),
             ("/payables", "debtor"), ("/alerts", "firm"), ("/evidence/batches", "submitter")]
    for bad in BAD_ADDRESSES:
        for path, param in reads:
            if param is None:
                response = client.get(path.format(bad), headers=headers)
            else:
                response = client.get(path, params={param: bad}, headers=headers)
            body = _refused(response, 422, "InvalidRequest")
            assert (param or "address") in body["message"], (path, bad, body)  # names the field
        built = client.post("/tx/build", json={"action": "split", "token_id": 1, "to": bad, "value": 1},
                            headers=headers)
        _refused(built, 422, "InvalidRequest")
    assert ledger.chain.w3.eth.block_number == head


def test_oversized_bodies_declared_or_streamed_are_413(client, ledger, actors, settings):
    headers = sign_in(client, actors.supplier)
    head = ledger.chain.w3.eth.block_number
    big = b"{" + b" " * settings.max_body_bytes + b"}"
    for path in ("/tx/send", "/tx/build", "/auth/login"):
        declared = client.post(path, content=big, headers={**headers, "content-type": "application/json"})
        _refused(declared, 413, "BodyTooLarge")

        def chunks():  # no Content-Length: the body arrives in chunks and is counted
            for _ in range(settings.max_body_bytes // 4096 + 2):
                yield b" " * 4096

        streamed = client.post(path, content=chunks(), headers={**headers, "content-type": "application/json"})
        _refused(streamed, 413, "BodyTooLarge")
    small = client.post("/tx/build", content=(b" " * 100 for _ in range(3)),  # a small streamed body still reaches
                        headers={**headers, "content-type": "application/json"})  # the route (and is not JSON)
    _refused(small, 422, "InvalidRequest")
    assert ledger.chain.w3.eth.block_number == head


def test_malformed_json_and_raw_transactions_are_422(client, ledger, actors):
    headers = sign_in(client, actors.supplier)
    nonce = ledger.chain.w3.eth.get_transaction_count(actors.supplier.address)
    for body in (b"{not json", b"[]", b'{"raw_transaction": 12}', b'{"raw_transaction": "0xzz"}',
                 b'{"raw_transaction": "abcd"}', b'{"action": "split", "token_id": "one"}'):
        path = "/tx/build" if b"action" in body else "/tx/send"
        response = client.post(path, content=body, headers={**headers, "content-type": "application/json"})
        _refused(response, 422, "InvalidRequest")
    too_long = client.post("/tx/send", json={"raw_transaction": "0x" + "ab" * (1 << 17)}, headers=headers)
    _refused(too_long, 413, "BodyTooLarge")  # the body limit comes before the field's own
    assert ledger.chain.w3.eth.get_transaction_count(actors.supplier.address) == nonce


def _message(client, address: str, **fields) -> str:
    nonce = client.get("/auth/nonce").json()["nonce"]
    now = datetime.now(UTC)
    values = {"domain": "localhost", "address": address, "uri": "http://localhost/login", "version": "1",
              "chain_id": 31337, "nonce": nonce, "issued_at": now.isoformat().replace("+00:00", "Z"), **fields}
    return SiweMessage(**values).prepare_message()


def test_bad_signatures_and_out_of_date_messages_get_no_token(client, actors):
    supplier = actors.supplier
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    cases = {
        "random 65 bytes": (_message(client, supplier.address), "0x" + os.urandom(65).hex()),
        "truncated": (_message(client, supplier.address), None),
        "expired": (_message(client, supplier.address, expiration_time=past), "sign"),
        "not yet valid": (_message(client, supplier.address, not_before=future), "sign"),
    }
    for name, (text, signature) in cases.items():
        if signature == "sign":
            signature = supplier.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
        elif signature is None:
            signature = supplier.sign_message(encode_defunct(text=text)).signature.to_0x_hex()[:-10]
        response = client.post("/auth/login", json={"message": text, "signature": signature})
        body = _refused(response, 401, "InvalidSignature")
        assert "token" not in body, name
    not_hex = client.post("/auth/login", json={"message": _message(client, supplier.address), "signature": "0xzz"})
    _refused(not_hex, 422, "InvalidRequest")
    # a failed attempt spends its nonce: the same message, now correctly signed, is refused too
    text = _message(client, supplier.address)
    client.post("/auth/login", json={"message": text, "signature": "0x" + "00" * 65})
    retry = client.post("/auth/login", json={"message": text, "signature": supplier.sign_message(
        encode_defunct(text=text)).signature.to_0x_hex()})
    _refused(retry, 401, "InvalidNonce")
