"""Sign-In with Ethereum (EIP-4361) and short-lived session tokens.

A member asks for a nonce, signs an EIP-4361 message for our domain and chain with that nonce
(EOA, or an ERC-1271 wallet checked on-chain), and gets a bearer token valid for
``Settings.token_ttl`` seconds. Nonces are single-use across every worker process (:class:`NonceStore`);
tokens are good in any worker that shares ``Settings.secret`` (``SCF_API_SECRET``). Roles come from the
on-chain Participants registry, re-read whenever the chain moves (:mod:`api.members`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Engine, String, Table, delete, insert
from sqlalchemy.exc import IntegrityError
from web3 import HTTPProvider, Web3

from api.audit import metadata
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


api_used_nonce = Table(
    "api_used_nonce", metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),  # unix seconds; later rows are purged
)


class NonceStore:
    """Single-use sign-in nonces that every worker process of the service honours.

    A nonce carries its expiry and an HMAC under the service's secret, so any worker checks it without
    shared memory; its use is a row in ``api_used_nonce`` (primary key: a second use fails, in whichever
    worker). Used nonces are deleted once they would have expired anyway.
    """

    def __init__(self, ttl: int, secret: bytes, engine: Engine) -> None:
        self._ttl = ttl
        self._secret = secret
        self._engine = engine

    def issue(self) -> str:
        body = f"{int(time.time()) + self._ttl:010x}{secrets.token_hex(8)}"
        return body + self._mac(body)

    def consume(self, nonce: str) -> bool:
        body, mac = nonce[:26], nonce[26:]
        if len(nonce) != 58 or not hmac.compare_digest(mac, self._mac(body)):
            return False
        expires, now = int(body[:10], 16), int(time.time())
        if expires <= now:
            return False
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(api_used_nonce).values(nonce=nonce, expires_at=expires))
                conn.execute(delete(api_used_nonce).where(api_used_nonce.c.expires_at < now))
        except IntegrityError:  # used already
            return False
        return True

    def _mac(self, body: str) -> str:
        return hmac.new(self._secret, b"siwe-nonce:" + body.encode(), hashlib.sha256).hexdigest()[:32]


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
