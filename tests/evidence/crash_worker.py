"""Subprocess of the SIGKILL tests: ``anchor`` a directory of files, killing itself with SIGKILL at
a stage, or ``recover`` what the journal holds. Args: MODE RPC CONTRACT KEY JOURNAL RECEIPTS DOCS [STAGE N]."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from eth_account import Account

from ledger.chain import Chain
from ledger.evidence_batcher import EvidenceBatcher


def main(argv: list[str]) -> None:
    mode, rpc, contract, key, journal, receipts, docs = argv[:7]
    stage, at = (argv[7], int(argv[8])) if len(argv) > 8 else ("", 0)

    def on_stage(name: str, detail: int) -> None:
        if name == stage and detail >= at:
            os.kill(os.getpid(), signal.SIGKILL)

    batcher = EvidenceBatcher(Chain(rpc), contract, Account.from_key(key), Path(journal), Path(receipts),
                              on_stage=on_stage)
    if mode == "anchor":
        batcher.anchor(batcher.documents_from_paths([Path(docs)], "delivery-note"))
    else:
        batcher.recover()
    print("finished")


if __name__ == "__main__":
    main(sys.argv[1:])
