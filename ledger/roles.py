"""Role identifiers, matching ``contracts/Roles.sol``."""

from __future__ import annotations

from enum import Enum

from web3 import Web3


class Role(Enum):
    """Consortium roles; ``id`` is the bytes32 AccessControl role id."""

    DEFAULT_ADMIN = "DEFAULT_ADMIN_ROLE"
    KYC_REGISTRAR = "KYC_REGISTRAR_ROLE"
    CORE_ENTERPRISE = "CORE_ENTERPRISE_ROLE"
    SUPPLIER = "SUPPLIER_ROLE"
    LENDER = "LENDER_ROLE"
    AUDITOR = "AUDITOR_ROLE"
    CREDIT_BUREAU = "CREDIT_BUREAU_ROLE"
    REGULATOR = "REGULATOR_ROLE"
    SYSTEM = "SYSTEM_ROLE"

    @property
    def id(self) -> bytes:
        if self is Role.DEFAULT_ADMIN:
            return b"\x00" * 32
        return bytes(Web3.keccak(text=self.value))

    @classmethod
    def from_id(cls, role_id: bytes) -> Role:
        for role in cls:
            if role.id == bytes(role_id):
                return role
        raise ValueError(f"unknown role id 0x{bytes(role_id).hex()}")


MEMBER_ROLES = (
    Role.CORE_ENTERPRISE,
    Role.SUPPLIER,
    Role.LENDER,
    Role.AUDITOR,
    Role.CREDIT_BUREAU,
    Role.REGULATOR,
)
