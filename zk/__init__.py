"""Credit reports for scf-ledger: bureau-committed Poseidon trees, selective disclosure and
Groth16 predicate proofs (circom + snarkjs), verified off-chain or by the CreditGate contract.

Development keys only: the committed proving/verification keys come from a local ceremony
(``python -m zk ceremony``); a production deployment must run its own multi-party ceremony.
"""

from __future__ import annotations

ZK_DIR = __import__("pathlib").Path(__file__).resolve().parent
