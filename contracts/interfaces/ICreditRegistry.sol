// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipants} from "./IParticipants.sol";

/**
 * @dev Commitments to credit reports. A credit bureau registers the root of a report's Poseidon
 * tree (`zk/report.py`: one leaf `Poseidon(key, value, salt)` per field, random decoys in the
 * unused slots) for the firm it describes, with the hash of the human-readable document and an
 * expiry. Only the registering bureau can revoke it. The values and salts stay with the firm, which
 * discloses fields (Merkle proofs) or proves predicates (Groth16, {ICreditGate}) against the root.
 *
 * A root is a BN254 scalar field element and is registered at most once; each registration also
 * gets a report id (counting from 1), so other contracts can refer to a report in 64 bits.
 */
interface ICreditRegistry {
    /// @dev A registered report commitment (zeroes when there is none).
    struct Commitment {
        address bureau;
        uint40 expiry;
        uint40 registeredAt;
        bool revoked;
        address subject;
        uint64 id;
        bytes32 documentHash;
    }

    /// @dev `account` is not a current CREDIT_BUREAU.
    error CreditUnauthorizedBureau(address account);

    /// @dev `root` was registered already, by `bureau`.
    error CreditAlreadyRegistered(uint256 root, address bureau);

    /// @dev `root` is zero or not a BN254 scalar field element.
    error CreditInvalidRoot(uint256 root);

    /// @dev The subject of a report cannot be the zero address.
    error CreditZeroSubject();

    /// @dev `expiry` is not in the future.
    error CreditInvalidExpiry(uint40 expiry);

    /// @dev `root` is not registered.
    error CreditUnknownRoot(uint256 root);

    /// @dev `account` is not the bureau that registered `root`.
    error CreditNotIssuer(uint256 root, address account);

    /// @dev `root` is revoked already.
    error CreditAlreadyRevoked(uint256 root);

    /// @dev Emitted when `bureau` registered the report commitment `root` about `subject`.
    event ReportRegistered(
        uint256 indexed root, address indexed bureau, address indexed subject, uint64 id, bytes32 documentHash,
        uint40 expiry
    );

    /// @dev Emitted when `bureau` revoked the report commitment `root`.
    event ReportRevoked(uint256 indexed root, address indexed bureau);

    /// @dev The membership registry that says who is a credit bureau.
    function participants() external view returns (IParticipants);

    /// @dev The commitment registered as `root` (zeroes when there is none).
    function commitmentOf(uint256 root) external view returns (Commitment memory);

    /// @dev The root registered as report `id` (0 when there is none).
    function rootOf(uint64 id) external view returns (uint256);

    /**
     * @dev Whether `root` is registered about `subject`, unexpired, unrevoked, and its bureau is
     * still a current CREDIT_BUREAU.
     */
    function isValid(uint256 root, address subject) external view returns (bool);

    /// @dev The report id of `root` when {isValid}(`root`, `subject`), otherwise 0.
    function validReportId(uint256 root, address subject) external view returns (uint64);

    /// @dev Whether report `id` is {isValid} for `subject`.
    function isValidReport(uint64 id, address subject) external view returns (bool);

    /**
     * @dev Registers `root`, the commitment to a report about `subject`, valid until `expiry`.
     *
     * Requirements:
     * - the caller is a current CREDIT_BUREAU;
     * - `root` is a non-zero BN254 scalar field element, never registered before;
     * - `subject` is not the zero address; `expiry` is in the future.
     *
     * Emits {ReportRegistered}.
     */
    function register(uint256 root, address subject, bytes32 documentHash, uint40 expiry)
        external
        returns (uint64 id);

    /**
     * @dev Revokes `root`.
     *
     * Requirements: the caller is the bureau that registered `root`; it is not revoked already.
     *
     * Emits {ReportRevoked}.
     */
    function revoke(uint256 root) external;
}
