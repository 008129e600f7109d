"""Invoice fingerprints: keyed hashes of normalized invoice fields.

The full fingerprint (seller, buyer, number, amount, currency, issue date) is what the
InvoiceRegistry unique-checks. Partial fingerprints over field combinations catch slightly
altered copies off-chain. All are HMAC-SHA256 under the consortium key, so someone without the
key cannot confirm a guessed invoice against the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from eth_utils import to_checksum_address

from ledger.errors import LedgerError

MIN_KEY_BYTES = 16


class InvalidInvoiceError(LedgerError, ValueError):
    """An invoice field cannot be normalized."""


@dataclass(frozen=True)
class InvoiceFields:
    """The business fields of an invoice, as printed on it."""

    seller: str
    buyer: str
    number: str
    amount: int  # in the settlement asset's smallest unit
    currency: str  # ISO 4217 code, e.g. "CNY"
    issue_date: date

    def normalized(self) -> dict[str, str]:
        """Canonical text of each field: checksummed addresses, folded invoice number."""
        try:
            seller, buyer = to_checksum_address(self.seller), to_checksum_address(self.buyer)
        except ValueError as exc:
            raise InvalidInvoiceError(f"seller and buyer must be addresses: {exc}") from exc
        number = normalize_invoice_number(self.number)
        if not number:
            raise InvalidInvoiceError("invoice number is empty")
        if self.amount <= 0:
            raise InvalidInvoiceError(f"amount must be positive, got {self.amount}")
        currency = self.currency.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise InvalidInvoiceError(f"currency must be a 3-letter ISO 4217 code, got {self.currency!r}")
        return {
            "seller": seller.lower(),
            "buyer": buyer.lower(),
            "number": number,
            "amount": str(int(self.amount)),
            "currency": currency,
            "date": self.issue_date.isoformat(),
        }

    @property
    def issue_timestamp(self) -> int:
        """The issue date as UTC midnight in Unix seconds."""
        return int(datetime(self.issue_date.year, self.issue_date.month, self.issue_date.day, tzinfo=UTC).timestamp())


def normalize_invoice_number(number: str) -> str:
    """Fold full-width forms and case, drop spaces and separators: ``"inv-2024/001 "`` -> ``"INV2024001"``."""
    folded = unicodedata.normalize("NFKC", number).upper()
    without_dashes = "".join(c for c in folded if unicodedata.category(c) != "Pd" and c not in "\u2212\ufe63")
    return re.sub(r"[\s_/.#]", "", without_dashes)


@dataclass(frozen=True)
class Fingerprints:
    full: bytes
    partial: tuple[bytes, bytes, bytes]  # seller+buyer+amount+date, seller+number, buyer+number+amount


def _keyed(key: bytes, label: str, *parts: str) -> bytes:
    message = "\x1f".join((label, *parts)).encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def fingerprint(fields: InvoiceFields, key: bytes) -> Fingerprints:
    """Full and partial fingerprints of ``fields`` under the consortium ``key``."""
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInvoiceError(f"the consortium key must have at least {MIN_KEY_BYTES} bytes")
    n = fields.normalized()
    return Fingerprints(
        full=_keyed(key, "scf.invoice.v1", n["seller"], n["buyer"], n["number"], n["amount"], n["currency"], n["date"]),
        partial=(
            _keyed(key, "scf.invoice.sbad.v1", n["seller"], n["buyer"], n["amount"], n["date"]),
            _keyed(key, "scf.invoice.sn.v1", n["seller"], n["number"]),
            _keyed(key, "scf.invoice.bna.v1", n["buyer"], n["number"], n["amount"]),
        ),
    )
