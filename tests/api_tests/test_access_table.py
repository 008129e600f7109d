"""The access table drives these checks: every rule, as every role. An endpoint added to the table is
covered here without a new test: the unsigned get 401, signed-in non-members 403 NotAMember, members
without one of a rule's roles 403 RoleRequired (each with a message), and public endpoints need no
sign-in. Which records a permitted role then sees is test_records.py's and test_chain_reads.py's."""

from __future__ import annotations

import re

import pytest

from api.access import ACCESS, Rule
from api_tests.conftest import sign_in
from ledger.roles import Role

SAMPLES = {"slot": "1", "address": "0x" + "cd" * 20, "fingerprint": "0x" + "ab" * 32, "alert_id": "a1",
           "offer_id": "1"}
ROLES = {"core": Role.CORE_ENTERPRISE, "supplier": Role.SUPPLIER, "lender": Role.LENDER, "auditor": Role.AUDITOR,
         "regulator": Role.REGULATOR}


def _call(client, rule: Rule, headers: dict[str, str] | None = None):
    path = re.sub(r"{(\w+)}", lambda m: SAMPLES[m.group(1)], rule.path)
    return client.request(rule.method, path, headers=headers or {},
                          json={} if rule.method in ("POST", "PUT", "PATCH") else None)


def _refused(response, status: int, code: str, rule: Rule) -> None:
    body = response.json()
    assert (response.status_code, body.get("error")) == (status, code), (rule.method, rule.path, body)
    assert body["message"], (rule.method, rule.path)


def test_sample_values_cover_every_path_parameter():
    names = {n for rule in ACCESS for n in re.findall(r"{(\w+)}", rule.path)}
    assert names <= set(SAMPLES), names - set(SAMPLES)


@pytest.mark.parametrize("rule", [r for r in ACCESS if not r.public], ids=lambda r: f"{r.method} {r.path}")
def test_the_unsigned_and_non_members_are_refused(client, actors, rule):
    _refused(_call(client, rule), 401, "NotSignedIn", rule)
    _refused(_call(client, rule, sign_in(client, actors.outsider)), 403, "NotAMember", rule)


def test_members_without_a_rules_role_are_refused(client, actors):
    restricted = [r for r in ACCESS if r.roles]
    assert restricted  # the table restricts some endpoints by role
    for name, role in ROLES.items():
        headers = sign_in(client, getattr(actors, name))
        for rule in restricted:
            response = _call(client, rule, headers)
            if role in rule.roles:
                assert response.json().get("error") != "RoleRequired", (name, rule.path, response.json())
            else:
                _refused(response, 403, "RoleRequired", rule)
                assert all(r.name in response.json()["message"] for r in rule.roles)


def test_public_endpoints_need_no_sign_in(client):
    for rule in (r for r in ACCESS if r.public):
        response = _call(client, rule)
        error = response.json().get("error") if response.headers["content-type"] == "application/json" else None
        assert response.status_code != 401 and error not in ("NotSignedIn", "NotAMember", "RoleRequired"), (
            rule.path, response.text[:200])
