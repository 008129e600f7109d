// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {Roles} from "./Roles.sol";

/**
 * @dev Consortium membership: organizations, their roles and the validity of their admission.
 *
 * The default admin (two-step, delayed transfer through {AccessControlDefaultAdminRules}) appoints
 * KYC registrars and system contracts; only KYC registrars admit, renew or remove members and
 * grant or revoke member roles. A role only counts while its holder's membership is current
 * ({isActive}); expiry or removal blocks new business, while redemption and repayment, which do
 * not ask this registry, stay open.
 */
contract Participants is IParticipants, AccessControlDefaultAdminRules {
    mapping(address account => Member) private _members;

    /**
     * @dev Sets `initialAdmin` as default admin, changeable after `adminDelay` seconds.
     */
    constructor(uint48 adminDelay, address initialAdmin) AccessControlDefaultAdminRules(adminDelay, initialAdmin) {
        bytes32[6] memory memberRoles = _memberRoles();
        for (uint256 i = 0; i < memberRoles.length; ++i) {
            _setRoleAdmin(memberRoles[i], Roles.KYC_REGISTRAR);
        }
    }

    /// @inheritdoc IParticipants
    function memberOf(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IParticipants
    function isMember(address account) public view returns (bool) {
        return _members[account].validUntil >= block.timestamp;
    }

    /// @inheritdoc IParticipants
    function isActive(address account, bytes32 role) external view returns (bool) {
        return isMember(account) && hasRole(role, account);
    }

    /**
     * @dev Admits `account` with `roles` until `validUntil`.
     *
     * Requirements:
     * - the caller has KYC_REGISTRAR_ROLE;
     * - `account` is not the zero address and not a member yet (expired members count as members);
     * - `validUntil` is in the future; every role is a member role.
     *
     * Emits {MemberAdmitted} and a {RoleGranted} per role.
     */
    function admit(address account, bytes32 nameHash, uint64 validUntil, bytes32[] calldata roles)
        external
        onlyRole(Roles.KYC_REGISTRAR)
    {
        if (account == address(0)) revert ParticipantsZeroAddress();
        if (_members[account].admittedAt != 0) revert ParticipantsAlreadyMember(account);
        if (validUntil <= block.timestamp) revert ParticipantsInvalidValidity(validUntil);
        _members[account] = Member({nameHash: nameHash, validUntil: validUntil, admittedAt: uint64(block.timestamp)});
        for (uint256 i = 0; i < roles.length; ++i) {
            if (!_isMemberRole(roles[i])) revert ParticipantsUnknownRole(roles[i]);
            _grantRole(roles[i], account);
        }
        emit MemberAdmitted(account, nameHash, validUntil, roles, _msgSender());
    }

    /**
     * @dev Sets the validity of the membership of `account` to `validUntil`.
     *
     * Requirements: the caller has KYC_REGISTRAR_ROLE; `account` is a member (current or expired);
     * `validUntil` is in the future.
     *
     * Emits {MemberRenewed}.
     */
    function renew(address account, uint64 validUntil) external onlyRole(Roles.KYC_REGISTRAR) {
        if (_members[account].admittedAt == 0) revert ParticipantsNotMember(account);
        if (validUntil <= block.timestamp) revert ParticipantsInvalidValidity(validUntil);
        _members[account].validUntil = validUntil;
        emit MemberRenewed(account, validUntil, _msgSender());
    }

    /**
     * @dev Removes `account` and revokes its member roles. Its claims stay redeemable.
     *
     * Requirements: the caller has KYC_REGISTRAR_ROLE; `account` is a member.
     *
     * Emits {MemberRemoved} and a {RoleRevoked} per role it held.
     */
    function remove(address account) external onlyRole(Roles.KYC_REGISTRAR) {
        if (_members[account].admittedAt == 0) revert ParticipantsNotMember(account);
        delete _members[account];
        bytes32[6] memory memberRoles = _memberRoles();
        for (uint256 i = 0; i < memberRoles.length; ++i) {
            _revokeRole(memberRoles[i], account);
        }
        emit MemberRemoved(account, _msgSender());
    }

    /**
     * @dev Member roles may only be granted to admitted accounts.
     */
    function _grantRole(bytes32 role, address account) internal virtual override returns (bool) {
        if (_isMemberRole(role) && _members[account].admittedAt == 0) revert ParticipantsNotMember(account);
        return super._grantRole(role, account);
    }

    function _isMemberRole(bytes32 role) private pure returns (bool) {
        return role == Roles.CORE_ENTERPRISE || role == Roles.SUPPLIER || role == Roles.LENDER
            || role == Roles.AUDITOR || role == Roles.CREDIT_BUREAU || role == Roles.REGULATOR;
    }

    function _memberRoles() private pure returns (bytes32[6] memory) {
        return [Roles.CORE_ENTERPRISE, Roles.SUPPLIER, Roles.LENDER, Roles.AUDITOR, Roles.CREDIT_BUREAU, Roles.REGULATOR];
    }
}
