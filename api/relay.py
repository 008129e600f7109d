"""The non-custodial relay: build a member's unsigned transaction, and forward its signed one.

Only transactions to our deployed contracts or the deployment's settlement asset (approving the vault or
the desk) on our chain id, signed by the signed-in member,
are forwarded, and only after a simulation shows they would not revert (a refusal comes back
as the contract's decoded custom error and nothing is broadcast).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3

from api.errors import ApiError
from ledger.chain import TxResult
from ledger.client import Ledger


@dataclass(frozen=True)
class SignedTx:
    sender: str
    to: str
    chain_id: int
    data: bytes
    value: int


def decode_signed(raw: bytes) -> SignedTx:
    """Sender, target, chain id, data and value of a raw signed transaction."""
    try:
        sender = Account.recover_transaction(HexBytes(raw))
        if raw and raw[0] <= 0x7F:  # EIP-2718 typed transaction
            fields: dict[str, Any] = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            chain_id, to, data, value = fields["chainId"], fields.get("to"), fields.get("data", b""), fields["value"]
        else:
            _, _, _, to, value, data, v, _, _ = rlp.decode(raw)
            v = int.from_bytes(v, "big")
            if v < 35:
                raise ApiError(422, "NoReplayProtection", "legacy transactions must carry a chain id (EIP-155)")
            chain_id, value = (v - 35) // 2, int.from_bytes(value, "big")
    except ApiError:
        raise
    except Exception as exc:  # rlp, signature and field errors all mean "not a signed transaction"
        raise ApiError(422, "InvalidTransaction", f"not a signed transaction: {exc}") from None
    if not to:
        raise ApiError(422, "ContractCreation", "contract creations are not relayed")
    to_hex = "0x" + (to.hex() if isinstance(to, bytes) else str(to).removeprefix("0x"))
    return SignedTx(Web3.to_checksum_address(sender), Web3.to_checksum_address(to_hex), int(chain_id),
                    bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data), int(value))


def relay(ledger: Ledger, caller: str, raw: bytes) -> TxResult:
    tx = decode_signed(raw)
    if tx.chain_id != ledger.chain.chain_id:
        raise ApiError(422, "WrongChain", f"signed for chain {tx.chain_id}; this is chain {ledger.chain.chain_id}")
    ours = {c.address for c in ledger.deployment.contracts.values()}
    ours.add(Web3.to_checksum_address(ledger.deployment.settlement_asset))
    if tx.to not in ours:
        raise ApiError(422, "ForeignContract", f"{tx.to} is not one of this deployment's contracts or its asset")
    if tx.sender != caller:
        raise ApiError(403, "NotYourTransaction", f"signed by {tx.sender}, but you signed in as {caller}")
    ledger.chain.simulate({"from": tx.sender, "to": tx.to, "data": tx.data, "value": tx.value})
    receipt = ledger.chain.send_raw(raw)
    return TxResult(receipt, ledger.decoder.decode_all(receipt["logs"]))
