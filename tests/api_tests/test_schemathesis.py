"""Property-based tests of every operation in the app's own OpenAPI spec (schemathesis, in-process ASGI),
signed in as each role: no 5xx, and no response that breaks the documented schema or content type.

The quick variant runs 3 examples per operation and role (~15 s); the ``slow`` one runs more. Both print
the share of operations that reached a 2xx (for any role) and per role; the 2xx floor asserted here is
deliberately low, since many generated requests rightly end in 403/404/422.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api_tests.conftest import sign_in

ROLES = ("supplier", "lender", "auditor", "regulator", "core")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _fuzz(client, actors, world, examples: int) -> dict[str, dict[str, set[int]]]:
    """Statuses seen per operation and role; raises on the first failed check."""
    app = client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    fingerprint = client.get("/invoices", headers=sign_in(client, actors.auditor)).json()["items"][0]["fingerprint"]
    known = {"slot": world["slot"], "fingerprint": fingerprint, "address": actors.supplier.address,
             "alert_id": "a1", "offer_id": 1}
    seen: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for role in ROLES:
        headers = sign_in(client, getattr(actors, role))
        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"
            names = set(re.findall(r"{(\w+)}", operation.path))
            strategies = [operation.as_strategy()]
            if names:  # also with ids that exist, so reads of one record can reach a 2xx
                strategies.append(operation.as_strategy(path_parameters={n: known[n] for n in names}))
            for strategy in strategies:
                _runner(strategy, examples, headers, seen[label][role])()
    return seen


def _runner(strategy, examples: int, headers: dict[str, str], statuses: set[int]):
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(headers=headers)
        statuses.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return run


def _report(seen: dict[str, dict[str, set[int]]]) -> float:
    ok = {op for op, by_role in seen.items() if any(200 <= s < 300 for ss in by_role.values() for s in ss)}
    share = len(ok) / len(seen)
    lines = [f"schemathesis: {len(ok)}/{len(seen)} operations reached a 2xx ({share:.0%})"]
    for role in ROLES:
        reached = sum(any(200 <= s < 300 for s in seen[op][role]) for op in seen)
        lines.append(f"  as {role}: {reached}/{len(seen)}")
    lines += [f"  never 2xx: {op} {dict((r, sorted(s)) for r, s in seen[op].items())}" for op in sorted(set(seen) - ok)]
    print("\n".join(lines))
    return share


def test_schemathesis_quick(client, actors, world):
    share = _report(_fuzz(client, actors, world, examples=3))
    assert share >= 0.5


@pytest.mark.slow
def test_schemathesis_heavy(client, actors, world):
    """15 examples per operation, role and strategy (~1 min); SCF_FUZZ_EXAMPLES=40 for a deeper run (~2.5 min)."""
    share = _report(_fuzz(client, actors, world, examples=int(os.environ.get("SCF_FUZZ_EXAMPLES", "15"))))
    assert share >= 0.5
