"""Decoding of our contracts' event logs, keyed by emitting address and topic.

Decoding is by (address, topic0) because the same signature can carry different indexed
fields in different contracts (ERC-20 and ERC-721 ``Transfer``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3 import Web3
from web3._utils.events import get_event_data

from ledger.artifacts import load_artifact


@dataclass(frozen=True)
class DecodedEvent:
    """One decoded log of one of our contracts."""

    contract: str
    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


class EventDecoder:
    """Decodes logs of the contracts in ``contracts`` (artifact name by address)."""

    def __init__(self, w3: Web3, contracts: Mapping[str, str]) -> None:
        self._codec = w3.codec
        self._abis: dict[tuple[str, bytes], tuple[str, dict[str, Any]]] = {}
        for address, name in contracts.items():
            self.add(address, name)

    def add(self, address: str, name: str) -> None:
        """Also decode the events of contract ``name`` at ``address``."""
        for entry in load_artifact(name).abi_entries("event"):
            self._abis[(to_checksum_address(address), event_abi_to_log_topic(entry))] = (name, entry)

    @property
    def addresses(self) -> list[str]:
        return sorted({address for address, _ in self._abis})

    @property
    def topics(self) -> list[str]:
        return sorted({"0x" + topic.hex() for _, topic in self._abis})

    def decode(self, log: Mapping[str, Any]) -> DecodedEvent | None:
        """Decode ``log``; None when it is not one of our contracts' events."""
        if not log["topics"]:
            return None
        key = (to_checksum_address(log["address"]), bytes(log["topics"][0]))
        found = self._abis.get(key)
        if found is None:
            return None
        name, abi = found
        data = get_event_data(self._codec, abi, log)
        return DecodedEvent(
            contract=name,
            name=data["event"],
            args={k: _plain(v) for k, v in data["args"].items()},
            address=key[0],
            block_number=int(log["blockNumber"]),
            block_hash="0x" + bytes(log["blockHash"]).hex(),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            log_index=int(log["logIndex"]),
        )

    def decode_all(self, logs: Iterable[Mapping[str, Any]]) -> list[DecodedEvent]:
        return [event for event in map(self.decode, logs) if event is not None]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value
