"""Shared pieces of the evidence tests: a batcher over the session deployment, receipt I/O, a
JSON-RPC proxy that lies, and a revert matcher (tests/conftest.py's ``expect_revert`` is not
importable from this directory)."""

from __future__ import annotations

import copy
import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from web3 import Web3

Rewrite = Callable[[dict[str, Any], dict[str, Any]], None]  # (request, response) -> None, edits response


def load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def mutated(receipt: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copy_ = copy.deepcopy(receipt)
    edit(copy_)
    return copy_


def flip_hex(text: str, bit: int = 0) -> str:
    raw = bytearray(bytes.fromhex(text[2:]))
    raw[(bit // 8) % len(raw)] ^= 1 << (bit % 8)
    return "0x" + raw.hex()


def selector(signature: str) -> str:
    return "0x" + Web3.keccak(text=signature)[:4].hex()


@contextmanager
def lying_proxy(upstream: str, rewrite: Rewrite) -> Iterator[str]:
    """A JSON-RPC endpoint that forwards to ``upstream`` and lets ``rewrite`` edit each answer."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            forwarded = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(forwarded, timeout=30) as answer:
                response = json.loads(answer.read())
            request = json.loads(body)
            if isinstance(request, list):
                for req, res in zip(request, response, strict=False):
                    rewrite(req, res)
            else:
                rewrite(request, response)
            data = json.dumps(response).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
