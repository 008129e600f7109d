// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ICreditRegistry} from "./interfaces/ICreditRegistry.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {Roles} from "./Roles.sol";

/**
 * @dev Registry of credit-report commitments ({ICreditRegistry}). Write-once per root; revocation
 * marks, never deletes, so the history of a root stays readable.
 */
contract CreditRegistry is ICreditRegistry, Context {
    /// @dev The BN254 scalar field order: roots are Poseidon outputs, so they are below it.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IParticipants private immutable _participants;
    uint64 private _lastId;
    mapping(uint256 root => Commitment) private _commitments;
    mapping(uint64 id => uint256 root) private _roots;

    constructor(IParticipants participants_) {
        _participants = participants_;
    }

    /// @inheritdoc ICreditRegistry
    function participants() external view returns (IParticipants) {
        return _participants;
    }

    /// @inheritdoc ICreditRegistry
    function commitmentOf(uint256 root) external view returns (Commitment memory) {
        return _commitments[root];
    }

    /// @inheritdoc ICreditRegistry
    function rootOf(uint64 id) external view returns (uint256) {
        return _roots[id];
    }

    /// @inheritdoc ICreditRegistry
    function isValid(uint256 root, address subject) external view returns (bool) {
        return _validId(root, subject) != 0;
    }

    /// @inheritdoc ICreditRegistry
    function validReportId(uint256 root, address subject) external view returns (uint64) {
        return _validId(root, subject);
    }

    /// @inheritdoc ICreditRegistry
    function isValidReport(uint64 id, address subject) external view returns (bool) {
        return id != 0 && _validId(_roots[id], subject) == id;
    }

    /// @inheritdoc ICreditRegistry
    function register(uint256 root, address subject, bytes32 documentHash, uint40 expiry)
        external
        returns (uint64 id)
    {
        address bureau = _msgSender();
        if (!_participants.isActive(bureau, Roles.CREDIT_BUREAU)) revert CreditUnauthorizedBureau(bureau);
        if (root == 0 || root >= SNARK_SCALAR_FIELD) revert CreditInvalidRoot(root);
        if (subject == address(0)) revert CreditZeroSubject();
        if (expiry <= block.timestamp) revert CreditInvalidExpiry(expiry);
        Commitment storage c = _commitments[root];
        if (c.bureau != address(0)) revert CreditAlreadyRegistered(root, c.bureau);
        id = ++_lastId;
        _commitments[root] = Commitment({
            bureau: bureau,
            expiry: expiry,
            registeredAt: uint40(block.timestamp),
            revoked: false,
            subject: subject,
            id: id,
            documentHash: documentHash
        });
        _roots[id] = root;
        emit ReportRegistered(root, bureau, subject, id, documentHash, expiry);
    }

    /// @inheritdoc ICreditRegistry
    function revoke(uint256 root) external {
        Commitment storage c = _commitments[root];
        if (c.bureau == address(0)) revert CreditUnknownRoot(root);
        if (c.bureau != _msgSender()) revert CreditNotIssuer(root, _msgSender());
        if (c.revoked) revert CreditAlreadyRevoked(root);
        c.revoked = true;
        emit ReportRevoked(root, c.bureau);
    }

    function _validId(uint256 root, address subject) private view returns (uint64) {
        Commitment storage c = _commitments[root];
        bool valid = c.bureau != address(0) && c.subject == subject && !c.revoked && c.expiry > block.timestamp
            && _participants.isActive(c.bureau, Roles.CREDIT_BUREAU);
        return valid ? c.id : 0;
    }
}
