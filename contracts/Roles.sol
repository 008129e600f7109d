// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev Role identifiers shared by all scf-ledger contracts (AccessControl roles in {Participants}).
 * Member roles are handed out by the KYC registrar; SYSTEM_ROLE marks the ledger's own contracts
 * (vault, financing desk) and is granted by the default admin.
 */
library Roles {
    bytes32 internal constant KYC_REGISTRAR = keccak256("KYC_REGISTRAR_ROLE");
    bytes32 internal constant CORE_ENTERPRISE = keccak256("CORE_ENTERPRISE_ROLE");
    bytes32 internal constant SUPPLIER = keccak256("SUPPLIER_ROLE");
    bytes32 internal constant LENDER = keccak256("LENDER_ROLE");
    bytes32 internal constant AUDITOR = keccak256("AUDITOR_ROLE");
    bytes32 internal constant CREDIT_BUREAU = keccak256("CREDIT_BUREAU_ROLE");
    bytes32 internal constant REGULATOR = keccak256("REGULATOR_ROLE");
    bytes32 internal constant SYSTEM = keccak256("SYSTEM_ROLE");
}
