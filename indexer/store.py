"""The unit of work handlers write through: an in-memory overlay over the database for one batch
of blocks, flushed with bulk statements, recording before-images of rows written in unconfirmed
blocks (the change log a reorg undoes newest-first)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from indexer.models import HISTORY, MIRRORED, ChangeLog, Mirrored

_MISSING = object()


class TableInfo:
    """What the overlay needs to know of one mirrored table."""

    def __init__(self, model: type[Mirrored]) -> None:
        self.model = model
        self.table: Table = model.__table__  # type: ignore[attr-defined]
        self.name = self.table.name
        self.pk = tuple(c.name for c in self.table.primary_key.columns)
        self.columns = tuple(c.name for c in self.table.columns)
        self.history = model in HISTORY

    def key(self, row: dict[str, Any]) -> tuple:
        return tuple(row[c] for c in self.pk)


TABLES: dict[type[Mirrored], TableInfo] = {m: TableInfo(m) for m in MIRRORED}
TABLES_BY_NAME: dict[str, TableInfo] = {t.name: t for t in TABLES.values()}


def upsert_statement(conn: Connection, info: TableInfo) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(info.table)
    others = [c for c in info.columns if c not in info.pk]
    return stmt.on_conflict_do_update(index_elements=list(info.pk), set_={c: stmt.excluded[c] for c in others})


class Overlay:
    """Rows read and written while applying one batch of events.

    ``safe_block``: writes in blocks above it are unconfirmed; their before-images go to the change
    log (one per row and block, taken at the row's first write in that block).
    """

    def __init__(self, conn: Connection, safe_block: int) -> None:
        self.conn = conn
        self.safe_block = safe_block
        self.block_number = 0
        self._rows: dict[TableInfo, dict[tuple, dict | None]] = {t: {} for t in TABLES.values()}
        self._orig: dict[TableInfo, dict[tuple, dict | None]] = {t: {} for t in TABLES.values()}
        self._touched: set[tuple[int, str, tuple]] = set()
        self._changes: list[dict[str, Any]] = []
        self.writes = 0

    # --------------------------------------------------------- handler API

    def get(self, model: type[Mirrored], *key: Any) -> dict | None:
        """The row of ``model`` with primary key ``key`` as a dict (a copy), or None."""
        row = self._load(TABLES[model], key)
        return None if row is None else dict(row)

    def put(self, model: type[Mirrored], row: dict[str, Any]) -> None:
        """Create or replace a row (all columns but block_number/final given). In final blocks (no
        before-image needed) the row is not read first: the flush upserts it."""
        info = TABLES[model]
        key = info.key(row)
        if info.history or self.block_number <= self.safe_block:
            rows = self._rows[info]
            if key not in rows and not info.history:
                self._orig[info][key] = _MISSING  # type: ignore[assignment]
            self._write(info, key, dict(row), load=False)
        else:
            self._write(info, key, dict(row), load=True)

    def update(self, model: type[Mirrored], *key: Any, **changes: Any) -> dict:
        """Change columns of an existing row; raises KeyError when it does not exist."""
        info = TABLES[model]
        row = self._load(info, key)
        if row is None:
            raise KeyError(f"{info.name} {key} does not exist")
        new = dict(row)
        new.update(changes)
        self._write(info, key, new, load=False)
        return new

    def delete(self, model: type[Mirrored], *key: Any) -> None:
        info = TABLES[model]
        if self._load(info, key) is not None:
            self._write(info, key, None, load=False)

    # ----------------------------------------------------------- internals

    def _load(self, info: TableInfo, key: tuple) -> dict | None:
        rows = self._rows[info]
        found = rows.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        where = and_(*(info.table.c[c] == v for c, v in zip(info.pk, key, strict=True)))
        result = self.conn.execute(select(info.table).where(where)).mappings().first()
        row = None if result is None else dict(result)
        rows[key] = row
        self._orig[info][key] = row
        return row

    def _write(self, info: TableInfo, key: tuple, row: dict | None, *, load: bool) -> None:
        rows = self._rows[info]
        if load:
            before = self._load(info, key)
        else:
            before = rows.get(key)
            if key not in self._orig[info]:
                self._orig[info][key] = before  # history rows: new by construction (raw_log dedupes)
        block = self.block_number
        if block > self.safe_block and (block, info.name, key) not in self._touched:
            self._touched.add((block, info.name, key))
            self._changes.append({"block_number": block, "table_name": info.name, "pk": _dump(list(key)),
                                  "before": None if before is None else _dump(before)})
        if row is not None:
            row["block_number"] = block
            row["final"] = block <= self.safe_block
        rows[key] = row
        self.writes += 1

    def flush(self) -> None:
        """Write every changed row with bulk statements, and the change log."""
        for info, rows in self._rows.items():
            orig = self._orig[info]
            deletes = [k for k, row in rows.items() if row is None and orig.get(k) is not None]
            upserts = [row for k, row in rows.items() if row is not None and row != orig.get(k)]
            if deletes:  # (rows put blindly and deleted again are deleted whether or not they existed)
                where = and_(*(info.table.c[c] == _bind(c) for c in info.pk))
                self.conn.execute(delete(info.table).where(where),
                                  [{f"k_{c}": v for c, v in zip(info.pk, k, strict=True)} for k in deletes])
            if upserts:
                fresh = [r for r in upserts if info.key(r) in orig and orig[info.key(r)] is None]
                if info.history or len(fresh) == len(upserts):
                    self.conn.execute(insert(info.table), upserts)
                else:
                    self.conn.execute(upsert_statement(self.conn, info), upserts)
        if self._changes:
            self.conn.execute(insert(ChangeLog.__table__), self._changes)  # type: ignore[attr-defined]
        for info in self._rows:
            self._rows[info] = {}
            self._orig[info] = {}
        self._touched.clear()
        self._changes = []


def _bind(column: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(f"k_{column}")


def rollback_to(conn: Connection, block: int) -> int:
    """Undo every mirrored write above ``block`` from the change log, newest first; returns the count."""
    table = ChangeLog.__table__  # type: ignore[attr-defined]
    changes = conn.execute(
        select(table.c.table_name, table.c.pk, table.c.before).where(table.c.block_number > block)
        .order_by(table.c.id.desc())
    ).all()
    for name, pk, before in changes:
        info = TABLES_BY_NAME[name]
        key = json.loads(pk)
        where = and_(*(info.table.c[c] == v for c, v in zip(info.pk, key, strict=True)))
        conn.execute(delete(info.table).where(where))
        if before is not None:
            conn.execute(insert(info.table), [json.loads(before)])
    conn.execute(delete(table).where(table.c.block_number > block))
    return len(changes)


def mark_final(conn: Connection, safe_block: int, tables: Iterable[TableInfo] = TABLES.values()) -> None:
    """Rows written at or below ``safe_block`` are final."""
    for info in tables:
        t = info.table
        conn.execute(update(t).where(t.c.final.is_(False), t.c.block_number <= safe_block).values(final=True))


def prune_changes(conn: Connection, safe_block: int) -> None:
    table = ChangeLog.__table__  # type: ignore[attr-defined]
    conn.execute(delete(table).where(table.c.block_number <= safe_block))


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
