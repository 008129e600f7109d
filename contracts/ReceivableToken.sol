// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IERC3525, IERC3525Receiver} from "./interfaces/IERC3525.sol";
import {IInvoiceRegistry} from "./interfaces/IInvoiceRegistry.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {Roles} from "./Roles.sol";

/**
 * @dev Receivable claims as ERC-3525 semi-fungible tokens (with ERC-721 and ERC-165).
 *
 * A slot is one payable confirmed by a core enterprise against notarized invoices; a token's
 * value is the part of that payable its holder is owed. Holders split value into new tokens for
 * their own suppliers, move value between tokens of a slot, transfer or merge whole tokens.
 *
 * Every value-moving entry point goes through {_checkMove}, which refuses moves while paused, of
 * unaccepted tokens, of frozen or encumbered value, after maturity, or between non-members.
 * There is no enumeration storage: the indexer rebuilds holdings from the events, which keeps a
 * split to a new holder near the cost of three fresh storage words.
 */
contract ReceivableToken is IReceivableToken, Context, EIP712, Nonces {
    /// @dev Keccak of "Accept(uint256 tokenId,address holder,uint256 nonce,uint256 deadline)".
    bytes32 public constant ACCEPT_TYPEHASH =
        keccak256("Accept(uint256 tokenId,address holder,uint256 nonce,uint256 deadline)");

    struct TokenData {
        address owner;
        uint64 slot;
        bool accepted;
        uint24 approvalEpoch; // bumped on ownership change; value allowances of older epochs are void
    }

    struct Locks {
        uint128 frozen;
        uint128 encumbered;
    }

    struct ValueAllowance {
        uint24 epoch;
        uint232 amount;
    }

    IParticipants private immutable _participants;
    IInvoiceRegistry private immutable _registry;
    uint8 private immutable _valueDecimals;

    uint64 private _lastTokenId;
    uint64 private _lastSlot;
    bool private _paused;

    mapping(uint256 tokenId => TokenData) private _tokens;
    mapping(uint256 tokenId => uint256) private _values;
    mapping(uint256 tokenId => Locks) private _locks;
    mapping(uint256 slot => SlotData) private _slots;
    mapping(address owner => uint256) private _balances;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;
    mapping(uint256 tokenId => mapping(address operator => ValueAllowance)) private _valueAllowances;

    constructor(IParticipants participants_, IInvoiceRegistry registry_, uint8 valueDecimals_)
        EIP712("scf-ledger ReceivableToken", "1")
    {
        _participants = participants_;
        _registry = registry_;
        _valueDecimals = valueDecimals_;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC3525).interfaceId || interfaceId == type(IERC721).interfaceId
            || interfaceId == type(IERC165).interfaceId;
    }

    function participants() external view returns (IParticipants) {
        return _participants;
    }

    function registry() external view returns (IInvoiceRegistry) {
        return _registry;
    }

    /// @inheritdoc IERC3525
    function valueDecimals() external view returns (uint8) {
        return _valueDecimals;
    }

    /// @inheritdoc IERC3525
    function balanceOf(uint256 tokenId) external view returns (uint256) {
        _requireOwned(tokenId);
        return _values[tokenId];
    }

    /// @inheritdoc IERC3525
    function slotOf(uint256 tokenId) external view returns (uint256) {
        return _requireOwned(tokenId).slot;
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ReceivableInvalidReceiver(address(0));
        return _balances[owner];
    }

    /// @inheritdoc IERC721
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _requireOwned(tokenId).owner;
    }

    /// @inheritdoc IERC721
    function getApproved(uint256 tokenId) external view returns (address) {
        _requireOwned(tokenId);
        return _tokenApprovals[tokenId];
    }

    /// @inheritdoc IERC721
    function isApprovedForAll(address owner, address operator) public view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @inheritdoc IERC3525
    function allowance(uint256 tokenId, address operator) public view returns (uint256) {
        TokenData memory token = _requireOwned(tokenId);
        ValueAllowance memory a = _valueAllowances[tokenId][operator];
        return a.epoch == token.approvalEpoch ? a.amount : 0;
    }

    /// @inheritdoc IReceivableToken
    function slotData(uint256 slot) external view returns (SlotData memory) {
        return _slots[slot];
    }

    /// @inheritdoc IReceivableToken
    function frozenOf(uint256 tokenId) external view returns (uint256) {
        return _locks[tokenId].frozen;
    }

    /// @inheritdoc IReceivableToken
    function encumberedOf(uint256 tokenId) external view returns (uint256) {
        return _locks[tokenId].encumbered;
    }

    /// @inheritdoc IReceivableToken
    function isAccepted(uint256 tokenId) external view returns (bool) {
        return _requireOwned(tokenId).accepted;
    }

    /// @inheritdoc IReceivableToken
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @dev The EIP-712 domain separator of acceptance signatures.
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // -------------------------------------------------------------- issuance

    /**
     * @dev The caller, a core enterprise, issues a payable to `request.holder` backed by its
     * confirmed invoices; returns the new slot and the holder's token (not yet accepted).
     *
     * Requirements:
     * - the caller is a current CORE_ENTERPRISE; the holder a current member other than the caller;
     * - face value non-zero, maturity in the future, at least one invoice;
     * - the asset has {valueDecimals} decimals;
     * - each invoice is Confirmed, sold by the holder to the caller in `asset`, and unlinked;
     *   together they cover the face value.
     *
     * Emits {SlotIssued}, {IERC721-Transfer}, {SlotChanged}, {TransferValue}, {ValueMoved} and an
     * {IInvoiceRegistry-InvoiceLinked} per invoice.
     */
    function issue(IssueRequest calldata request) external returns (uint256 slot, uint256 tokenId) {
        address debtor = _msgSender();
        if (!_participants.isActive(debtor, Roles.CORE_ENTERPRISE)) {
            revert ReceivableUnauthorizedAccount(debtor, Roles.CORE_ENTERPRISE);
        }
        if (request.holder == address(0) || request.holder == debtor) revert ReceivableInvalidReceiver(request.holder);
        if (!_participants.isMember(request.holder)) revert ReceivableNotMember(request.holder);
        if (request.faceValue == 0 || request.faceValue > type(uint128).max) revert ReceivableInvalidIssue("faceValue");
        if (request.maturity <= block.timestamp) revert ReceivableInvalidIssue("maturity");
        if (request.invoices.length == 0) revert ReceivableInvalidIssue("invoices");
        uint8 assetDecimals = _decimalsOf(request.asset);
        if (assetDecimals != _valueDecimals) revert ReceivableDecimalsMismatch(assetDecimals, _valueDecimals);

        slot = ++_lastSlot;
        uint256 covered = _registry.link(request.invoices, uint64(slot), request.holder, debtor, request.asset);
        if (covered < request.faceValue) revert ReceivableFaceNotCovered(request.faceValue, covered);
        _slots[slot] = SlotData({
            debtor: debtor,
            maturity: request.maturity,
            gracePeriod: request.gracePeriod,
            defaultPeriod: request.defaultPeriod,
            asset: request.asset,
            issuedAt: uint40(block.timestamp),
            faceValue: request.faceValue,
            redeemedValue: 0
        });
        tokenId = _mint(request.holder, slot, request.faceValue, false);
        emit SlotIssued(
            slot,
            debtor,
            tokenId,
            request.holder,
            request.asset,
            request.faceValue,
            request.maturity,
            request.gracePeriod,
            request.defaultPeriod,
            request.invoices
        );
        emit TransferValue(0, tokenId, request.faceValue);
        emit ValueMoved(slot, 0, tokenId, request.faceValue, MoveKind.Issue);
    }

    /**
     * @dev The first holder accepts its token, which makes it movable.
     *
     * Requirements: the caller owns `tokenId`, is a current member, and the token is unaccepted.
     *
     * Emits {ReceivableAccepted}.
     */
    function accept(uint256 tokenId) external {
        TokenData memory token = _requireOwned(tokenId);
        if (token.owner != _msgSender()) revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        _accept(tokenId, token);
    }

    /**
     * @dev Accepts `tokenId` on behalf of its owner with an EIP-712 `Accept` signature (EOA or
     * ERC-1271 wallet); anyone may relay it.
     *
     * Requirements: `deadline` not passed; the signature is the owner's over its current nonce;
     * the owner is a current member and the token unaccepted.
     *
     * Emits {ReceivableAccepted}.
     */
    function acceptWithSig(uint256 tokenId, uint256 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert ReceivableExpiredSignature(deadline);
        TokenData memory token = _requireOwned(tokenId);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(ACCEPT_TYPEHASH, tokenId, token.owner, _useNonce(token.owner), deadline)));
        if (!SignatureChecker.isValidSignatureNow(token.owner, digest, signature)) {
            revert ReceivableInvalidSignature(token.owner);
        }
        _accept(tokenId, token);
    }

    // --------------------------------------------------------- value moves

    /**
     * @dev Moves `value` of `fromTokenId` into a new token of the same slot owned by `to`
     * (a split); returns the new token id.
     *
     * Requirements: the caller owns, is approved for, or has a value allowance of `fromTokenId`;
     * the move passes {_checkMove}; `to` is not the zero address.
     *
     * Emits {IERC721-Transfer}, {SlotChanged}, {TransferValue} and {ValueMoved}.
     */
    function transferFrom(uint256 fromTokenId, address to, uint256 value) external payable returns (uint256) {
        _noEther();
        TokenData memory from = _requireOwned(fromTokenId);
        _spendAllowance(fromTokenId, from, value);
        if (to == address(0)) revert ReceivableInvalidReceiver(to);
        _checkMove(fromTokenId, from, to, value);
        uint256 newTokenId = _mint(to, from.slot, value, true);
        _values[fromTokenId] -= value;
        emit TransferValue(fromTokenId, newTokenId, value);
        emit ValueMoved(from.slot, fromTokenId, newTokenId, value, MoveKind.Split);
        _checkOnERC3525Received(fromTokenId, newTokenId, to, value);
        return newTokenId;
    }

    /**
     * @dev Moves `value` from `fromTokenId` to the existing token `toTokenId` of the same slot.
     *
     * Requirements: as for the split; both tokens exist, differ, share the slot, and `toTokenId`
     * is accepted.
     *
     * Emits {TransferValue} and {ValueMoved}.
     */
    function transferFrom(uint256 fromTokenId, uint256 toTokenId, uint256 value) external payable {
        _noEther();
        TokenData memory from = _requireOwned(fromTokenId);
        TokenData memory to = _requireSibling(fromTokenId, from, toTokenId);
        _spendAllowance(fromTokenId, from, value);
        _checkMove(fromTokenId, from, to.owner, value);
        _values[fromTokenId] -= value;
        _values[toTokenId] += value;
        emit TransferValue(fromTokenId, toTokenId, value);
        emit ValueMoved(from.slot, fromTokenId, toTokenId, value, MoveKind.Transfer);
        _checkOnERC3525Received(fromTokenId, toTokenId, to.owner, value);
    }

    /**
     * @dev Moves all value of `fromTokenId` into `toTokenId` of the same slot and owner, and burns
     * `fromTokenId`.
     *
     * Requirements: the caller owns or is approved for `fromTokenId`; both tokens have the same
     * owner and slot; `toTokenId` is accepted; the move passes {_checkMove}.
     *
     * Emits {TransferValue}, {ValueMoved}, {IERC721-Transfer} and {SlotChanged}.
     */
    function merge(uint256 fromTokenId, uint256 toTokenId) external {
        TokenData memory from = _requireOwned(fromTokenId);
        TokenData memory to = _requireSibling(fromTokenId, from, toTokenId);
        if (!_isAuthorized(from.owner, fromTokenId)) revert ReceivableUnauthorizedOperator(_msgSender(), fromTokenId);
        if (to.owner != from.owner) revert ReceivableUnauthorizedOperator(_msgSender(), toTokenId);
        uint256 value = _values[fromTokenId];
        _checkMove(fromTokenId, from, to.owner, value);
        _values[toTokenId] += value;
        emit TransferValue(fromTokenId, toTokenId, value);
        emit ValueMoved(from.slot, fromTokenId, toTokenId, value, MoveKind.Merge);
        _burn(fromTokenId, from);
    }

    /// @inheritdoc IERC721
    function transferFrom(address from, address to, uint256 tokenId) external {
        _transferToken(from, to, tokenId);
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        _transferToken(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(_msgSender(), from, to, tokenId, "");
    }

    /// @inheritdoc IERC721
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes calldata data) external {
        _transferToken(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(_msgSender(), from, to, tokenId, data);
    }

    // ------------------------------------------------------------ approvals

    /// @inheritdoc IERC721
    function approve(address to, uint256 tokenId) external {
        TokenData memory token = _requireOwned(tokenId);
        if (_msgSender() != token.owner && !isApprovedForAll(token.owner, _msgSender())) {
            revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        }
        _tokenApprovals[tokenId] = to;
        emit Approval(token.owner, to, tokenId);
    }

    /// @inheritdoc IERC721
    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0) || operator == _msgSender()) revert ReceivableInvalidReceiver(operator);
        _operatorApprovals[_msgSender()][operator] = approved;
        emit ApprovalForAll(_msgSender(), operator, approved);
    }

    /// @inheritdoc IERC3525
    function approve(uint256 tokenId, address operator, uint256 value) external payable {
        _noEther();
        TokenData memory token = _requireOwned(tokenId);
        if (_msgSender() != token.owner && !isApprovedForAll(token.owner, _msgSender())) {
            revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        }
        if (operator == address(0) || operator == token.owner) revert ReceivableInvalidReceiver(operator);
        uint232 amount = value > type(uint232).max ? type(uint232).max : uint232(value);
        _valueAllowances[tokenId][operator] = ValueAllowance(token.approvalEpoch, amount);
        emit ApprovalValue(tokenId, operator, value);
    }

    // ------------------------------------------------------ regulator, system

    /**
     * @dev Sets the frozen amount of `tokenId` to `frozen`; frozen value cannot move.
     *
     * Requirements: the caller is a current REGULATOR; frozen plus encumbered value fits the balance.
     *
     * Emits {ValueFrozen}.
     */
    function setFrozen(uint256 tokenId, uint256 frozen, bytes32 reason) external {
        _requireRole(Roles.REGULATOR);
        _requireOwned(tokenId);
        Locks storage locks = _locks[tokenId];
        if (frozen + locks.encumbered > _values[tokenId]) revert ReceivableInvalidLock(tokenId, locks.frozen, frozen);
        locks.frozen = uint128(frozen);
        emit ValueFrozen(tokenId, frozen, _msgSender(), reason);
    }

    /**
     * @dev Pauses all value moves. Requirements: the caller is a current REGULATOR. Emits {Paused}.
     */
    function pause() external {
        _requireRole(Roles.REGULATOR);
        _paused = true;
        emit Paused(_msgSender());
    }

    /**
     * @dev Resumes value moves. Requirements: the caller is a current REGULATOR. Emits {Unpaused}.
     */
    function unpause() external {
        _requireRole(Roles.REGULATOR);
        _paused = false;
        emit Unpaused(_msgSender());
    }

    /**
     * @dev Encumbers (pledges or earmarks for financing) `amount` more of `tokenId`.
     *
     * Requirements: the caller has SYSTEM_ROLE; not paused; the token is accepted and has `amount`
     * of free value.
     *
     * Emits {ValueEncumbered}.
     */
    function encumber(uint256 tokenId, uint256 amount) external {
        _requireSystem();
        TokenData memory token = _requireOwned(tokenId);
        if (_paused) revert ReceivablePaused();
        if (!token.accepted) revert ReceivableNotAccepted(tokenId);
        Locks storage locks = _locks[tokenId];
        uint256 free = _values[tokenId] - locks.frozen - locks.encumbered;
        if (amount == 0 || amount > free) revert ReceivableValueLocked(tokenId, free, amount);
        locks.encumbered += uint128(amount);
        emit ValueEncumbered(tokenId, locks.encumbered, _msgSender());
    }

    /**
     * @dev Releases `amount` of the encumbered value of `tokenId`.
     *
     * Requirements: the caller has SYSTEM_ROLE; at least `amount` is encumbered.
     *
     * Emits {ValueEncumbered}.
     */
    function release(uint256 tokenId, uint256 amount) external {
        _requireSystem();
        _requireOwned(tokenId);
        Locks storage locks = _locks[tokenId];
        if (amount == 0 || amount > locks.encumbered) revert ReceivableInvalidLock(tokenId, locks.encumbered, amount);
        locks.encumbered -= uint128(amount);
        emit ValueEncumbered(tokenId, locks.encumbered, _msgSender());
    }

    /**
     * @dev Moves `value` of the encumbered value of `tokenId` to `to` as a new token (a lender
     * seizing pledged value on default); works after maturity and whatever `to`'s membership.
     *
     * Requirements: the caller has SYSTEM_ROLE; not paused; at least `value` is encumbered and
     * none of it frozen beyond what remains.
     *
     * Emits {ValueEncumbered}, {IERC721-Transfer}, {SlotChanged}, {TransferValue} and {ValueMoved}.
     */
    function seize(uint256 tokenId, uint256 value, address to) external returns (uint256 newTokenId) {
        _requireSystem();
        TokenData memory token = _requireOwned(tokenId);
        if (_paused) revert ReceivablePaused();
        if (to == address(0)) revert ReceivableInvalidReceiver(to);
        Locks storage locks = _locks[tokenId];
        if (value == 0 || value > locks.encumbered) revert ReceivableInvalidLock(tokenId, locks.encumbered, value);
        locks.encumbered -= uint128(value);
        emit ValueEncumbered(tokenId, locks.encumbered, _msgSender());
        newTokenId = _mint(to, token.slot, value, true);
        _values[tokenId] -= value;
        emit TransferValue(tokenId, newTokenId, value);
        emit ValueMoved(token.slot, tokenId, newTokenId, value, MoveKind.Seize);
    }

    /**
     * @dev Burns `tokenId` once the settlement vault paid it in full or wrote it off; its value
     * counts as redeemed value of its slot. Works whatever the holder's membership.
     *
     * Requirements: the caller has SYSTEM_ROLE; not paused; the slot has matured; the token is
     * accepted and holds no frozen or encumbered value.
     *
     * Emits {TransferValue}, {ValueMoved}, {IERC721-Transfer} and {SlotChanged}.
     */
    function burnSettled(uint256 tokenId) external returns (uint256 value) {
        _requireSystem();
        TokenData memory token = _requireOwned(tokenId);
        if (_paused) revert ReceivablePaused();
        if (!token.accepted) revert ReceivableNotAccepted(tokenId);
        SlotData storage slot = _slots[token.slot];
        if (block.timestamp < slot.maturity) revert ReceivableNotMatured(token.slot, slot.maturity);
        value = _values[tokenId];
        Locks memory locks = _locks[tokenId];
        if (locks.frozen != 0 || locks.encumbered != 0) {
            revert ReceivableValueLocked(tokenId, value - locks.frozen - locks.encumbered, value);
        }
        slot.redeemedValue += value;
        emit TransferValue(tokenId, 0, value);
        emit ValueMoved(token.slot, tokenId, 0, value, MoveKind.Redeem);
        _burn(tokenId, token);
    }

    // ------------------------------------------------------------- internals

    /**
     * @dev The one gate of every holder-initiated value move: `value` of `tokenId` (owned as in
     * `token`) goes to `to`. Refuses when paused, unaccepted, matured, between non-members, for a
     * zero or excess value, or when the value is frozen or encumbered.
     */
    function _checkMove(uint256 tokenId, TokenData memory token, address to, uint256 value) private view {
        if (_paused) revert ReceivablePaused();
        if (!token.accepted) revert ReceivableNotAccepted(tokenId);
        uint40 maturity = _slots[token.slot].maturity;
        if (block.timestamp >= maturity) revert ReceivableMatured(token.slot, maturity);
        if (!_participants.isMember(token.owner)) revert ReceivableNotMember(token.owner);
        if (to != token.owner && !_participants.isMember(to)) revert ReceivableNotMember(to);
        uint256 balance = _values[tokenId];
        if (value == 0 || value > balance) revert ReceivableInvalidValue(tokenId, balance, value);
        Locks memory locks = _locks[tokenId];
        uint256 free = balance - locks.frozen - locks.encumbered;
        if (value > free) revert ReceivableValueLocked(tokenId, free, value);
    }

    function _transferToken(address from, address to, uint256 tokenId) private {
        TokenData memory token = _requireOwned(tokenId);
        if (token.owner != from) revert ReceivableUnauthorizedOperator(from, tokenId);
        if (!_isAuthorized(from, tokenId)) revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        if (to == address(0)) revert ReceivableInvalidReceiver(to);
        _checkMove(tokenId, token, to, _values[tokenId]);
        delete _tokenApprovals[tokenId];
        TokenData storage stored = _tokens[tokenId];
        stored.owner = to;
        stored.approvalEpoch = token.approvalEpoch + 1;
        unchecked {
            _balances[from] -= 1;
            _balances[to] += 1;
        }
        emit Transfer(from, to, tokenId);
    }

    function _mint(address to, uint256 slot, uint256 value, bool accepted) private returns (uint256 tokenId) {
        tokenId = ++_lastTokenId;
        _tokens[tokenId] = TokenData({owner: to, slot: uint64(slot), accepted: accepted, approvalEpoch: 0});
        _values[tokenId] = value;
        unchecked {
            _balances[to] += 1;
        }
        emit Transfer(address(0), to, tokenId);
        emit SlotChanged(tokenId, 0, slot);
    }

    function _burn(uint256 tokenId, TokenData memory token) private {
        delete _tokens[tokenId];
        delete _values[tokenId];
        delete _tokenApprovals[tokenId];
        unchecked {
            _balances[token.owner] -= 1;
        }
        emit Transfer(token.owner, address(0), tokenId);
        emit SlotChanged(tokenId, token.slot, 0);
    }

    function _accept(uint256 tokenId, TokenData memory token) private {
        if (token.accepted) revert ReceivableAlreadyAccepted(tokenId);
        if (!_participants.isMember(token.owner)) revert ReceivableNotMember(token.owner);
        _tokens[tokenId].accepted = true;
        emit ReceivableAccepted(tokenId, token.owner);
    }

    function _spendAllowance(uint256 tokenId, TokenData memory token, uint256 value) private {
        if (_isAuthorized(token.owner, tokenId)) return;
        ValueAllowance storage a = _valueAllowances[tokenId][_msgSender()];
        uint256 current = a.epoch == token.approvalEpoch ? a.amount : 0;
        if (current < value) revert ReceivableInsufficientAllowance(_msgSender(), tokenId, current, value);
        if (current != type(uint232).max) a.amount = uint232(current - value);
    }

    function _isAuthorized(address owner, uint256 tokenId) private view returns (bool) {
        address spender = _msgSender();
        return spender == owner || _operatorApprovals[owner][spender] || _tokenApprovals[tokenId] == spender;
    }

    function _requireOwned(uint256 tokenId) private view returns (TokenData memory token) {
        token = _tokens[tokenId];
        if (token.owner == address(0)) revert ReceivableNonexistentToken(tokenId);
    }

    function _requireSibling(uint256 fromTokenId, TokenData memory from, uint256 toTokenId)
        private
        view
        returns (TokenData memory to)
    {
        if (fromTokenId == toTokenId) revert ReceivableSameToken(fromTokenId);
        to = _requireOwned(toTokenId);
        if (to.slot != from.slot) revert ReceivableSlotMismatch(from.slot, to.slot);
        if (!to.accepted) revert ReceivableNotAccepted(toTokenId);
    }

    function _requireRole(bytes32 role) private view {
        if (!_participants.isActive(_msgSender(), role)) revert ReceivableUnauthorizedAccount(_msgSender(), role);
    }

    function _requireSystem() private view {
        if (!IAccessControl(address(_participants)).hasRole(Roles.SYSTEM, _msgSender())) {
            revert ReceivableUnauthorizedAccount(_msgSender(), Roles.SYSTEM);
        }
    }

    function _decimalsOf(address asset) private view returns (uint8) {
        if (asset.code.length == 0) revert ReceivableInvalidIssue("asset");
        try IERC20Metadata(asset).decimals() returns (uint8 decimals) {
            return decimals;
        } catch {
            revert ReceivableInvalidIssue("asset");
        }
    }

    function _noEther() private view {
        if (msg.value != 0) revert ReceivableNoEther();
    }

    /**
     * @dev Calls {IERC3525Receiver-onERC3525Received} on `to` when it is a contract that declares
     * the receiver interface (as the reference implementation does); state is final before the call.
     */
    function _checkOnERC3525Received(uint256 fromTokenId, uint256 toTokenId, address to, uint256 value) private {
        if (to.code.length == 0) return;
        if (!ERC165Checker.supportsInterface(to, type(IERC3525Receiver).interfaceId)) return;
        bytes4 retval =
            IERC3525Receiver(to).onERC3525Received(_msgSender(), fromTokenId, toTokenId, value, "");
        if (retval != IERC3525Receiver.onERC3525Received.selector) revert ReceivableInvalidReceiver(to);
    }
}
