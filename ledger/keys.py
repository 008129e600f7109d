"""Encrypted keystores (Web3 Secret Storage, as eth-account writes them): keys stay local."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.errors import ConfigurationError

PASSWORD_ENV = "SCF_KEY_PASSWORD"


def create_keystore(path: Path, password: str) -> LocalAccount:
    """Create a new random key, write it encrypted to ``path`` (mode 0600) and return it."""
    if path.exists():
        raise ConfigurationError(f"{path} exists already; refusing to overwrite a keystore")
    account = Account.create()
    encrypted = Account.encrypt(account.key, password)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(encrypted, handle)
    return account


def load_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt the keystore at ``path``; raises ConfigurationError on a missing file or wrong password."""
    try:
        encrypted = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigurationError(f"no keystore at {path}") from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path} is not a keystore file: {exc}") from None
    try:
        return Account.from_key(Account.decrypt(encrypted, password))
    except ValueError as exc:
        raise ConfigurationError(f"cannot decrypt {path}: {exc}") from None
