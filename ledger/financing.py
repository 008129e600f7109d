"""Financing of claims through the FinancingDesk: EIP-712 offers, discounting, pledges, loans."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger import actions
from ledger.chain import TxResult
from ledger.client import Ledger
from ledger.evidence_verify import ERC1271_ABI, ERC1271_MAGIC

OFFER_TYPES = {
    "Offer": [
        {"name": "lender", "type": "address"},
        {"name": "holder", "type": "address"},
        {"name": "tokenId", "type": "uint256"},
        {"name": "slot", "type": "uint256"},
        {"name": "value", "type": "uint256"},
        {"name": "kind", "type": "uint8"},
        {"name": "settlement", "type": "uint8"},
        {"name": "rateBps", "type": "uint32"},
        {"name": "penaltyBps", "type": "uint32"},
        {"name": "fixedPrice", "type": "uint256"},
        {"name": "fee", "type": "uint256"},
        {"name": "recourse", "type": "bool"},
        {"name": "expiry", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
    ]
}
ZERO_ADDRESS = "0x" + "0" * 40
BPS_YEAR = 10_000 * 365 * 86400


class Kind(IntEnum):
    DISCOUNT = 0
    PLEDGE = 1


class Settlement(IntEnum):
    TOKEN = 0
    BANK_ATTESTED = 1


@dataclass(frozen=True)
class Offer:
    """Financing terms, signed by one party and executed by the other (see IFinancingDesk.Offer)."""

    lender: str
    value: int
    expiry: int
    nonce: int
    token_id: int = 0
    slot: int = 0
    holder: str = ZERO_ADDRESS
    kind: Kind = Kind.DISCOUNT
    settlement: Settlement = Settlement.TOKEN
    rate_bps: int = 0
    penalty_bps: int = 0
    fixed_price: int = 0
    fee: int = 0
    recourse: bool = False

    def as_tuple(self) -> tuple:
        """Field order of the Solidity struct."""
        return (
            Web3.to_checksum_address(self.lender), Web3.to_checksum_address(self.holder), self.token_id, self.slot,
            self.value, int(self.kind), int(self.settlement), self.rate_bps, self.penalty_bps, self.fixed_price,
            self.fee, self.recourse, self.expiry, self.nonce,
        )

    def as_message(self) -> dict:
        names = [f["name"] for f in OFFER_TYPES["Offer"]]
        return dict(zip(names, self.as_tuple(), strict=True))


def discount_price(value: int, rate_bps: int, seconds_to_maturity: int) -> int:
    """The desk's discount price (ACT/365, discount rounded down)."""
    discount = value * rate_bps * seconds_to_maturity // BPS_YEAR
    return 0 if discount >= value else value - discount


def offer_price(offer: Offer, maturity: int, now: int) -> int | None:
    """What the desk would pay (discount) or lend (pledge) for ``offer`` at time ``now`` on a payable maturing
    at ``maturity``, as its ``_price`` computes it; None for a pledge without a principal (the desk refuses it)."""
    if offer.fixed_price:
        return offer.fixed_price
    if offer.kind == Kind.PLEDGE:
        return None
    return discount_price(offer.value, offer.rate_bps, max(0, maturity - now))


def offer_domain(chain_id: int, desk: str) -> dict:
    """The EIP-712 domain of offers signed for the desk at ``desk``."""
    return {"name": "scf-ledger FinancingDesk", "version": "1", "chainId": chain_id,
            "verifyingContract": Web3.to_checksum_address(desk)}


def offer_signer(offer: Offer, signature: bytes, chain_id: int, desk: str) -> str | None:
    """The address whose key signed ``offer`` for the desk (EOA signatures); None when it is not a signature."""
    signable = encode_typed_data(domain_data=offer_domain(chain_id, desk), message_types=OFFER_TYPES,
                                 message_data=offer.as_message())
    try:
        return str(Account.recover_message(signable, signature=signature))
    except Exception:  # eth_keys raises several kinds for a malformed signature
        return None


def signed_by(ledger: Ledger, desk: str, offer: Offer, signature: bytes, signer: str) -> bool:
    """Whether ``signature`` is ``signer``'s over ``offer`` for the desk, as the desk checks it: ECDSA for an
    account without code, ERC-1271 ``isValidSignature`` on the desk's digest for a contract wallet."""
    if not ledger.chain.w3.eth.get_code(Web3.to_checksum_address(signer)):
        recovered = offer_signer(offer, signature, ledger.chain.chain_id, desk)
        return recovered is not None and recovered.lower() == signer.lower()
    digest = ledger.chain.contract("FinancingDesk", desk).functions.hashOffer(offer.as_tuple()).call()
    wallet = ledger.chain.w3.eth.contract(address=Web3.to_checksum_address(signer), abi=ERC1271_ABI)
    try:
        return bytes(wallet.functions.isValidSignature(digest, signature).call()) == ERC1271_MAGIC
    except Exception:  # a wallet that reverts or answers garbage does not accept the signature
        return False


class FinancingDesk:
    """Client of one FinancingDesk contract."""

    def __init__(self, ledger: Ledger, address: str) -> None:
        self.ledger = ledger
        self.contract = ledger.chain.contract("FinancingDesk", address)
        ledger.decoder.add(address, "FinancingDesk")

    def sign(self, account: LocalAccount, offer: Offer) -> bytes:
        """EIP-712 signature of ``offer`` by ``account`` (the lender, or the holder for requests)."""
        domain = offer_domain(self.ledger.chain.chain_id, self.contract.address)
        signable = encode_typed_data(domain_data=domain, message_types=OFFER_TYPES, message_data=offer.as_message())
        return bytes(account.sign_message(signable).signature)

    def take_offer(self, holder: LocalAccount, offer: Offer, token_id: int, lender_signature: bytes) -> TxResult:
        call = actions.take_offer(self.ledger, self.contract.address, offer, token_id, lender_signature)
        return self.ledger.execute(holder, call)

    def execute_request(self, lender: LocalAccount, offer: Offer, token_id: int, holder_signature: bytes,
                        bank_reference: bytes = b"\0" * 32) -> TxResult:
        call = self.contract.functions.executeRequest(offer.as_tuple(), token_id, holder_signature, bank_reference)
        return self.ledger.execute(lender, call)

    def repay(self, payer: LocalAccount, loan_id: int) -> TxResult:
        return self.ledger.execute(payer, actions.repay(self.ledger, self.contract.address, loan_id))

    def attest_repayment(self, lender: LocalAccount, loan_id: int) -> TxResult:
        return self.ledger.execute(lender, self.contract.functions.attestRepayment(loan_id))

    def seize(self, lender: LocalAccount, loan_id: int) -> TxResult:
        return self.ledger.execute(lender, self.contract.functions.seize(loan_id))

    def exercise_recourse(self, lender: LocalAccount, financing_id: int) -> tuple[int, int, TxResult]:
        """Hand a defaulted claim bought with recourse back to its seller; returns the recourse
        payable's (slot, token id) that the seller now owes the lender."""
        result = self.ledger.execute(lender, self.contract.functions.exerciseRecourse(financing_id))
        event = result.event("RecourseExercised")
        return event["recourseSlot"], event["recourseTokenId"], result

    def set_policy(self, lender: LocalAccount, policy: str) -> TxResult:
        return self.ledger.execute(lender, self.contract.functions.setPolicy(policy))

    def cancel_nonce(self, signer: LocalAccount, nonce: int) -> TxResult:
        return self.ledger.execute(signer, actions.cancel_nonce(self.ledger, self.contract.address, nonce))

    def amount_due(self, loan_id: int) -> tuple[int, int]:
        principal, interest = self.contract.functions.amountDue(loan_id).call()
        return int(principal), int(interest)

    def loan(self, loan_id: int) -> dict:
        names = ["lender", "rateBps", "penaltyBps", "recourse", "status", "borrower", "start", "maturity", "tokenId",
                 "value", "principal"]
        return dict(zip(names, self.contract.functions.loan(loan_id).call(), strict=True))
