// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC3525} from "./IERC3525.sol";

/**
 * @dev Receivable claims on confirmed payables. A slot is one payable of a core enterprise
 * (debtor, settlement asset, face value, maturity); a token's value is the part of it its holder
 * is owed. Every value-moving entry point passes one hook that refuses blocked moves.
 */
interface IReceivableToken is IERC3525 {
    /// @dev Why value moved, as carried by {ValueMoved}.
    enum MoveKind {
        Issue,
        Transfer,
        Split,
        Merge,
        Redeem,
        Seize
    }

    struct SlotData {
        address debtor;
        uint40 maturity;
        uint32 gracePeriod;
        uint32 defaultPeriod;
        address asset;
        uint40 issuedAt;
        uint256 faceValue;
        uint256 redeemedValue;
    }

    struct IssueRequest {
        address holder;
        address asset;
        uint256 faceValue;
        uint40 maturity;
        uint32 gracePeriod;
        uint32 defaultPeriod;
        bytes32[] invoices;
    }

    /// @dev Token `tokenId` does not exist.
    error ReceivableNonexistentToken(uint256 tokenId);
    /// @dev `account` is not a current member.
    error ReceivableNotMember(address account);
    /// @dev `account` lacks `role` for the action.
    error ReceivableUnauthorizedAccount(address account, bytes32 role);
    /// @dev `operator` is neither owner, approved, nor allowed `value` of `tokenId`.
    error ReceivableInsufficientAllowance(address operator, uint256 tokenId, uint256 allowance, uint256 value);
    /// @dev `operator` may not act on `tokenId`.
    error ReceivableUnauthorizedOperator(address operator, uint256 tokenId);
    /// @dev Moves are paused.
    error ReceivablePaused();
    /// @dev Token `tokenId` was not yet accepted by its first holder.
    error ReceivableNotAccepted(uint256 tokenId);
    /// @dev Token `tokenId` was accepted already.
    error ReceivableAlreadyAccepted(uint256 tokenId);
    /// @dev Only `available` of `tokenId` is free (neither frozen nor encumbered); `value` was asked.
    error ReceivableValueLocked(uint256 tokenId, uint256 available, uint256 value);
    /// @dev The payable of `slot` matured at `maturity`; its claims no longer move.
    error ReceivableMatured(uint256 slot, uint40 maturity);
    /// @dev The payable of `slot` has not matured; it cannot be redeemed yet.
    error ReceivableNotMatured(uint256 slot, uint40 maturity);
    /// @dev `value` is zero or exceeds the balance `balance` of `tokenId`.
    error ReceivableInvalidValue(uint256 tokenId, uint256 balance, uint256 value);
    /// @dev The two tokens are in different slots.
    error ReceivableSlotMismatch(uint256 fromSlot, uint256 toSlot);
    /// @dev The two token ids are the same token.
    error ReceivableSameToken(uint256 tokenId);
    /// @dev `to` is the zero address or cannot receive tokens.
    error ReceivableInvalidReceiver(address to);
    /// @dev Issue parameters are inconsistent; `reason` names which.
    error ReceivableInvalidIssue(bytes32 reason);
    /// @dev The invoices sum to `covered`, less than `faceValue`.
    error ReceivableFaceNotCovered(uint256 faceValue, uint256 covered);
    /// @dev The asset's decimals `assetDecimals` differ from {valueDecimals}.
    error ReceivableDecimalsMismatch(uint8 assetDecimals, uint8 valueDecimals);
    /// @dev The acceptance signature expired at `deadline`.
    error ReceivableExpiredSignature(uint256 deadline);
    /// @dev The signature is not the holder's.
    error ReceivableInvalidSignature(address holder);
    /// @dev Frozen/encumbered amount change is larger than possible.
    error ReceivableInvalidLock(uint256 tokenId, uint256 current, uint256 amount);
    /// @dev Ether was sent to a function that takes none.
    error ReceivableNoEther();

    /// @dev A payable was issued by `debtor` as `slot`, first held by token `tokenId`.
    event SlotIssued(
        uint256 indexed slot,
        address indexed debtor,
        uint256 indexed tokenId,
        address holder,
        address asset,
        uint256 faceValue,
        uint40 maturity,
        uint32 gracePeriod,
        uint32 defaultPeriod,
        bytes32[] invoices
    );
    /// @dev The first holder accepted token `tokenId`.
    event ReceivableAccepted(uint256 indexed tokenId, address indexed holder);
    /// @dev `value` of `slot` moved from token `fromTokenId` (0: minted) to `toTokenId` (0: burned).
    event ValueMoved(
        uint256 indexed slot, uint256 indexed fromTokenId, uint256 indexed toTokenId, uint256 value, MoveKind kind
    );
    /// @dev The frozen amount of `tokenId` became `frozen`.
    event ValueFrozen(uint256 indexed tokenId, uint256 frozen, address indexed regulator, bytes32 reason);
    /// @dev The encumbered (pledged or financed) amount of `tokenId` became `encumbered`.
    event ValueEncumbered(uint256 indexed tokenId, uint256 encumbered, address indexed by);
    event Paused(address account);
    event Unpaused(address account);

    function slotData(uint256 slot) external view returns (SlotData memory);

    function frozenOf(uint256 tokenId) external view returns (uint256);

    function encumberedOf(uint256 tokenId) external view returns (uint256);

    function isAccepted(uint256 tokenId) external view returns (bool);

    function paused() external view returns (bool);

    function issue(IssueRequest calldata request) external returns (uint256 slot, uint256 tokenId);

    function accept(uint256 tokenId) external;

    function acceptWithSig(uint256 tokenId, uint256 deadline, bytes calldata signature) external;

    function merge(uint256 fromTokenId, uint256 toTokenId) external;

    function setFrozen(uint256 tokenId, uint256 frozen, bytes32 reason) external;

    function encumber(uint256 tokenId, uint256 amount) external;

    function release(uint256 tokenId, uint256 amount) external;

    function burnSettled(uint256 tokenId) external returns (uint256 value);

    function seize(uint256 tokenId, uint256 value, address to) external returns (uint256 newTokenId);

    function reassign(uint256 tokenId, address to) external;

    function issueRecourse(address debtor, address holder, address asset, uint256 faceValue, uint40 maturity,
        uint32 gracePeriod, uint32 defaultPeriod) external returns (uint256 slot, uint256 tokenId);
}
