"""scf-ledger chain client: contract artifacts, deployment, business actions and event decoding."""

from ledger.errors import ContractRevertError, LedgerError

__all__ = ["ContractRevertError", "LedgerError"]
