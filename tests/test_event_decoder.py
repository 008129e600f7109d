"""The event decoder's fast path equals web3's reference decoding on every event of a full flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from rich.console import Console
from web3._utils.events import get_event_data

from ledger.artifacts import load_artifact
from ledger.demo import run_demo


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


def test_fast_decoding_equals_web3_reference_on_a_full_flow(tmp_path, chain):
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        ledger = run_demo(tmp_path, Console(quiet=True), chain.rpc_url).ledger
        logs = chain.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"})
        decoded = ledger.decoder.decode_all(logs)
        names = {e.name for e in decoded}
        assert {"SlotIssued", "ValueMoved", "Financed", "Redeemed", "BatchAnchored", "InvoiceRegistered"} <= names
        abis = {}
        for name, record in ledger.deployment.contracts.items():
            for entry in load_artifact(name).abi_entries("event"):
                abis[(record.address, event_abi_to_log_topic(entry))] = entry
        checked = 0
        for log, event in zip([log for log in logs if ledger.decoder.decode(log)], decoded, strict=True):
            reference = get_event_data(chain.w3.codec, abis[(event.address, bytes(log["topics"][0]))], log)
            assert event.name == reference["event"]
            assert event.args == {k: _plain(v) for k, v in reference["args"].items()}, event.name
            assert (event.block_number, event.log_index) == (reference["blockNumber"], reference["logIndex"])
            checked += 1
        assert checked == len(decoded) > 50
        # Raw JSON-RPC logs (hex strings, as the indexer fetches them) decode to the same events.
        raw = chain.w3.provider.make_request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])["result"]
        assert ledger.decoder.decode_all(raw) == decoded
    finally:
        chain.w3.provider.make_request("evm_revert", [snapshot])
