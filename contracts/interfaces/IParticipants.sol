// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev Registry of consortium members: who they are (a name hash), what they may do (roles)
 * and until when (`validUntil`). Business contracts ask it before every new piece of business.
 */
interface IParticipants {
    /// @dev Membership record of `account`.
    struct Member {
        bytes32 nameHash;
        uint64 validUntil;
        uint64 admittedAt;
    }

    /// @dev `account` is not an admitted member.
    error ParticipantsNotMember(address account);

    /// @dev `account` is already a member; renew it or remove it first.
    error ParticipantsAlreadyMember(address account);

    /// @dev `validUntil` lies in the past.
    error ParticipantsInvalidValidity(uint64 validUntil);

    /// @dev `role` is not one of the member roles the KYC registrar hands out.
    error ParticipantsUnknownRole(bytes32 role);

    /// @dev The zero address cannot be a member.
    error ParticipantsZeroAddress();

    /// @dev Emitted when `account` was admitted with `roles`, valid until `validUntil`.
    event MemberAdmitted(address indexed account, bytes32 nameHash, uint64 validUntil, bytes32[] roles, address indexed registrar);

    /// @dev Emitted when the membership of `account` was extended or shortened to `validUntil`.
    event MemberRenewed(address indexed account, uint64 validUntil, address indexed registrar);

    /// @dev Emitted when `account` was removed; all its member roles were revoked.
    event MemberRemoved(address indexed account, address indexed registrar);

    /// @dev Membership record of `account` (zeroes when not a member).
    function memberOf(address account) external view returns (Member memory);

    /// @dev Whether `account` is admitted and its membership has not expired.
    function isMember(address account) external view returns (bool);

    /// @dev Whether `account` is a current member holding `role`.
    function isActive(address account, bytes32 role) external view returns (bool);
}
