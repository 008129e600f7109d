"""Python clients of CreditRegistry and CreditGate (deployment and calls through ledger.Chain)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from ledger.chain import Chain
from ledger.client import Ledger
from zk.prover import Proof


@dataclass
class CreditContracts:
    chain: Chain
    verifier: Contract
    registry: Contract
    gate: Contract

    @classmethod
    def deploy(
        cls, chain: Chain, deployer: LocalAccount, participants: str, desk: str, *, pass_lifetime: int = 86400
    ) -> CreditContracts:
        verifier, _ = chain.deploy(deployer, "CreditVerifier")
        registry, _ = chain.deploy(deployer, "CreditRegistry", participants)
        gate, _ = chain.deploy(deployer, "CreditGate", participants, registry.address, verifier.address, desk,
                               pass_lifetime)
        return cls(chain, verifier, registry, gate)

    @classmethod
    def of(cls, ledger: Ledger) -> CreditContracts:
        """The credit contracts of ``ledger``'s deployment (deploy_system deploys them)."""
        chain = ledger.chain
        return cls(chain, chain.contract("CreditVerifier", ledger.address("CreditVerifier")),
                   chain.contract("CreditRegistry", ledger.address("CreditRegistry")),
                   chain.contract("CreditGate", ledger.address("CreditGate")))

    # ---------------------------------------------------------------- registry
    def register(self, bureau: LocalAccount, root: int, subject: str, document_hash: bytes, expiry: int):
        return self.chain.send(bureau, self.registry.functions.register(root, subject, document_hash, expiry))

    def revoke(self, bureau: LocalAccount, root: int):
        return self.chain.send(bureau, self.registry.functions.revoke(root))

    def is_valid(self, root: int, subject: str) -> bool:
        return bool(self.registry.functions.isValid(root, subject).call())

    # -------------------------------------------------------------------- gate
    def set_policy(self, lender: LocalAccount, policy_hash: int):
        return self.chain.send(lender, self.gate.functions.setPolicy(policy_hash))

    def issue_nonce(self, lender: LocalAccount) -> int:
        receipt = self.chain.send(lender, self.gate.functions.issueNonce())
        (event,) = self.gate.events.NonceIssued().process_receipt(receipt)
        return int(event["args"]["nonce"])

    def submit_proof(self, lender: LocalAccount, holder: str, proof: Proof):
        s = proof.signals
        a, b, c = proof.calldata()
        call = self.gate.functions.submitProof(holder, s["root"], s["today"], s["nonce"], a, b, c)
        return self.chain.send(lender, call)

    def verify_on_chain(self, proof: Proof) -> bool:
        """The bare verifier contract (view): for benchmarks and cross-checks."""
        a, b, c = proof.calldata()
        return bool(self.verifier.functions.verifyProof(a, b, c, list(proof.public_signals)).call())
