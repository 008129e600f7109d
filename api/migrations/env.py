"""Alembic environment of the API's own tables (the audit log, the offer book, spent sign-in nonces):
their own version table, ``api_alembic_version``, so they migrate independently of the indexer's mirror
and the risk tables, in whichever database the audit log lives (the mirror's by default, or
``SCF_AUDIT_DB_URL``). Applied by :func:`api.audit.upgrade` when the app starts.
"""

from __future__ import annotations

import api.auth  # puts api_used_nonce on the API's metadata
import api.routes.offers  # noqa: F401 - puts api_offer on the API's metadata
from api.audit import metadata
from indexer.alembic_env import run

run(metadata, version_table="api_alembic_version", tables=set(metadata.tables))
