"""Participants: admission, renewal, removal and expiry of members; who may hand out which role;
the two-step, delayed transfer of the default admin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import CONSORTIUM_KEY, DAY, ONE, Actors, make_invoice, now, warp
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.anvil import dev_accounts
from ledger.chain import TxResult
from ledger.client import InvoiceRegistration, Ledger
from ledger.deployment import DEFAULT_ADMIN_DELAY
from ledger.errors import AccessDeniedError, ContractRevertError, InvalidInputError
from ledger.roles import MEMBER_ROLES, Role

ZERO_ADDRESS = "0x" + "00" * 20


def rid(role: Role) -> str:
    """A role id as the decoded errors and events carry it."""
    return "0x" + role.id.hex()


def name_hash(name: str) -> str:
    return "0x" + bytes(Web3.keccak(text=name)).hex()


@contextmanager
def reverts(name: str, fields: dict[str, Any]) -> Iterator[pytest.ExceptionInfo[ContractRevertError]]:
    """The block raises the custom error ``name`` with exactly ``fields``."""
    with pytest.raises(ContractRevertError) as exc:
        yield exc
    assert exc.value.name == name, str(exc.value)
    assert exc.value.fields == fields, str(exc.value)


@pytest.fixture(scope="module")
def fresh() -> list[LocalAccount]:
    """Funded dev accounts 12..19: not members, no roles."""
    return dev_accounts(20)[12:]


def is_member(ledger: Ledger, address: str) -> bool:
    return ledger.participants.functions.isMember(address).call()


def is_active(ledger: Ledger, address: str, role: Role) -> bool:
    return ledger.participants.functions.isActive(address, role.id).call()


def block_time(ledger: Ledger, result: TxResult) -> int:
    return int(ledger.chain.w3.eth.get_block(result.block_number)["timestamp"])


def register_one(ledger: Ledger, seller: LocalAccount, buyer: LocalAccount) -> tuple[bytes, TxResult]:
    registration = InvoiceRegistration(make_invoice(seller.address, buyer.address, 100 * ONE), document_hash=b"\1" * 32)
    return ledger.as_supplier(seller).register_invoice(registration, CONSORTIUM_KEY)


# ------------------------------------------------------------------------------------ admission


def test_admit_records_member_grants_roles_and_emits_event(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount]
) -> None:
    account = fresh[0].address
    assert ledger.participants.functions.memberOf(account).call() == (b"\0" * 32, 0, 0)
    assert not is_member(ledger, account)
    until = now(ledger.chain) + 365 * DAY

    result = ledger.as_registrar(actors.registrar).admit(account, "Acme Ltd", [Role.SUPPLIER, Role.LENDER], until)

    assert result.event("MemberAdmitted").args == {
        "account": account,
        "nameHash": name_hash("Acme Ltd"),
        "validUntil": until,
        "roles": [rid(Role.SUPPLIER), rid(Role.LENDER)],
        "registrar": actors.registrar.address,
    }
    assert [e.args for e in result.events_named("RoleGranted")] == [
        {"role": rid(role), "account": account, "sender": actors.registrar.address}
        for role in (Role.SUPPLIER, Role.LENDER)
    ]
    assert ledger.participants.functions.memberOf(account).call() == (
        bytes(Web3.keccak(text="Acme Ltd")),
        until,
        block_time(ledger, result),
    )
    record = ledger.member(account)
    assert record.roles == {Role.SUPPLIER, Role.LENDER}
    assert record.is_member
    assert is_active(ledger, account, Role.SUPPLIER)
    assert is_active(ledger, account, Role.LENDER)
    assert not is_active(ledger, account, Role.CORE_ENTERPRISE)


def test_admit_without_roles_makes_a_member_active_in_no_role(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount]
) -> None:
    account = fresh[0].address
    result = ledger.as_registrar(actors.registrar).admit(account, "Observer", [], now(ledger.chain) + DAY)
    assert result.event("MemberAdmitted").args["roles"] == []
    assert result.events_named("RoleGranted") == []
    assert is_member(ledger, account)
    assert not any(is_active(ledger, account, role) for role in MEMBER_ROLES)


def test_admit_zero_address(ledger: Ledger, actors: Actors) -> None:
    with reverts("ParticipantsZeroAddress", {}) as exc:
        ledger.as_registrar(actors.registrar).admit(ZERO_ADDRESS, "nobody", [Role.SUPPLIER], now(ledger.chain) + DAY)
    assert isinstance(exc.value, InvalidInputError)


def test_admit_existing_member(ledger: Ledger, actors: Actors) -> None:
    with reverts("ParticipantsAlreadyMember", {"account": actors.supplier.address}):
        ledger.as_registrar(actors.registrar).admit(
            actors.supplier.address, "again", [Role.LENDER], now(ledger.chain) + DAY
        )


def test_expired_member_still_counts_as_member_for_admission(ledger: Ledger, actors: Actors) -> None:
    registrar = ledger.as_registrar(actors.registrar)
    registrar.renew(actors.supplier.address, now(ledger.chain) + 60)
    warp(ledger.chain, 120)
    assert not is_member(ledger, actors.supplier.address)
    with reverts("ParticipantsAlreadyMember", {"account": actors.supplier.address}):
        registrar.admit(actors.supplier.address, "again", [Role.SUPPLIER], now(ledger.chain) + DAY)


@pytest.mark.parametrize("offset", [None, -1, -DAY], ids=["zero", "one-second-ago", "yesterday"])
def test_admit_validity_in_the_past(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount], offset: int | None
) -> None:
    until = 0 if offset is None else now(ledger.chain) + offset
    with reverts("ParticipantsInvalidValidity", {"validUntil": until}):
        ledger.as_registrar(actors.registrar).admit(fresh[0].address, "late", [Role.SUPPLIER], until)


@pytest.mark.parametrize(
    "roles, bad",
    [
        ([Role.SYSTEM], Role.SYSTEM),
        ([Role.KYC_REGISTRAR], Role.KYC_REGISTRAR),
        ([Role.DEFAULT_ADMIN], Role.DEFAULT_ADMIN),
        ([Role.SUPPLIER, Role.SYSTEM], Role.SYSTEM),
    ],
    ids=["system", "kyc-registrar", "default-admin", "supplier-then-system"],
)
def test_admit_with_a_non_member_role(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount], roles: list[Role], bad: Role
) -> None:
    account = fresh[0].address
    with reverts("ParticipantsUnknownRole", {"role": rid(bad)}):
        ledger.as_registrar(actors.registrar).admit(account, "greedy", roles, now(ledger.chain) + DAY)
    assert not ledger.has_role(bad, account)
    assert not is_member(ledger, account)


# -------------------------------------------------------------------------------- renew / remove


def test_renew_sets_validity_and_emits_event(ledger: Ledger, actors: Actors) -> None:
    before = ledger.participants.functions.memberOf(actors.supplier.address).call()
    until = now(ledger.chain) + 30 * DAY  # shortening is allowed too
    result = ledger.as_registrar(actors.registrar).renew(actors.supplier.address, until)
    assert result.event("MemberRenewed").args == {
        "account": actors.supplier.address,
        "validUntil": until,
        "registrar": actors.registrar.address,
    }
    assert ledger.participants.functions.memberOf(actors.supplier.address).call() == (before[0], until, before[2])


def test_renew_errors(ledger: Ledger, actors: Actors) -> None:
    registrar = ledger.as_registrar(actors.registrar)
    with reverts("ParticipantsNotMember", {"account": actors.outsider.address}) as exc:
        registrar.renew(actors.outsider.address, now(ledger.chain) + DAY)
    assert isinstance(exc.value, AccessDeniedError)
    past = now(ledger.chain) - 1
    with reverts("ParticipantsInvalidValidity", {"validUntil": past}):
        registrar.renew(actors.supplier.address, past)


def test_remove_revokes_member_roles_and_emits_events(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount]
) -> None:
    account = fresh[0].address
    registrar = ledger.as_registrar(actors.registrar)
    registrar.admit(account, "Short-lived", [Role.SUPPLIER, Role.LENDER], now(ledger.chain) + DAY)

    result = registrar.remove(account)

    assert result.event("MemberRemoved").args == {"account": account, "registrar": actors.registrar.address}
    assert [e.args for e in result.events_named("RoleRevoked")] == [
        {"role": rid(role), "account": account, "sender": actors.registrar.address}
        for role in (Role.SUPPLIER, Role.LENDER)
    ]
    assert ledger.participants.functions.memberOf(account).call() == (b"\0" * 32, 0, 0)
    assert not is_member(ledger, account)
    assert not is_active(ledger, account, Role.SUPPLIER)
    assert not ledger.has_role(Role.SUPPLIER, account)
    assert not ledger.has_role(Role.LENDER, account)


def test_removed_member_can_do_no_business_and_can_be_admitted_again(ledger: Ledger, actors: Actors) -> None:
    registrar = ledger.as_registrar(actors.registrar)
    registrar.remove(actors.supplier.address)
    with reverts("InvoiceUnauthorizedMember", {"account": actors.supplier.address, "role": rid(Role.SUPPLIER)}):
        register_one(ledger, actors.supplier, actors.core)
    with reverts("ParticipantsNotMember", {"account": actors.supplier.address}):
        registrar.remove(actors.supplier.address)

    registrar.admit(actors.supplier.address, "Back again", [Role.SUPPLIER], now(ledger.chain) + DAY)
    fp, _ = register_one(ledger, actors.supplier, actors.core)
    assert ledger.invoice(fp).seller == actors.supplier.address


# ---------------------------------------------------------------------------------------- expiry


def test_expiry_blocks_new_business_and_renewal_restores_it(ledger: Ledger, actors: Actors) -> None:
    supplier = actors.supplier.address
    registrar = ledger.as_registrar(actors.registrar)
    until = now(ledger.chain) + 100
    registrar.renew(supplier, until)
    assert is_member(ledger, supplier)
    assert is_active(ledger, supplier, Role.SUPPLIER)

    warp(ledger.chain, 200)

    assert now(ledger.chain) > until
    assert not is_member(ledger, supplier)
    assert not is_active(ledger, supplier, Role.SUPPLIER)
    assert ledger.has_role(Role.SUPPLIER, supplier)  # the role stays; it just does not count
    assert not ledger.member(supplier).is_member
    with reverts("InvoiceUnauthorizedMember", {"account": supplier, "role": rid(Role.SUPPLIER)}) as exc:
        register_one(ledger, actors.supplier, actors.core)
    assert isinstance(exc.value, AccessDeniedError)

    registrar.renew(supplier, now(ledger.chain) + DAY)

    assert is_member(ledger, supplier)
    assert is_active(ledger, supplier, Role.SUPPLIER)
    fp, result = register_one(ledger, actors.supplier, actors.core)
    assert result.event("InvoiceRegistered").args["seller"] == supplier
    assert ledger.invoice(fp).seller == supplier


# --------------------------------------------------------------------- who manages member roles

Call = Callable[[Ledger, Actors, str], Any]

REGISTRAR_ONLY: dict[str, Call] = {
    "admit": lambda lg, a, target: lg.participants.functions.admit(
        target, b"\1" * 32, now(lg.chain) + DAY, [Role.SUPPLIER.id]
    ),
    "renew": lambda lg, a, target: lg.participants.functions.renew(a.supplier.address, now(lg.chain) + DAY),
    "remove": lambda lg, a, target: lg.participants.functions.remove(a.supplier.address),
    "grantRole(SUPPLIER)": lambda lg, a, target: lg.participants.functions.grantRole(Role.SUPPLIER.id, a.core.address),
    "revokeRole(SUPPLIER)": lambda lg, a, target: lg.participants.functions.revokeRole(
        Role.SUPPLIER.id, a.supplier.address
    ),
}


@pytest.mark.parametrize("caller", ["outsider", "core", "admin"], ids=["outsider", "plain-member", "default-admin"])
@pytest.mark.parametrize("action", list(REGISTRAR_ONLY), ids=list(REGISTRAR_ONLY))
def test_only_kyc_registrar_manages_members(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount], caller: str, action: str
) -> None:
    account: LocalAccount = getattr(actors, caller)
    assert not ledger.has_role(Role.KYC_REGISTRAR, account.address)
    call = REGISTRAR_ONLY[action](ledger, actors, fresh[0].address)
    with reverts(
        "AccessControlUnauthorizedAccount", {"account": account.address, "neededRole": rid(Role.KYC_REGISTRAR)}
    ) as exc:
        ledger.execute(account, call)
    assert isinstance(exc.value, AccessDeniedError)


def test_member_roles_have_the_registrar_role_as_admin(ledger: Ledger) -> None:
    get_admin = ledger.participants.functions.getRoleAdmin
    assert {role: bytes(get_admin(role.id).call()) for role in MEMBER_ROLES} == {
        role: Role.KYC_REGISTRAR.id for role in MEMBER_ROLES
    }
    assert bytes(get_admin(Role.SYSTEM.id).call()) == Role.DEFAULT_ADMIN.id
    assert bytes(get_admin(Role.KYC_REGISTRAR.id).call()) == Role.DEFAULT_ADMIN.id


def test_registrar_grants_and_revokes_member_roles_of_members(ledger: Ledger, actors: Actors) -> None:
    registrar = ledger.as_registrar(actors.registrar)
    result = registrar.grant(Role.LENDER, actors.supplier.address)
    assert result.event("RoleGranted").args == {
        "role": rid(Role.LENDER),
        "account": actors.supplier.address,
        "sender": actors.registrar.address,
    }
    assert is_active(ledger, actors.supplier.address, Role.LENDER)

    call = ledger.participants.functions.revokeRole(Role.LENDER.id, actors.supplier.address)
    result = ledger.execute(actors.registrar, call)
    assert result.event("RoleRevoked").args == {
        "role": rid(Role.LENDER),
        "account": actors.supplier.address,
        "sender": actors.registrar.address,
    }
    assert not is_active(ledger, actors.supplier.address, Role.LENDER)


@pytest.mark.parametrize("role", MEMBER_ROLES, ids=[r.name for r in MEMBER_ROLES])
def test_member_role_only_for_admitted_accounts(ledger: Ledger, actors: Actors, role: Role) -> None:
    with reverts("ParticipantsNotMember", {"account": actors.outsider.address}):
        ledger.as_registrar(actors.registrar).grant(role, actors.outsider.address)
    assert not ledger.has_role(role, actors.outsider.address)


# ----------------------------------------------------------------- SYSTEM and KYC_REGISTRAR roles


@pytest.mark.parametrize("role", [Role.SYSTEM, Role.KYC_REGISTRAR], ids=["system", "kyc-registrar"])
@pytest.mark.parametrize("caller", ["registrar", "system", "core", "outsider"])
def test_only_default_admin_grants_system_and_registrar_roles(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount], role: Role, caller: str
) -> None:
    account: LocalAccount = getattr(actors, caller)
    with reverts(
        "AccessControlUnauthorizedAccount", {"account": account.address, "neededRole": rid(Role.DEFAULT_ADMIN)}
    ):
        ledger.execute(account, ledger.participants.functions.grantRole(role.id, fresh[0].address))
    assert not ledger.has_role(role, fresh[0].address)


def test_default_admin_grants_system_role_to_any_account(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount]
) -> None:
    target = fresh[0].address
    result = ledger.as_admin(actors.admin).grant(Role.SYSTEM, target)
    assert result.event("RoleGranted").args == {
        "role": rid(Role.SYSTEM),
        "account": target,
        "sender": actors.admin.address,
    }
    assert ledger.has_role(Role.SYSTEM, target)
    assert not is_member(ledger, target)  # contracts holding SYSTEM_ROLE are not members


def test_default_admin_appoints_a_registrar_who_can_admit(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount]
) -> None:
    new_registrar, newcomer = fresh[0], fresh[1]
    ledger.as_admin(actors.admin).grant(Role.KYC_REGISTRAR, new_registrar.address)
    result = ledger.as_registrar(new_registrar).admit(
        newcomer.address, "Newco", [Role.AUDITOR], now(ledger.chain) + DAY
    )
    assert result.event("MemberAdmitted").args["registrar"] == new_registrar.address
    assert is_active(ledger, newcomer.address, Role.AUDITOR)

    ledger.as_admin(actors.admin).revoke(Role.KYC_REGISTRAR, new_registrar.address)
    with reverts(
        "AccessControlUnauthorizedAccount", {"account": new_registrar.address, "neededRole": rid(Role.KYC_REGISTRAR)}
    ):
        ledger.as_registrar(new_registrar).remove(newcomer.address)


# ---------------------------------------------------------------------------- default admin


def test_default_admin_cannot_be_granted_directly(ledger: Ledger, actors: Actors, fresh: list[LocalAccount]) -> None:
    with reverts("AccessControlEnforcedDefaultAdminRules", {}) as exc:
        ledger.as_admin(actors.admin).grant(Role.DEFAULT_ADMIN, fresh[0].address)
    assert isinstance(exc.value, AccessDeniedError)
    assert not ledger.has_role(Role.DEFAULT_ADMIN, fresh[0].address)


def test_only_default_admin_begins_a_transfer(ledger: Ledger, actors: Actors) -> None:
    call = ledger.participants.functions.beginDefaultAdminTransfer(actors.registrar.address)
    with reverts(
        "AccessControlUnauthorizedAccount", {"account": actors.registrar.address, "neededRole": rid(Role.DEFAULT_ADMIN)}
    ):
        ledger.execute(actors.registrar, call)


def test_default_admin_transfer_is_two_step_and_delayed(
    ledger: Ledger, actors: Actors, fresh: list[LocalAccount]
) -> None:
    fn = ledger.participants.functions
    old, new = actors.admin, fresh[0]
    assert fn.defaultAdminDelay().call() == DEFAULT_ADMIN_DELAY == 3 * DAY
    assert fn.defaultAdmin().call() == old.address

    begun = ledger.execute(old, fn.beginDefaultAdminTransfer(new.address))
    schedule = block_time(ledger, begun) + DEFAULT_ADMIN_DELAY
    assert begun.event("DefaultAdminTransferScheduled").args == {"newAdmin": new.address, "acceptSchedule": schedule}
    assert fn.pendingDefaultAdmin().call() == [new.address, schedule]

    with reverts("AccessControlEnforcedDefaultAdminDelay", {"schedule": schedule}):
        ledger.execute(new, fn.acceptDefaultAdminTransfer())
    with reverts("AccessControlInvalidDefaultAdmin", {"defaultAdmin": actors.registrar.address}):
        ledger.execute(actors.registrar, fn.acceptDefaultAdminTransfer())

    warp(ledger.chain, DEFAULT_ADMIN_DELAY - (now(ledger.chain) - block_time(ledger, begun)) + 1)

    with reverts("AccessControlInvalidDefaultAdmin", {"defaultAdmin": actors.registrar.address}):
        ledger.execute(actors.registrar, fn.acceptDefaultAdminTransfer())
    accepted = ledger.execute(new, fn.acceptDefaultAdminTransfer())
    assert accepted.event("RoleRevoked").args == {
        "role": rid(Role.DEFAULT_ADMIN),
        "account": old.address,
        "sender": new.address,
    }
    assert accepted.event("RoleGranted").args == {
        "role": rid(Role.DEFAULT_ADMIN),
        "account": new.address,
        "sender": new.address,
    }
    assert fn.defaultAdmin().call() == new.address
    assert not ledger.has_role(Role.DEFAULT_ADMIN, old.address)

    # the new admin appoints system contracts; the old one no longer can
    ledger.as_admin(new).grant(Role.SYSTEM, fresh[1].address)
    assert ledger.has_role(Role.SYSTEM, fresh[1].address)
    with reverts("AccessControlUnauthorizedAccount", {"account": old.address, "neededRole": rid(Role.DEFAULT_ADMIN)}):
        ledger.as_admin(old).grant(Role.SYSTEM, fresh[2].address)
