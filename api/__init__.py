"""scf-ledger HTTP API (FastAPI): non-custodial relay, sign-in with Ethereum, reads of the mirror."""
