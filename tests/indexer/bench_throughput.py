"""Indexer throughput on SQLite: events applied per second in a backfill from scratch, beside a naive
baseline (one ORM object and one commit per event). Not collected by pytest; run:

    .venv/bin/python tests/indexer/bench_throughput.py [EVENTS]

Prints one JSON line. (Meant to move to bench/indexer.py.)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import date
from functools import lru_cache
from pathlib import Path

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from sqlmodel import Session
from web3 import Web3

from indexer import Indexer
from indexer.db import make_engine, upgrade
from indexer.models import Invoice, RawLog
from ledger.anvil import Anvil, dev_accounts
from ledger.chain import Chain
from ledger.client import InvoiceRegistration, Ledger
from ledger.deployment import deploy_system
from ledger.events import DecodedEvent, EventDecoder
from ledger.fingerprint import InvoiceFields
from ledger.roles import Role

KEY = b"bench-consortium-key-0123456789"
PER_TX = 500


class FastDecoder(EventDecoder):
    """PROTOTYPE of a fast path for ledger.events.EventDecoder (belongs in ledger/events.py): eth_abi decoders
    compiled once per (address, topic0), checksummed addresses cached. Same DecodedEvent output."""

    def __init__(self, w3: Web3, contracts: dict[str, str]) -> None:
        super().__init__(w3, contracts)
        self._compiled: dict[tuple[str, bytes], tuple] = {}
        for key, (name, abi) in self._abis.items():
            indexed = [i for i in abi["inputs"] if i["indexed"]]
            plain = [i for i in abi["inputs"] if not i["indexed"]]
            self._compiled[key] = (name, abi["name"], indexed, plain, [_abi_type(i) for i in plain])

    def decode(self, log):  # type: ignore[no-untyped-def]
        topics = log["topics"]
        if not topics:
            return None
        key = (_checksum(log["address"]), bytes(topics[0]))
        found = self._compiled.get(key)
        if found is None:
            return None
        contract, name, indexed, plain, types = found
        args = {}
        for spec, topic in zip(indexed, topics[1:], strict=True):
            args[spec["name"]] = _value(spec, abi_decode([spec["type"]], bytes(topic))[0])
        for spec, value in zip(plain, abi_decode(types, bytes(log["data"])), strict=True):
            args[spec["name"]] = _value(spec, value)
        return DecodedEvent(contract, name, args, key[0], int(log["blockNumber"]), "0x" + bytes(log["blockHash"]).hex(),
                            "0x" + bytes(log["transactionHash"]).hex(), int(log["logIndex"]))


@lru_cache(maxsize=65536)
def _checksum(address: str) -> str:
    return to_checksum_address(address)


def _abi_type(spec: dict) -> str:
    if spec["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in spec["components"]) + ")" + spec["type"][5:]
    return spec["type"]


def _value(spec: dict, value):  # type: ignore[no-untyped-def]
    kind = spec["type"]
    if kind == "tuple":
        return {c["name"]: _value(c, v) for c, v in zip(spec["components"], value, strict=True)}
    if kind.endswith("]"):
        inner = {**spec, "type": kind[: kind.rindex("[")]}
        return [_value(inner, v) for v in value]
    if kind == "address":
        return _checksum(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def generate(ledger: Ledger, keys: list, events: int) -> int:  # type: ignore[type-arg]
    _admin, registrar, core, supplier = keys[:4]
    kyc = ledger.as_registrar(registrar)
    until = int(time.time()) + 365 * 86400
    kyc.admit(core.address, "core", [Role.CORE_ENTERPRISE], until)
    kyc.admit(supplier.address, "supplier", [Role.SUPPLIER], until)
    seller, buyer = ledger.as_supplier(supplier), ledger.as_member(core)
    made, n = 0, 0
    while made < events:
        regs = []
        for _ in range(PER_TX):
            n += 1
            fields = InvoiceFields(supplier.address, core.address, f"T-{n:08d}", 1000 + n, "CNY", date(2026, 11, 1))
            regs.append(InvoiceRegistration(fields, document_hash=os.urandom(32)))
        prints, _ = seller.register_invoices(regs, KEY)
        buyer.confirm_invoices(prints)
        made += 2 * len(prints)
    return made


def naive(rpc_url: str, db_url: str, ledger: Ledger) -> tuple[int, float]:
    """web3 get_logs + decode, then an ORM object and a commit per event (what a first cut would do)."""
    engine = make_engine(db_url)
    upgrade(engine)
    started = time.perf_counter()
    logs = ledger.chain.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest",
                                         "address": [c.address for c in ledger.deployment.contracts.values()]})
    count = 0
    with Session(engine) as session:
        for event in ledger.decoder.decode_all(logs):
            session.add(RawLog(chain_id=31337, tx_hash=event.tx_hash, log_index=event.log_index,
                               block_number=event.block_number, block_hash=event.block_hash, address=event.address,
                               contract=event.contract, event=event.name))
            if event.name == "InvoiceRegistered":
                session.add(Invoice(fingerprint=event["fingerprint"], seller=event["seller"], buyer=event["buyer"],
                                    asset=event["asset"], amount=event["amount"], issue_date=event["issueDate"],
                                    document_hash=event["documentHash"], partial_fingerprint_1="",
                                    partial_fingerprint_2="", partial_fingerprint_3="", status=1, registered_at=0,
                                    slot=0))
            elif event.name == "InvoiceConfirmed":
                row = session.get(Invoice, event["fingerprint"])
                if row is not None:
                    row.status = 2
                    session.add(row)
            session.commit()
            count += 1
    return count, time.perf_counter() - started


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with Anvil(accounts=6, extra_args=["--gas-limit", "1000000000"]) as node:
        chain = Chain(node.url)
        keys = dev_accounts(6)
        deployment = deploy_system(chain, keys[0], kyc_registrars=(keys[1].address,))
        ledger = Ledger(chain, deployment)
        t = time.perf_counter()
        generate(ledger, keys, events)
        generated = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as tmp:
            results = {}
            for label, decoder in (("ledger_decoder", None), ("fast_decoder_prototype", FastDecoder)):
                contracts = {c.address: n for n, c in deployment.contracts.items()}
                indexer = Indexer(node.url, f"sqlite:///{Path(tmp)}/bench-{label}.db", deployment, confirmations=0,
                                  initial_range=100_000, max_range=100_000,
                                  decoder=decoder(Web3(), contracts) if decoder else None)
                t = time.perf_counter()
                indexer.sync()
                took = time.perf_counter() - t
                applied = indexer.events_applied
                indexer.close()
                results[label] = {"events": applied, "seconds": round(took, 3), "events_per_s": round(applied / took)}
            base_count, base_took = naive(node.url, f"sqlite:///{Path(tmp)}/naive.db", ledger)
        print(json.dumps({
            **results, "naive_events": base_count, "naive_seconds": round(base_took, 3),
            "naive_events_per_s": round(base_count / base_took), "generate_seconds": round(generated, 1),
        }))


if __name__ == "__main__":
    main()
