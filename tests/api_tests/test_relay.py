"""The non-custodial relay: members build, sign locally and send; hostile input changes nothing."""

from __future__ import annotations

from conftest import ONE, issue_claim
from eth_account import Account

from api_tests.conftest import sign_in


def _build(client, headers, **action):
    return client.post("/tx/build", json=action, headers=headers)


def test_build_sign_send_split(client, ledger, actors):
    _slot, token = issue_claim(ledger, actors, 1000 * ONE)
    headers = sign_in(client, actors.supplier)
    built = _build(client, headers, action="split", token_id=token, to=actors.supplier2.address, value=250 * ONE)
    assert built.status_code == 200, built.json()
    tx = built.json()["transaction"]
    assert tx["to"] == ledger.receivables.address and tx["from"] == actors.supplier.address
    signed = actors.supplier.sign_transaction({k: v for k, v in tx.items() if k != "from"})
    sent = client.post("/tx/send", json={"raw_transaction": signed.raw_transaction.to_0x_hex()}, headers=headers)
    assert sent.status_code == 200, sent.json()
    moved = [e for e in sent.json()["events"] if e["name"] == "ValueMoved"]
    assert moved[0]["args"]["fromTokenId"] == token and moved[0]["args"]["value"] == 250 * ONE
    assert ledger.holding(token).value == 750 * ONE


def test_build_refused_with_the_contracts_error(client, ledger, actors):
    _, token = issue_claim(ledger, actors, 1000 * ONE)
    headers = sign_in(client, actors.supplier)
    response = _build(client, headers, action="split", token_id=token, to=actors.supplier2.address, value=2000 * ONE)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "ReceivableInvalidValue"
    assert body["details"] == {"tokenId": token, "balance": 1000 * ONE, "value": 2000 * ONE}


def test_malformed_actions_are_422(client, actors):
    headers = sign_in(client, actors.supplier)
    for action in ({"action": "split", "token_id": 1, "to": "0x123", "value": 1},
                   {"action": "split", "token_id": -1, "to": actors.supplier2.address, "value": 1},
                   {"action": "launch_rocket"}):
        response = _build(client, headers, **action)
        assert response.status_code == 422 and response.json()["error"] == "InvalidRequest", action


def _signed(ledger, account, *, to=None, chain_id=None, data=b"", nonce=None):
    tx = {"to": to or ledger.receivables.address, "data": data, "value": 0, "gas": 200_000,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9, "chainId": chain_id or ledger.chain.chain_id,
          "nonce": nonce if nonce is not None else ledger.chain.w3.eth.get_transaction_count(account.address)}
    return account.sign_transaction(tx).raw_transaction.to_0x_hex()


def test_hostile_transactions_are_refused_and_change_nothing(client, ledger, actors):
    _, token = issue_claim(ledger, actors, 1000 * ONE)
    headers = sign_in(client, actors.supplier)
    split = ledger.receivables.get_function_by_signature("transferFrom(uint256,address,uint256)")
    data = split(token, actors.supplier2.address, ONE)._encode_transaction_data()
    foreign, _ = ledger.chain.deploy(actors.admin, "MockERC20", 6)
    nonce_before = ledger.chain.w3.eth.get_transaction_count(actors.supplier.address)
    cases = {
        "ForeignContract": _signed(ledger, actors.supplier, to=foreign.address, data=data),
        "WrongChain": _signed(ledger, actors.supplier, chain_id=1, data=data),
        "NotYourTransaction": _signed(ledger, actors.supplier2, data=data),
        "InvalidTransaction": "0x" + "ab" * 40,
        "ReceivableInvalidValue": _signed(ledger, actors.supplier, data=split(
            token, actors.supplier2.address, 10**30)._encode_transaction_data()),
    }
    for error, raw in cases.items():
        response = client.post("/tx/send", json={"raw_transaction": raw}, headers=headers)
        assert response.json()["error"] == error, (error, response.json())
        assert response.status_code in (403, 409, 422)
    assert ledger.chain.w3.eth.get_transaction_count(actors.supplier.address) == nonce_before
    assert ledger.holding(token).value == 1000 * ONE


def test_relay_needs_sign_in(client, ledger, actors):
    raw = _signed(ledger, Account.create())
    response = client.post("/tx/send", json={"raw_transaction": raw})
    assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")
