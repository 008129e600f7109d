"""Decoding of our contracts' event logs, keyed by emitting address and topic.

Decoding is by (address, topic0) because the same signature can carry different indexed
fields in different contracts (ERC-20 and ERC-721 ``Transfer``). Each event's decoding plan is
built once: static words are read straight from the log, anything dynamic goes through one
prebuilt eth_abi decoder, and checksummed addresses are cached. Values come out plain: ints,
checksummed addresses, 0x-hex for bytes, dicts for structs, lists for arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.decoding import ContextFramesBytesIO
from eth_abi.registry import registry
from eth_utils import event_abi_to_log_topic, to_checksum_address

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


@dataclass(frozen=True)
class _Plan:
    contract: str
    event: str
    indexed: tuple[tuple[str, Callable[[bytes], Any]], ...]  # (name, word -> value)
    plain_names: tuple[str, ...]
    plain_static: tuple[tuple[int, Callable[[bytes], Any]], ...] | None  # (words, reader), when all are static
    plain_decoder: Any  # eth_abi TupleDecoder for the data, when anything is dynamic
    plain_shapers: tuple[Callable[[Any], Any], ...]


class EventDecoder:
    """Decodes logs of the contracts in ``contracts`` (artifact name by address)."""

    def __init__(self, contracts: Mapping[str, str]) -> None:
        self._plans: dict[tuple[str, bytes], _Plan] = {}
        self._added: set[tuple[str, str]] = set()
        for address, name in contracts.items():
            self.add(address, name)

    def add(self, address: str, name: str) -> None:
        """Also decode the events of contract ``name`` at ``address`` (a no-op when already known)."""
        key = (to_checksum_address(address), name)
        if key in self._added:
            return
        self._added.add(key)
        for entry in load_artifact(name).abi_entries("event"):
            self._plans[(to_checksum_address(address), event_abi_to_log_topic(entry))] = _plan(name, entry)

    @property
    def addresses(self) -> list[str]:
        return sorted({address for address, _ in self._plans})

    @property
    def topics(self) -> list[str]:
        return sorted({"0x" + topic.hex() for _, topic in self._plans})

    def decode(self, log: Mapping[str, Any]) -> DecodedEvent | None:
        """Decode ``log``; None when it is not one of our contracts' events."""
        topics = log["topics"]
        if not topics:
            return None
        address = _checksum(_hex(log["address"]))
        plan = self._plans.get((address, _bytes(topics[0])))
        if plan is None:
            return None
        args = {name: word(_bytes(topic)) for (name, word), topic in zip(plan.indexed, topics[1:], strict=True)}
        data = _bytes(log["data"])
        if plan.plain_static is not None:
            offset = 0
            for name, (words, read) in zip(plan.plain_names, plan.plain_static, strict=True):
                args[name] = read(data[offset : offset + 32 * words])
                offset += 32 * words
        elif plan.plain_names:
            values = plan.plain_decoder(ContextFramesBytesIO(data))
            for name, shape, value in zip(plan.plain_names, plan.plain_shapers, values, strict=True):
                args[name] = shape(value)
        return DecodedEvent(
            contract=plan.contract,
            name=plan.event,
            args=args,
            address=address,
            block_number=_number(log["blockNumber"]),
            block_hash=_hex(log["blockHash"]),
            tx_hash=_hex(log["transactionHash"]),
            log_index=_number(log["logIndex"]),
        )

    def decode_all(self, logs: Iterable[Mapping[str, Any]]) -> list[DecodedEvent]:
        return [event for event in map(self.decode, logs) if event is not None]


def _plan(contract: str, entry: dict[str, Any]) -> _Plan:
    indexed = tuple((i["name"], _word_reader(i)) for i in entry["inputs"] if i["indexed"])
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    readers = [_static_reader(i["type"]) for i in plain]
    all_static = all(r is not None for r in readers)
    return _Plan(
        contract=contract,
        event=entry["name"],
        indexed=indexed,
        plain_names=tuple(i["name"] for i in plain),
        plain_static=tuple(readers) if all_static else None,  # type: ignore[arg-type]
        plain_decoder=None if all_static else registry.get_decoder("(" + ",".join(_abi_type(i) for i in plain) + ")"),
        plain_shapers=tuple(_shaper(i) for i in plain),
    )


def _word_reader(spec: dict[str, Any]) -> Callable[[bytes], Any]:
    """Indexed values: static types are the word itself; dynamic ones are only their keccak hash."""
    return _static_word_reader(spec["type"]) or _hex


def _static_reader(kind: str) -> tuple[int, Callable[[bytes], Any]] | None:
    """(words, reader) for a static type: a word, or a fixed-size array of words; None if dynamic."""
    if kind.endswith("]"):
        inner, size = kind[: kind.rindex("[")], kind[kind.rindex("[") + 1 : -1]
        element = _static_word_reader(inner)
        if not size or element is None:
            return None
        count = int(size)
        return count, lambda data: [element(data[32 * i : 32 * i + 32]) for i in range(count)]
    word = _static_word_reader(kind)
    return None if word is None else (1, word)


def _static_word_reader(kind: str) -> Callable[[bytes], Any] | None:
    if kind.endswith("]") or kind.startswith("tuple") or kind in ("string", "bytes"):
        return None
    if kind.startswith("uint"):
        return _uint
    if kind.startswith("int"):
        return _int
    if kind == "address":
        return _address
    if kind == "bool":
        return _bool
    if kind.startswith("bytes"):
        size = int(kind[5:])
        return lambda word: "0x" + word[:size].hex()
    return None


def _shaper(spec: dict[str, Any]) -> Callable[[Any], Any]:
    """How an eth_abi value of ``spec``'s type becomes a plain value."""
    kind = spec["type"]
    if kind.endswith("]"):
        inner = _shaper({**spec, "type": kind[: kind.rindex("[")]})
        return lambda values: [inner(v) for v in values]
    if kind == "tuple":
        parts = [(c["name"], _shaper(c)) for c in spec["components"]]
        return lambda values: {name: shape(v) for (name, shape), v in zip(parts, values, strict=True)}
    if kind == "address":
        return lambda value: _checksum(value.lower())
    if kind.startswith("bytes"):
        return lambda value: "0x" + bytes(value).hex()
    return lambda value: value


def _abi_type(spec: dict[str, Any]) -> str:
    if spec["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in spec["components"]) + ")" + spec["type"][5:]
    return spec["type"]


def _uint(word: bytes) -> int:
    return int.from_bytes(word, "big")


def _int(word: bytes) -> int:
    return int.from_bytes(word, "big", signed=True)


def _bool(word: bytes) -> bool:
    return word[-1] == 1


def _address(word: bytes) -> str:
    return _checksum("0x" + word[12:].hex())


def _hex(value: Any) -> str:
    """0x-hex of bytes, or of a hex string as JSON-RPC returns it."""
    if isinstance(value, str):
        return value.lower()
    return "0x" + bytes(value).hex()


def _bytes(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _number(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


@lru_cache(maxsize=1 << 16)
def _checksum(lower_hex_address: str) -> str:
    return to_checksum_address(lower_hex_address)
