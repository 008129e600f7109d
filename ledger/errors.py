"""Errors raised by the ledger client: one base class, one subclass per failure a caller can act on.

Contract reverts are decoded from the custom errors in the compiled ABIs; the message of a
:class:`ContractRevertError` is the error's NatSpec text with its arguments, so it reads like
``InvoiceAlreadyRegistered: `fingerprint` is registered already, by `seller` at `registeredAt`.
(fingerprint=0x12…, seller=0xAb…, registeredAt=1732406400)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from ledger.artifacts import all_artifacts


class LedgerError(Exception):
    """Base of every error raised by scf-ledger."""


class ConfigurationError(LedgerError, ValueError):
    """The deployment manifest, key or endpoint configuration is missing or inconsistent."""


class ChainConnectionError(LedgerError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached or answers for another chain."""


class TransactionFailedError(LedgerError):
    """A transaction was mined but reverted without a decodable reason."""


class ContractRevertError(LedgerError):
    """A contract call reverted with a custom error, ``Error(string)`` or a panic.

    ``name`` is the Solidity error name, ``args`` its arguments by parameter name.
    """

    def __init__(self, name: str, args: dict[str, Any], doc: str = "", data: str = "") -> None:
        self.name = name
        self.fields = args
        self.data = data
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in args.items())
        super().__init__(f"{name}: {doc} ({rendered})" if doc else f"{name}({rendered})")


class AccessDeniedError(ContractRevertError):
    """The sender lacks the role, membership or ownership the action needs."""


class InvalidInputError(ContractRevertError):
    """The call's arguments are invalid for the contract's current state."""


_ACCESS_MARKERS = ("Unauthorized", "NotMember", "InvalidSignature", "AccessControl")


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    doc: str


def _canonical_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


@cache
def _error_table() -> dict[bytes, _ErrorAbi]:
    table: dict[bytes, _ErrorAbi] = {}
    for artifact in all_artifacts():
        for entry in artifact.abi_entries("error"):
            types = tuple(_canonical_type(p) for p in entry["inputs"])
            signature = f"{entry['name']}({','.join(types)})"
            table[function_signature_to_4byte_selector(signature)] = _ErrorAbi(
                name=entry["name"],
                names=tuple(p["name"] or f"arg{i}" for i, p in enumerate(entry["inputs"])),
                types=types,
                doc=artifact.error_docs.get(signature, ""),
            )
    table[function_signature_to_4byte_selector("Error(string)")] = _ErrorAbi("Error", ("message",), ("string",), "")
    table[function_signature_to_4byte_selector("Panic(uint256)")] = _ErrorAbi("Panic", ("code",), ("uint256",), "")
    return table


def decode_revert(data: str | bytes) -> ContractRevertError:
    """Turn raw revert data into the matching :class:`ContractRevertError` subclass."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
    hex_data = "0x" + raw.hex()
    if len(raw) < 4:
        return ContractRevertError("EmptyRevert", {}, "the call reverted without a reason", hex_data)
    error = _error_table().get(raw[:4])
    if error is None:
        return ContractRevertError("UnknownError", {"data": hex_data}, "revert data matches no known error", hex_data)
    try:
        values = abi_decode(list(error.types), raw[4:])
    except DecodingError:
        return ContractRevertError(
            "UnknownError", {"data": hex_data}, f"revert data does not decode as {error.name}", hex_data
        )
    args = {name: _normalize(value, kind) for name, value, kind in zip(error.names, values, error.types, strict=True)}
    cls = AccessDeniedError if any(m in error.name for m in _ACCESS_MARKERS) else InvalidInputError
    return cls(error.name, args, error.doc, hex_data)


def _normalize(value: Any, kind: str) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("bytes") and isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _render(value: Any) -> str:
    return str(value)
