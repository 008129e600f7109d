"""Request field types with clear validation errors."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, Field
from web3 import Web3


@lru_cache(maxsize=1 << 16)  # keccak per checksum: worth remembering for the addresses requests repeat
def _address(value: str) -> str:
    if not Web3.is_address(value):
        raise ValueError(f"{value!r} is not an Ethereum address")
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not Web3.is_checksum_address(value):
        raise ValueError(f"{value!r} is mixed-case but not its EIP-55 checksum (a typo?); send it in one case or "
                         "checksummed")
    return Web3.to_checksum_address(value)


def _bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value[2:]) if value.startswith("0x") else b""
    if len(raw) != 32:
        raise ValueError("expected 32 bytes as 0x-prefixed hex")
    return raw


def _hex_bytes(value: str) -> bytes:
    if not value.startswith("0x"):
        raise ValueError("expected 0x-prefixed hex")
    return bytes.fromhex(value[2:])


Address = Annotated[str, Field(max_length=42), AfterValidator(_address)]
Bytes32 = Annotated[str, Field(max_length=66), AfterValidator(_bytes32)]
HexBytes = Annotated[str, Field(max_length=1 << 17), AfterValidator(_hex_bytes)]
Uint256 = Annotated[int, Field(ge=0, lt=2**256)]
PositiveUint = Annotated[int, Field(gt=0, lt=2**256)]
