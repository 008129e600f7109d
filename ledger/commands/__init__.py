"""``scf`` sub-commands for business actions: thin shells over ledger.client."""
