"""JSON-RPC connection and transaction sending with locally held keys.

Private keys never leave the caller's process: transactions are signed here and sent raw. Every
transaction is simulated first (``eth_estimateGas``), so a revert surfaces as a decoded
:class:`~ledger.errors.ContractRevertError` before anything is broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError
from web3.types import RPCEndpoint, TxReceipt

from ledger.artifacts import load_artifact
from ledger.errors import ChainConnectionError, ContractRevertError, TransactionFailedError, decode_revert

GAS_MARGIN = 1.2


@dataclass
class TxResult:
    """A mined transaction: its receipt and the events our contracts emitted in it."""

    receipt: TxReceipt
    events: list[Any] = field(default_factory=list)

    @property
    def tx_hash(self) -> str:
        return "0x" + bytes(self.receipt["transactionHash"]).hex()

    @property
    def gas_used(self) -> int:
        return int(self.receipt["gasUsed"])

    @property
    def block_number(self) -> int:
        return int(self.receipt["blockNumber"])

    def event(self, name: str) -> Any:
        """The single event called ``name``; raises LookupError when absent or repeated."""
        found = [e for e in self.events if e.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {name} event, found {len(found)}")
        return found[0]

    def events_named(self, name: str) -> list[Any]:
        return [e for e in self.events if e.name == name]


class Chain:
    """A connection to one EVM chain through JSON-RPC."""

    def __init__(self, rpc_url: str, *, timeout: float = 30.0) -> None:
        self.rpc_url = rpc_url
        # web3 checks the chain id around every call; an endpoint's chain id never changes, so it is asked once
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, cache_allowed_requests=True,
                                         cacheable_requests={RPCEndpoint("eth_chainId")}))
        try:
            self.chain_id = self.w3.eth.chain_id
        except Exception as exc:  # requests/aiohttp raise many kinds; all mean "unreachable"
            raise ChainConnectionError(f"cannot reach JSON-RPC endpoint {rpc_url}: {exc}") from exc
        self._supports_1559 = "baseFeePerGas" in self.w3.eth.get_block("latest")

    def contract(self, name: str, address: str) -> Contract:
        """A web3 contract object for artifact ``name`` at ``address``."""
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name).abi)

    def deploy(self, account: LocalAccount, name: str, *args: Any) -> tuple[Contract, TxReceipt]:
        """Deploy artifact ``name`` with constructor ``args``; returns the contract and receipt."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._transact(account, factory.constructor(*args))
        return self.contract(name, receipt["contractAddress"]), receipt

    def send(self, account: LocalAccount, call: ContractFunction, *, value: int = 0) -> TxReceipt:
        """Simulate, sign and send ``call`` from ``account``; wait for and return the receipt."""
        return self._transact(account, call, value=value)

    def call(self, call: ContractFunction, *, sender: str | None = None) -> Any:
        """Run a view or simulate a call, decoding any revert."""
        try:
            return call.call({"from": sender} if sender else {})
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise _decoded(exc) from exc

    def build(self, sender: str, call: Any, *, value: int = 0) -> dict[str, Any]:
        """The unsigned transaction of ``call`` from ``sender``: simulated (a revert raises the
        decoded error), gas estimated with a margin, nonce and fee fields filled."""
        tx: dict[str, Any] = {"from": sender, "value": value, "chainId": self.chain_id}
        try:
            tx = call.build_transaction(tx)
            tx["gas"] = int(self.w3.eth.estimate_gas(tx) * GAS_MARGIN)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise _decoded(exc) from exc
        tx["nonce"] = self.w3.eth.get_transaction_count(sender, "pending")
        if not self._supports_1559:
            tx.pop("maxFeePerGas", None)
            tx.pop("maxPriorityFeePerGas", None)
            tx["gasPrice"] = self.w3.eth.gas_price
        return tx

    def simulate(self, tx: dict[str, Any]) -> None:
        """Run ``tx`` (from, to, data, value) as an eth_call; a revert raises the decoded error."""
        try:
            self.w3.eth.call(tx)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise _decoded(exc) from exc

    def send_raw(self, raw: bytes) -> TxReceipt:
        """Broadcast a signed transaction and wait for its receipt."""
        try:
            tx_hash = self.w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            raise TransactionFailedError(f"endpoint refused the transaction: {exc}") from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise TransactionFailedError(f"transaction {HexBytes(tx_hash).to_0x_hex()} reverted on-chain")
        return receipt

    def _transact(self, account: LocalAccount, call: Any, *, value: int = 0) -> TxReceipt:
        tx = self.build(account.address, call, value=value)
        return self.send_raw(account.sign_transaction(tx).raw_transaction)


def _decoded(exc: Exception) -> ContractRevertError:
    data = getattr(exc, "data", None)
    if isinstance(exc, ContractCustomError) and isinstance(data, str):
        return decode_revert(data)
    if isinstance(exc, ContractPanicError):
        return ContractRevertError("Panic", {"detail": str(exc)}, "arithmetic or assertion failure")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        return decode_revert(data)
    message = getattr(exc, "message", None) or str(exc)
    return ContractRevertError("Error", {"message": message})
