"""Business actions and state reads over one deployment, one class per role.

``Ledger`` reads state and decodes events; ``Ledger.as_*`` binds a locally held key to the
actions of a role. Every action simulates first and raises a decoded
:class:`~ledger.errors.ContractRevertError` (with the Solidity error name and arguments) on a
refusal; on success it returns a :class:`~ledger.chain.TxResult` with the decoded events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger import actions
from ledger.chain import Chain, TxResult
from ledger.deployment import Deployment
from ledger.errors import InvalidInputError
from ledger.events import EventDecoder
from ledger.fingerprint import Fingerprints, InvoiceFields, fingerprint
from ledger.records import HoldingRecord, InvoiceRecord, InvoiceStatus, MemberRecord, PayableRecord
from ledger.roles import MEMBER_ROLES, Role

ACCEPT_TYPES = {
    "Accept": [
        {"name": "tokenId", "type": "uint256"},
        {"name": "holder", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


@dataclass(frozen=True)
class IssueRequest:
    """A payable a core enterprise confirms to its supplier ``holder``."""

    holder: str
    face_value: int
    maturity: int
    invoices: Sequence[bytes]
    grace_period: int = 7 * 86400
    default_period: int = 90 * 86400
    asset: str | None = None


@dataclass(frozen=True)
class InvoiceRegistration:
    """What a seller submits for one invoice."""

    fields: InvoiceFields
    document_hash: bytes
    asset: str | None = None


class Ledger:
    """One deployment of the system on one chain."""

    def __init__(self, chain: Chain, deployment: Deployment) -> None:
        self.chain = chain
        self.deployment = deployment
        self.participants = chain.contract("Participants", deployment.address("Participants"))
        self.invoices = chain.contract("InvoiceRegistry", deployment.address("InvoiceRegistry"))
        self.receivables = chain.contract("ReceivableToken", deployment.address("ReceivableToken"))
        self.asset = chain.contract("TestStablecoin", deployment.settlement_asset)
        contracts = {c.address: name for name, c in deployment.contracts.items()}
        self.decoder = EventDecoder(contracts)

    def address(self, name: str) -> str:
        """Address of deployed contract ``name`` (e.g. "SettlementVault")."""
        return self.deployment.address(name)

    # ---------------------------------------------------------------- plumbing

    def execute(self, account: LocalAccount, call: Any) -> TxResult:
        """Send ``call`` from ``account`` and decode the events of our contracts."""
        receipt = self.chain.send(account, call)
        return TxResult(receipt, self.decoder.decode_all(receipt["logs"]))

    # ------------------------------------------------------------------- reads

    def member(self, address: str) -> MemberRecord:
        name_hash, valid_until, admitted_at = self.participants.functions.memberOf(address).call()
        roles = frozenset(r for r in MEMBER_ROLES if self.participants.functions.hasRole(r.id, address).call())
        return MemberRecord(
            address=Web3.to_checksum_address(address),
            name_hash=bytes(name_hash),
            valid_until=valid_until,
            admitted_at=admitted_at,
            roles=roles,
            is_member=self.participants.functions.isMember(address).call(),
        )

    def has_role(self, role: Role, address: str) -> bool:
        return bool(self.participants.functions.hasRole(role.id, address).call())

    def invoice(self, fingerprint_: bytes) -> InvoiceRecord:
        seller, status, registered_at, buyer, slot, asset, amount, document_hash = self.invoices.functions.invoiceOf(
            fingerprint_
        ).call()
        return InvoiceRecord(
            bytes(fingerprint_),
            seller,
            InvoiceStatus(status),
            registered_at,
            buyer,
            slot,
            asset,
            amount,
            bytes(document_hash),
        )

    def payable(self, slot: int) -> PayableRecord:
        debtor, maturity, grace, default, asset, issued_at, face, redeemed = self.receivables.functions.slotData(
            slot
        ).call()
        return PayableRecord(slot, debtor, maturity, grace, default, asset, issued_at, face, redeemed)

    def holding(self, token_id: int) -> HoldingRecord:
        fn = self.receivables.functions
        return HoldingRecord(
            token_id=token_id,
            owner=self.chain.call(fn.ownerOf(token_id)),
            slot=fn.slotOf(token_id).call(),
            value=fn.balanceOf(token_id).call(),
            frozen=fn.frozenOf(token_id).call(),
            encumbered=fn.encumberedOf(token_id).call(),
            accepted=fn.isAccepted(token_id).call(),
        )

    def token_exists(self, token_id: int) -> bool:
        try:
            self.chain.call(self.receivables.functions.ownerOf(token_id))
        except InvalidInputError:
            return False
        return True

    def asset_balance(self, address: str) -> int:
        return int(self.asset.functions.balanceOf(address).call())

    # ------------------------------------------------------------------ actors

    def as_admin(self, account: LocalAccount) -> Admin:
        return Admin(self, account)

    def as_registrar(self, account: LocalAccount) -> Registrar:
        return Registrar(self, account)

    def as_member(self, account: LocalAccount) -> Member:
        return Member(self, account)

    def as_supplier(self, account: LocalAccount) -> Supplier:
        return Supplier(self, account)

    def as_core(self, account: LocalAccount) -> CoreEnterprise:
        return CoreEnterprise(self, account)

    def as_regulator(self, account: LocalAccount) -> Regulator:
        return Regulator(self, account)


class _Actor:
    def __init__(self, ledger: Ledger, account: LocalAccount) -> None:
        self.ledger = ledger
        self.account = account

    @property
    def address(self) -> str:
        return self.account.address

    def _run(self, call: Any) -> TxResult:
        return self.ledger.execute(self.account, call)


class Admin(_Actor):
    """The consortium's default admin: appoints KYC registrars and system contracts."""

    def grant(self, role: Role, account: str) -> TxResult:
        return self._run(self.ledger.participants.functions.grantRole(role.id, account))

    def revoke(self, role: Role, account: str) -> TxResult:
        return self._run(self.ledger.participants.functions.revokeRole(role.id, account))


class Member(_Actor):
    """Actions open to every member: buyers' confirmations and holders' moves of claims."""

    def confirm_invoices(self, fingerprints: Sequence[bytes]) -> TxResult:
        return self._run(actions.confirm_invoices(self.ledger, fingerprints))

    def void_invoice(self, fingerprint_: bytes, reason: str = "") -> TxResult:
        return self._run(actions.void_invoice(self.ledger, fingerprint_, _bytes32(reason)))

    def accept(self, token_id: int) -> TxResult:
        return self._run(actions.accept(self.ledger, token_id))

    def sign_acceptance(self, token_id: int, deadline: int, *, holder: str | None = None) -> bytes:
        """EIP-712 ``Accept`` signature for ``token_id`` (``holder``: a wallet this key signs for)."""
        holder = holder or self.address
        token = self.ledger.receivables
        message = {
            "tokenId": token_id,
            "holder": Web3.to_checksum_address(holder),
            "nonce": token.functions.nonces(holder).call(),
            "deadline": deadline,
        }
        domain = {
            "name": "scf-ledger ReceivableToken",
            "version": "1",
            "chainId": self.ledger.chain.chain_id,
            "verifyingContract": token.address,
        }
        signable = encode_typed_data(domain_data=domain, message_types=ACCEPT_TYPES, message_data=message)
        return bytes(self.account.sign_message(signable).signature)

    def accept_with_signature(self, token_id: int, deadline: int, signature: bytes) -> TxResult:
        """Relay a holder's signed acceptance (anyone may send it)."""
        return self._run(actions.accept_with_signature(self.ledger, token_id, deadline, signature))

    def split(self, token_id: int, to: str, value: int) -> tuple[int, TxResult]:
        """Move ``value`` of ``token_id`` into a new token for ``to``; returns the new token id."""
        result = self._run(actions.split(self.ledger, token_id, to, value))
        # The first ValueMoved is this split's; a receiver's callback may add its own after it.
        return result.events_named("ValueMoved")[0]["toTokenId"], result

    def transfer_value(self, from_token_id: int, to_token_id: int, value: int) -> TxResult:
        return self._run(actions.transfer_value(self.ledger, from_token_id, to_token_id, value))

    def transfer_token(self, token_id: int, to: str, *, owner: str | None = None, safe: bool = False) -> TxResult:
        return self._run(actions.transfer_token(self.ledger, owner or self.address, to, token_id, safe))

    def merge(self, from_token_id: int, to_token_id: int) -> TxResult:
        return self._run(actions.merge(self.ledger, from_token_id, to_token_id))

    def approve_value(self, token_id: int, operator: str, value: int) -> TxResult:
        return self._run(actions.approve_value(self.ledger, token_id, operator, value))

    def approve_token(self, operator: str, token_id: int) -> TxResult:
        return self._run(actions.approve_token(self.ledger, operator, token_id))

    def set_approval_for_all(self, operator: str, approved: bool) -> TxResult:
        return self._run(actions.set_approval_for_all(self.ledger, operator, approved))


class Supplier(Member):
    """A seller: registers its invoices (or those of sellers that named it their delegate)."""

    def set_delegate(self, delegate: str, allowed: bool = True) -> TxResult:
        return self._run(actions.set_delegate(self.ledger, delegate, allowed))

    def fingerprints(self, fields: InvoiceFields, key: bytes) -> Fingerprints:
        return fingerprint(fields, key)

    def register_invoice(self, registration: InvoiceRegistration, key: bytes) -> tuple[bytes, TxResult]:
        """Register one invoice; returns its fingerprint."""
        prints, item = actions.invoice_input(self.ledger, registration, key)
        return prints.full, self._run(actions.register_invoice(self.ledger, item))

    def register_invoices(
        self, registrations: Sequence[InvoiceRegistration], key: bytes
    ) -> tuple[list[bytes], TxResult]:
        """Register many invoices in one transaction; returns their fingerprints in order."""
        built = [actions.invoice_input(self.ledger, r, key) for r in registrations]
        result = self._run(actions.register_invoices(self.ledger, [item for _, item in built]))
        return [prints.full for prints, _ in built], result


class CoreEnterprise(Member):
    """A debtor: confirms payables to its suppliers as receivable tokens."""

    def issue(self, request: IssueRequest) -> tuple[int, int, TxResult]:
        """Issue a payable; returns (slot, token id, result)."""
        result = self._run(actions.issue(self.ledger, request))
        event = result.event("SlotIssued")
        return event["slot"], event["tokenId"], result


class Registrar(_Actor):
    """A KYC registrar: admits, renews and removes members."""

    def admit(self, account: str, name: str, roles: Sequence[Role], valid_until: int) -> TxResult:
        name_hash = Web3.keccak(text=name)
        return self._run(
            self.ledger.participants.functions.admit(account, name_hash, valid_until, [r.id for r in roles])
        )

    def renew(self, account: str, valid_until: int) -> TxResult:
        return self._run(self.ledger.participants.functions.renew(account, valid_until))

    def remove(self, account: str) -> TxResult:
        return self._run(self.ledger.participants.functions.remove(account))

    def grant(self, role: Role, account: str) -> TxResult:
        return self._run(self.ledger.participants.functions.grantRole(role.id, account))


class Regulator(Member):
    """A regulator: freezes value and pauses moves."""

    def set_frozen(self, token_id: int, frozen: int, reason: str = "") -> TxResult:
        return self._run(self.ledger.receivables.functions.setFrozen(token_id, frozen, _bytes32(reason)))

    def pause(self) -> TxResult:
        return self._run(self.ledger.receivables.functions.pause())

    def unpause(self) -> TxResult:
        return self._run(self.ledger.receivables.functions.unpause())


def _bytes32(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 32:
        raise InvalidInputError("ReasonTooLong", {"reason": text}, "a reason code has at most 32 bytes")
    return raw.ljust(32, b"\0")
