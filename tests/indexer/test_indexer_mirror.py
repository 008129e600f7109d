"""After random business actions, every mirrored table equals the chain read through its views."""

from __future__ import annotations

import pytest
from comparators import COMPARATORS, Truth, compare_all
from ix_fixtures import *  # noqa: F403  (fixtures)
from ix_fixtures import ALL_TABLES, rows_of
from scenario_helpers import Scenario

from indexer.handlers import registry


def _accounts(actors) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.address for a in vars(actors).values()]


def test_every_mirrored_table_has_a_comparator() -> None:
    tables = {m.__table__.name for m in ALL_TABLES}
    assert tables - set(COMPARATORS) == set()


def test_every_event_of_the_business_contracts_has_a_handler_or_is_raw_only() -> None:
    # Admin-delay bookkeeping, role-admin changes, EIP-712 domain changes and value allowances are kept in
    # raw_log only; everything else has a handler.
    raw_only = {("Participants", n) for n in ("DefaultAdminDelayChangeCanceled", "DefaultAdminDelayChangeScheduled",
                                              "DefaultAdminTransferCanceled", "DefaultAdminTransferScheduled",
                                              "RoleAdminChanged")}
    raw_only |= {(c, "EIP712DomainChanged") for c in ("ReceivableToken", "FinancingDesk", "EvidenceLedger")}
    raw_only |= {
                 ("ReceivableToken", "TransferValue"), ("ReceivableToken", "SlotChanged"),
                 ("ReceivableToken", "ApprovalValue"), ("CreditGate", "NonceIssued")}
    from ledger.artifacts import load_artifact
    from ledger.deployment import SYSTEM_CONTRACTS

    for contract in SYSTEM_CONTRACTS:
        for entry in load_artifact(contract).abi_entries("event"):
            key = (contract, entry["name"])
            assert key in registry or key in raw_only, key


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_mirror_equals_contract_views(ledger, actors, make_indexer, db_url, seed) -> None:  # type: ignore[no-untyped-def]
    scenario = Scenario(ledger, actors, seed).run(55)
    assert len(set(scenario.done)) >= 12, scenario.done
    indexer = make_indexer(db_url, confirmations=3)
    indexer.sync()
    compare_all(Truth(ledger, _accounts(actors)), rows_of(indexer))
    # More actions, then the same indexer catches up incrementally.
    scenario.run(20)
    indexer.sync()
    tables = rows_of(indexer)
    compare_all(Truth(ledger, _accounts(actors)), tables)
    assert all(r["final"] == (r["block_number"] <= indexer.state().safe_block)
               for rows in tables.values() for r in rows if "final" in r)
