"""The Python client on its own: fingerprints, revert decoding, the deployment manifest, the
connection and event decoding; last, a few checks of the session deployment against the chain."""

from __future__ import annotations

import calendar
import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import CONSORTIUM_KEY, ONE, Actors, make_invoice
from eth_abi import encode as abi_encode
from eth_utils import event_signature_to_log_topic, function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3

from ledger.anvil import free_port
from ledger.artifacts import ARTIFACTS_DIR
from ledger.chain import Chain, TxResult
from ledger.client import InvoiceRegistration, Ledger
from ledger.deployment import SYSTEM_CONTRACTS, DeployedContract, Deployment, load_manifest, save_manifest
from ledger.errors import (
    AccessDeniedError,
    ChainConnectionError,
    ConfigurationError,
    ContractRevertError,
    InvalidInputError,
    LedgerError,
    decode_revert,
)
from ledger.events import DecodedEvent, EventDecoder
from ledger.fingerprint import MIN_KEY_BYTES, InvalidInvoiceError, InvoiceFields, fingerprint, normalize_invoice_number
from ledger.roles import MEMBER_ROLES, Role

KEY = b"unit-test-consortium-key-0123456789"
OTHER_KEY = b"another-consortium-key-9876543210"
SELLER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BUYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
REGISTRY = "0x" + "11" * 20
FP = bytes(range(32))


def invoice(**changes: Any) -> InvoiceFields:
    base = InvoiceFields(
        seller=SELLER,
        buyer=BUYER,
        number="INV-2024/001",
        amount=1_500_000,
        currency="CNY",
        issue_date=date(2026, 11, 1),
    )
    return dataclasses.replace(base, **changes)


def fullwidth(text: str) -> str:
    """``text`` in full-width forms (as typed with a CJK input method); space becomes U+3000."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


def error_data(signature: str, types: list[str], values: list[Any]) -> bytes:
    return function_signature_to_4byte_selector(signature) + abi_encode(types, values)


# ---------------------------------------------------------------------------------- fingerprints


@pytest.mark.parametrize(
    "raw",
    [
        "INV2024001",
        "inv-2024/001 ",
        "  Inv_2024.001#",
        fullwidth("INV-2024/001"),
        fullwidth("inv ") + "2024\t001",  # full-width lower case and ideographic space, tab
        "INV # 2024 - 001",
    ],
)
def test_invoice_number_normalization(raw: str) -> None:
    assert normalize_invoice_number(raw) == "INV2024001"


def test_normalized_fields() -> None:
    assert invoice(seller=SELLER.lower(), currency=" cny ").normalized() == {
        "seller": SELLER.lower(),
        "buyer": BUYER.lower(),
        "number": "INV2024001",
        "amount": "1500000",
        "currency": "CNY",
        "date": "2026-11-01",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"number": fullwidth("inv 2024-001")},
        {"number": "inv 2024 001"},
        {"seller": SELLER.lower(), "buyer": "0x" + BUYER[2:].upper()},
        {"currency": " cny"},
    ],
    ids=["full-width-number", "spaced-number", "address-case", "currency-case"],
)
def test_formatting_does_not_change_fingerprints(changes: dict[str, Any]) -> None:
    assert fingerprint(invoice(**changes), KEY) == fingerprint(invoice(), KEY)


@pytest.mark.parametrize(
    "changes, same_partials",
    [
        ({"number": "INV-2024/002"}, {0}),  # seller+buyer+amount+date does not look at the number
        ({"amount": 1_500_001}, {1}),  # seller+number does not look at the amount
        ({"issue_date": date(2026, 11, 2)}, {1, 2}),
        ({"buyer": SELLER, "seller": BUYER}, set()),
        ({"currency": "USD"}, {0, 1, 2}),  # only the full fingerprint covers the currency
    ],
    ids=["number", "amount", "date", "parties", "currency"],
)
def test_which_fingerprints_a_change_moves(changes: dict[str, Any], same_partials: set[int]) -> None:
    base, changed = fingerprint(invoice(), KEY), fingerprint(invoice(**changes), KEY)
    assert changed.full != base.full
    assert {i for i in range(3) if changed.partial[i] == base.partial[i]} == same_partials


def test_fingerprints_depend_on_the_key() -> None:
    one, other = fingerprint(invoice(), KEY), fingerprint(invoice(), OTHER_KEY)
    assert one.full != other.full
    assert all(a != b for a, b in zip(one.partial, other.partial, strict=True))
    assert len({one.full, *one.partial}) == 4  # the four hashes are domain-separated
    assert all(len(h) == 32 for h in (one.full, *one.partial))


@pytest.mark.parametrize(
    "changes",
    [
        {"seller": "0x123"},
        {"buyer": "not-an-address"},
        {"seller": ""},
        {"number": ""},
        {"number": " -/_. "},
        {"amount": 0},
        {"amount": -5},
        {"currency": "CN"},
        {"currency": "YUAN"},
        {"currency": "C1Y"},
        {"currency": ""},
    ],
    ids=lambda c: "-".join(f"{k}={v!r}" for k, v in c.items()),
)
def test_invalid_invoice_fields(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInvoiceError) as exc:
        fingerprint(invoice(**changes), KEY)
    assert isinstance(exc.value, LedgerError)
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize("key", [b"", b"k" * (MIN_KEY_BYTES - 1)], ids=["empty", "one-byte-short"])
def test_short_key(key: bytes) -> None:
    with pytest.raises(InvalidInvoiceError, match=f"at least {MIN_KEY_BYTES} bytes"):
        fingerprint(invoice(), key)


def test_minimum_key_length_is_accepted() -> None:
    assert len(fingerprint(invoice(), b"k" * MIN_KEY_BYTES).full) == 32


def test_issue_timestamp_is_utc_midnight() -> None:
    assert invoice().issue_timestamp == calendar.timegm((2026, 11, 1, 0, 0, 0)) == 1_793_491_200


@pytest.mark.parametrize(
    "dash", ["\u2010", "\u2013", "\u2014", "\u2212"], ids=["hyphen", "en-dash", "em-dash", "minus-sign"]
)
def test_unicode_dashes_are_separators(dash: str) -> None:
    assert fingerprint(invoice(number=f"INV{dash}2024{dash}001"), KEY) == fingerprint(invoice(), KEY)


# ------------------------------------------------------------------------------- revert decoding


def test_decode_known_custom_error() -> None:
    data = error_data(
        "InvoiceAlreadyRegistered(bytes32,address,uint40)", ["bytes32", "address", "uint40"], [FP, SELLER, 1732406400]
    )
    for form in (data, "0x" + data.hex(), data.hex()):
        error = decode_revert(form)
        assert type(error) is InvalidInputError
        assert error.name == "InvoiceAlreadyRegistered"
        assert error.fields == {"fingerprint": "0x" + FP.hex(), "seller": SELLER, "registeredAt": 1732406400}
        assert error.data == "0x" + data.hex()


def test_decode_access_error_checksums_addresses() -> None:
    role = Role.KYC_REGISTRAR.id
    data = error_data(
        "AccessControlUnauthorizedAccount(address,bytes32)", ["address", "bytes32"], [BUYER.lower(), role]
    )
    error = decode_revert(data)
    assert type(error) is AccessDeniedError
    assert (error.name, error.fields) == (
        "AccessControlUnauthorizedAccount",
        {"account": BUYER, "neededRole": "0x" + role.hex()},
    )


def test_decode_error_without_arguments() -> None:
    error = decode_revert(function_signature_to_4byte_selector("ParticipantsZeroAddress()"))
    assert (type(error), error.name, error.fields) == (InvalidInputError, "ParticipantsZeroAddress", {})


def test_decode_error_string_and_panic() -> None:
    error = decode_revert(error_data("Error(string)", ["string"], ["boom"]))
    assert isinstance(error, ContractRevertError)
    assert (error.name, error.fields) == ("Error", {"message": "boom"})
    assert str(error) == "Error(message=boom)"
    panic = decode_revert(error_data("Panic(uint256)", ["uint256"], [0x11]))
    assert (panic.name, panic.fields) == ("Panic", {"code": 0x11})


def test_decode_unknown_selector() -> None:
    data = bytes.fromhex("deadbeef") + abi_encode(["uint256"], [1])
    error = decode_revert(data)
    assert type(error) is ContractRevertError
    assert (error.name, error.fields) == ("UnknownError", {"data": "0x" + data.hex()})


@pytest.mark.parametrize("data", ["0x", "", b"", "0x123456"], ids=["0x", "empty-str", "empty-bytes", "3-bytes"])
def test_decode_empty_revert(data: str | bytes) -> None:
    error = decode_revert(data)
    assert type(error) is ContractRevertError
    assert (error.name, error.fields) == ("EmptyRevert", {})


def test_revert_message_has_natspec_and_arguments() -> None:
    data = error_data(
        "InvoiceAlreadyRegistered(bytes32,address,uint40)", ["bytes32", "address", "uint40"], [FP, SELLER, 1732406400]
    )
    assert str(decode_revert(data)) == (
        "InvoiceAlreadyRegistered: `fingerprint` is registered already, by `seller` at `registeredAt`. "
        f"(fingerprint=0x{FP.hex()}, seller={SELLER}, registeredAt=1732406400)"
    )
    unauthorized = decode_revert(
        error_data("InvoiceUnauthorizedBuyer(address,address)", ["address", "address"], [SELLER, BUYER])
    )
    assert "`caller` is not the buyer `buyer` of the invoice." in str(unauthorized)
    assert f"caller={SELLER}, buyer={BUYER}" in str(unauthorized)


def test_decode_malformed_payload_of_a_known_selector() -> None:
    data = function_signature_to_4byte_selector("InvoiceNotFound(bytes32)") + b"\x01\x02"
    error = decode_revert(data)
    assert isinstance(error, ContractRevertError)
    assert (error.name, error.fields) == ("UnknownError", {"data": "0x" + data.hex()})
    assert "does not decode as InvoiceNotFound" in str(error)


# ---------------------------------------------------------------------------------------- manifest


def deployment(chain_id: int, base: int) -> Deployment:
    def address(i: int) -> str:
        return Web3.to_checksum_address(f"0x{base + i:040x}")

    return Deployment(
        chain_id=chain_id,
        contracts={
            "Participants": DeployedContract(address(1), 100, "0x" + "aa" * 32),
            "InvoiceRegistry": DeployedContract(address(2), 101, "0x" + "bb" * 32),
            "ReceivableToken": DeployedContract(address(3), 102, "0x" + "cc" * 32),
        },
        settlement_asset=address(4),
        deployer=address(5),
        compiler="0.8.28",
        extra={"note": f"chain {chain_id}"},
    )


def test_manifest_round_trip_with_two_chains(tmp_path: Path) -> None:
    path = tmp_path / "deployments.json"
    local, consortium = deployment(31337, 0x1000), deployment(8888, 0x2000)
    save_manifest(path, local)
    save_manifest(path, consortium)

    assert load_manifest(path, 31337) == local
    assert load_manifest(path, 8888) == consortium
    assert sorted(json.loads(path.read_text())) == ["31337", "8888"]
    assert [p.name for p in tmp_path.iterdir()] == ["deployments.json"]  # no temporary file left behind

    redeployed = dataclasses.replace(local, settlement_asset=consortium.settlement_asset)
    save_manifest(path, redeployed)
    assert load_manifest(path, 31337) == redeployed
    assert load_manifest(path, 8888) == consortium


def test_manifest_missing_chain_or_file(tmp_path: Path) -> None:
    path = tmp_path / "deployments.json"
    with pytest.raises(ConfigurationError, match="no deployment manifest"):
        load_manifest(path, 31337)
    save_manifest(path, deployment(31337, 0x1000))
    with pytest.raises(ConfigurationError, match=r"chain id 1$"):
        load_manifest(path, 1)


def test_deployment_lookups() -> None:
    d = deployment(31337, 0x1000)
    assert d.address("InvoiceRegistry") == d.contracts["InvoiceRegistry"].address
    assert d.start_block == 100
    with pytest.raises(ConfigurationError, match="Vault"):
        d.address("Vault")


# ------------------------------------------------------------------------------ connection, events


def test_chain_on_a_dead_port() -> None:
    with pytest.raises(ChainConnectionError) as exc:
        Chain(f"http://127.0.0.1:{free_port()}", timeout=2)
    assert isinstance(exc.value, LedgerError)
    assert isinstance(exc.value, ConnectionError)


def delegate_set_log(address: str, topic0: bytes | None = None) -> dict[str, Any]:
    topic0 = topic0 or event_signature_to_log_topic("DelegateSet(address,address,bool)")
    return {
        "address": address,
        "topics": [
            HexBytes(topic0),
            HexBytes(bytes(12) + bytes.fromhex(SELLER[2:])),
            HexBytes(bytes(12) + bytes.fromhex(BUYER[2:])),
        ],
        "data": HexBytes(abi_encode(["bool"], [True])),
        "blockNumber": 7,
        "blockHash": HexBytes(b"\x07" * 32),
        "transactionHash": HexBytes(b"\x09" * 32),
        "transactionIndex": 0,
        "logIndex": 3,
    }


def test_event_decoder_decodes_only_known_contracts() -> None:
    decoder = EventDecoder({REGISTRY: "InvoiceRegistry"})
    assert decoder.addresses == [Web3.to_checksum_address(REGISTRY)]

    known = delegate_set_log(REGISTRY)
    assert decoder.decode(known) == DecodedEvent(
        contract="InvoiceRegistry",
        name="DelegateSet",
        args={"seller": SELLER, "delegate": BUYER, "allowed": True},
        address=Web3.to_checksum_address(REGISTRY),
        block_number=7,
        block_hash="0x" + "07" * 32,
        tx_hash="0x" + "09" * 32,
        log_index=3,
    )
    foreign = delegate_set_log("0x" + "22" * 20)
    unknown_topic = delegate_set_log(REGISTRY, event_signature_to_log_topic("Unrelated(uint256)"))
    anonymous = {**known, "topics": []}
    assert decoder.decode(foreign) is None
    assert decoder.decode(unknown_topic) is None
    assert decoder.decode(anonymous) is None
    assert [e.name for e in decoder.decode_all([foreign, known, unknown_topic, anonymous, known])] == [
        "DelegateSet",
        "DelegateSet",
    ]


def test_tx_result_event_lookup() -> None:
    def event(name: str, index: int) -> DecodedEvent:
        return DecodedEvent("InvoiceRegistry", name, {"i": index}, REGISTRY, 1, "0x", "0x", index)

    result = TxResult(
        receipt={}, events=[event("InvoiceConfirmed", 0), event("InvoiceConfirmed", 1), event("DelegateSet", 2)]
    )
    assert result.event("DelegateSet")["i"] == 2
    assert [e["i"] for e in result.events_named("InvoiceConfirmed")] == [0, 1]
    with pytest.raises(LookupError, match="found 2"):
        result.event("InvoiceConfirmed")
    with pytest.raises(LookupError, match="found 0"):
        result.event("InvoiceVoided")


def test_role_ids_match_the_solidity_library() -> None:
    assert Role.DEFAULT_ADMIN.id == bytes(32)
    assert Role.SUPPLIER.id == bytes(Web3.keccak(text="SUPPLIER_ROLE"))
    assert all(Role.from_id(role.id) is role for role in Role)
    assert Role.SYSTEM not in MEMBER_ROLES
    assert Role.KYC_REGISTRAR not in MEMBER_ROLES
    with pytest.raises(ValueError, match="unknown role id"):
        Role.from_id(b"\x01" * 32)


# --------------------------------------------------------------------------------- with the chain


def test_manifest_of_the_session_deployment_matches_the_chain(ledger: Ledger, tmp_path: Path) -> None:
    w3 = ledger.chain.w3
    path = tmp_path / "deployments.json"
    save_manifest(path, ledger.deployment)
    loaded = load_manifest(path, ledger.chain.chain_id)
    assert loaded == ledger.deployment
    assert set(loaded.contracts) == {"TestStablecoin", *SYSTEM_CONTRACTS}

    for name, record in loaded.contracts.items():
        code = bytes(w3.eth.get_code(record.address))
        runtime = bytes.fromhex(json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())["deployedBytecode"][2:])
        assert code, f"{name} has no code at {record.address}"
        # equal to the artifact's runtime code, except where immutables were filled in (zeros in the artifact)
        assert len(code) == len(runtime)
        assert [i for i, (a, b) in enumerate(zip(code, runtime, strict=True)) if a != b and b != 0] == [], name
        receipt = w3.eth.get_transaction_receipt(record.tx_hash)
        assert (receipt["contractAddress"], receipt["blockNumber"]) == (record.address, record.block_number)
    assert bytes(w3.eth.get_code(loaded.settlement_asset))
    assert loaded.settlement_asset == loaded.address("TestStablecoin")
    # the immutables point at the recorded contracts
    participants = loaded.address("Participants")
    assert ledger.invoices.functions.participants().call() == participants
    assert ledger.receivables.functions.participants().call() == participants
    assert ledger.receivables.functions.registry().call() == loaded.address("InvoiceRegistry")


def test_value_decimals_match_the_settlement_asset(ledger: Ledger) -> None:
    decimals = ledger.asset.functions.decimals().call()
    assert ledger.receivables.functions.valueDecimals().call() == decimals == 6


def test_client_refuses_amounts_beyond_uint96(ledger: Ledger, actors: Actors) -> None:
    fields = make_invoice(actors.supplier.address, actors.core.address, 2**96)
    with pytest.raises(InvalidInputError) as exc:
        ledger.as_supplier(actors.supplier).register_invoice(InvoiceRegistration(fields, bytes(32)), CONSORTIUM_KEY)
    assert (exc.value.name, exc.value.fields) == ("InvoiceAmountTooLarge", {"amount": 2**96})


def test_client_refuses_reason_codes_longer_than_32_bytes(ledger: Ledger, actors: Actors) -> None:
    fields = make_invoice(actors.supplier.address, actors.core.address, 5 * ONE)
    fp, _ = ledger.as_supplier(actors.supplier).register_invoice(InvoiceRegistration(fields, bytes(32)), CONSORTIUM_KEY)
    with pytest.raises(InvalidInputError) as exc:
        ledger.as_member(actors.supplier).void_invoice(fp, "x" * 33)
    assert (exc.value.name, exc.value.fields) == ("ReasonTooLong", {"reason": "x" * 33})
    assert (
        ledger.as_member(actors.supplier).void_invoice(fp, "x" * 32).event("InvoiceVoided")["reason"]
        == "0x" + "78" * 32
    )
