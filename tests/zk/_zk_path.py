"""Make the repository's ``zk`` package win over this test folder.

Under a bare ``pytest`` (rootdir conftest, prepend import mode) ``tests/`` is on ``sys.path`` and
``tests/zk`` would import as a namespace package named ``zk``; a regular package anywhere on the
path takes precedence, so the repository root is appended. Imported first by every zk test module.
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.append(_REPO)
_loaded = sys.modules.get("zk")
if _loaded is not None and getattr(_loaded, "__file__", None) is None:  # the namespace impostor
    del sys.modules["zk"]
