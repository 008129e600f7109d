"""Column types: EVM integers wider than 64 bits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.types import TypeDecorator


class Uint(TypeDecorator):
    """An unsigned EVM integer (up to uint256): NUMERIC(78, 0) on PostgreSQL, a decimal string on SQLite.

    Python sees ``int`` both ways; SQLite stores text so no precision is lost (its INTEGER is 64-bit).
    """

    impl = String(78)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(78, 0))
        return dialect.type_descriptor(String(78))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return int(value) if dialect.name == "postgresql" else str(int(value))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else int(value)
