"""Sign-In with Ethereum (EIP-4361) and short-lived session tokens.

A member asks for a nonce, signs an EIP-4361 message for our domain and chain with that nonce
(EOA, or an ERC-1271 wallet checked on-chain), and gets a bearer token valid for
``Settings.token_ttl`` seconds. Nonces are single-use. Roles come from the on-chain Participants
registry, re-read whenever the chain moves (:mod:`api.members`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from web3 import HTTPProvider, Web3

from api.config import Settings
from api.errors import ApiError
from ledger.client import Ledger

with warnings.catch_warnings():  # its grammar module warns about redefined core rules at import
    warnings.simplefilter("ignore")
    from siwe import SiweMessage
    from siwe.siwe import VerificationError


@dataclass(frozen=True)
class Session:
    """Who is calling: an address that proved control of its key or wallet."""

    address: str
    expires_at: int


class NonceStore:
    """Single-use sign-in nonces with a time to live (in memory: one API process per chain)."""

    def __init__(self, ttl: int) -> None:
        self._ttl = ttl
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        nonce = secrets.token_hex(16)
        now = time.monotonic()
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if t > now}
            self._nonces[nonce] = now + self._ttl
        return nonce

    def consume(self, nonce: str) -> bool:
        with self._lock:
            expires = self._nonces.pop(nonce, None)
        return expires is not None and expires > time.monotonic()


def sign_in(message: str, signature: str, settings: Settings, ledger: Ledger, nonces: NonceStore) -> Session:
    """Check an EIP-4361 sign-in; raises ApiError(401) with the precise reason."""
    try:
        parsed = SiweMessage.from_message(message)
    except Exception as exc:  # the parser raises several kinds for malformed text
        raise ApiError(401, "InvalidSiweMessage", f"not an EIP-4361 message: {exc}") from None
    if parsed.domain != settings.domain:
        raise ApiError(401, "WrongDomain", f"message is for {parsed.domain!r}, this service is {settings.domain!r}")
    if int(parsed.chain_id) != ledger.chain.chain_id:
        raise ApiError(401, "WrongChain", f"message is for chain {parsed.chain_id}, not {ledger.chain.chain_id}")
    if not nonces.consume(parsed.nonce):
        raise ApiError(401, "InvalidNonce", "unknown, expired or already used nonce; ask /auth/nonce for a new one")
    try:
        parsed.verify(signature, domain=settings.domain, provider=HTTPProvider(settings.rpc_url))
    except VerificationError as exc:
        raise ApiError(401, "InvalidSignature", f"sign-in refused: {type(exc).__name__} {exc}".strip()) from None
    except Exception as exc:  # eth_keys' BadSignature, ValueError ...: the bytes are not a signature of it
        raise ApiError(401, "InvalidSignature", f"sign-in refused: {type(exc).__name__} {exc}".strip()) from None
    expires = int(time.time()) + settings.token_ttl
    if parsed.expiration_time:
        expires = min(expires, int(datetime.fromisoformat(str(parsed.expiration_time)).astimezone(UTC).timestamp()))
    return Session(Web3.to_checksum_address(parsed.address), expires)


def issue_token(session: Session, secret: bytes) -> str:
    payload = _b64(json.dumps({"sub": session.address, "exp": session.expires_at}).encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def read_token(token: str, secret: bytes) -> Session:
    """The session of a bearer token; raises ApiError(401) when forged, malformed or expired."""
    try:
        payload, mac = token.split(".")
        if not hmac.compare_digest(_unb64(mac), _mac(secret, payload)):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(payload))
        address, expires = str(claims["sub"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(401, "InvalidToken", "the bearer token is malformed or not ours; sign in again") from None
    if expires <= time.time():
        raise ApiError(401, "TokenExpired", "the session expired; sign in again")
    return Session(address, expires)


def _mac(secret: bytes, payload: str) -> bytes:
    return hmac.new(secret, payload.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
