"""Fixtures of the risk suite (imported by its modules, like tests/indexer/ix_fixtures.py: a conftest.py
here would shadow tests/conftest.py for `from conftest import ...`): bulk-mode economies written into
fresh SQLite mirrors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# risk/ is not yet in pyproject's packages.find include (the editable install maps only listed packages).
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from indexer.db import make_engine  # noqa: E402
from risk import data  # noqa: E402
from risk.simulate import Economy, simulate, write_bulk  # noqa: E402


class Built:
    def __init__(self, economy: Economy, url: str) -> None:
        self.economy = economy
        self.url = url
        self.engine = make_engine(url)
        write_bulk(economy, self.engine)

    def mirror(self) -> data.Mirror:
        return data.load(self.engine)


@pytest.fixture(scope="session")
def bulk_factory(tmp_path_factory):  # type: ignore[no-untyped-def]
    cache: dict[tuple[int, int], Built] = {}

    def make(seed: int, n_firms: int = 400) -> Built:
        if (seed, n_firms) not in cache:
            path = tmp_path_factory.mktemp("risk") / f"mirror-{seed}-{n_firms}.db"
            cache[(seed, n_firms)] = Built(simulate(seed, n_firms), f"sqlite:///{path}")
        return cache[(seed, n_firms)]

    return make


@pytest.fixture
def fresh_bulk(tmp_path):  # type: ignore[no-untyped-def]
    def make(seed: int, n_firms: int = 300) -> Built:
        return Built(simulate(seed, n_firms), f"sqlite:///{tmp_path}/fresh-{seed}.db")

    return make
