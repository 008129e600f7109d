"""A JSON-RPC transport for reading logs and headers: batching, retries with backoff on transient
errors (HTTP 429 and 5xx, timeouts, rate limits) and recognition of providers' range-limit errors.

Transactions and contract calls go through :class:`ledger.chain.Chain`; this is only the read path
the indexer needs at volume (raw logs for :class:`ledger.events.EventDecoder`).
"""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Sequence
from typing import Any

import requests

RANGE_ERROR_PATTERNS = (
    "block range",
    "range is too large",
    "range too large",
    "response size",
    "query returned more than",
    "too many results",
    "log response size exceeded",
    "exceed maximum block range",
    "limit exceeded",
    "query timeout exceeded",
    "max results",
    "blocks range",
    "is limited to a",
    "blocks are not supported",
)
TRANSIENT_RPC_PATTERNS = ("rate limit", "too many requests", "try again", "timeout", "temporarily", "capacity")
# "[0x0, 0x7cf]" (Alchemy, Infura), "this block range should work: [0x1, 0x2]"
_SUGGESTED_PAIR = re.compile(r"\[\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\]")
# "up to a 2K block range", "limited to a 10000 range", "max range: 5000", "maximum block range of 3500"
_SUGGESTED_SIZE = re.compile(r"(?:up to an?|limited to an?|max(?:imum)?(?: block)? range(?: of|:)?)\s*(\d+)\s*(k)?",
                             re.IGNORECASE)


class RpcError(Exception):
    """The endpoint answered with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class RangeTooLargeError(RpcError):
    """The provider refused an eth_getLogs range; ``suggested`` is the (from, to) or size it offered."""

    def __init__(self, code: int, message: str, data: Any, suggested_to: int | None, suggested_size: int | None):
        super().__init__(code, message, data)
        self.suggested_to = suggested_to
        self.suggested_size = suggested_size


class TransportError(Exception):
    """The endpoint stayed unreachable or overloaded after all retries."""


def is_range_error(message: str) -> bool:
    text = message.lower()
    return any(p in text for p in RANGE_ERROR_PATTERNS)


def parse_suggestion(message: str) -> tuple[int | None, int | None]:
    """The end block or the range size a provider suggests in its error ``message``, if any."""
    pair = _SUGGESTED_PAIR.search(message)
    if pair:
        return int(pair.group(2), 0), None
    size = _SUGGESTED_SIZE.search(message)
    if size:
        return None, int(size.group(1)) * (1000 if size.group(2) else 1)
    return None, None


class JsonRpc:
    """Calls one HTTP JSON-RPC endpoint, retrying transient failures with exponential backoff."""

    def __init__(self, url: str, *, timeout: float = 30.0, retries: int = 8, backoff: float = 0.2,
                 max_backoff: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = requests.Session()
        self._ids = itertools.count(1)
        self.requests_sent = 0
        self.retried = 0

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send ``calls`` in one HTTP request; results in order. Raises the first JSON-RPC error."""
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": next(self._ids), "method": m, "params": list(p)} for m, p in calls]
        payload: Any = body[0] if len(body) == 1 else body
        for attempt in itertools.count():
            try:
                answers = self._post(payload)
                if isinstance(answers, dict):
                    answers = [answers]
                by_id = {a.get("id"): a for a in answers}
                results = []
                for request in body:
                    answer = by_id.get(request["id"])
                    if answer is None:
                        raise _TransientError("missing answer in batch")
                    if "error" in answer:
                        raise self._error(answer["error"])
                    results.append(answer.get("result"))
                return results
            except _TransientError as exc:
                if attempt >= self.retries:
                    raise TransportError(f"{self.url}: {exc} (after {attempt + 1} attempts)") from None
                self.retried += 1
                delay = exc.retry_after or min(self.max_backoff, self.backoff * 2**attempt)
                time.sleep(delay * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    def _post(self, payload: Any) -> Any:
        self.requests_sent += 1
        try:
            response = self.session.post(self.url, json=payload, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _TransientError(str(exc)) from None
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After")
            delay = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
            raise _TransientError(f"HTTP {response.status_code}", delay)
        try:
            return response.json()
        except ValueError:
            raise _TransientError(f"HTTP {response.status_code}: not JSON") from None

    @staticmethod
    def _error(error: dict) -> Exception:
        code = int(error.get("code", 0))
        message = str(error.get("message", ""))
        data = error.get("data")
        full = f"{message} {data if isinstance(data, str) else ''}"
        if is_range_error(full):
            to_block, size = parse_suggestion(full)
            return RangeTooLargeError(code, message, data, to_block, size)
        if code in (-32005, 429) or any(p in full.lower() for p in TRANSIENT_RPC_PATTERNS):
            return _TransientError(full)
        return RpcError(code, message, data)

    # ----------------------------------------------------------- helpers

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def headers(self, numbers: Sequence[int], *, chunk: int = 500) -> list[dict]:
        """Block headers (without transactions) of ``numbers``, batched."""
        out: list[dict] = []
        for i in range(0, len(numbers), chunk):
            part = numbers[i : i + chunk]
            out.extend(self.batch([("eth_getBlockByNumber", (hex(n), False)) for n in part]))
        missing = [n for n, h in zip(numbers, out, strict=True) if h is None]
        if missing:
            raise _MissingBlocksError(missing)
        return out

    def get_logs(self, addresses: Sequence[str], topics: Sequence[str], from_block: int, to_block: int) -> list[dict]:
        return self.call("eth_getLogs", ({"address": list(addresses), "topics": [list(topics)],
                                          "fromBlock": hex(from_block), "toBlock": hex(to_block)},))


class _TransientError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _MissingBlocksError(TransportError):
    def __init__(self, numbers: list[int]) -> None:
        super().__init__(f"endpoint does not know blocks {numbers[:5]}")
        self.numbers = numbers
