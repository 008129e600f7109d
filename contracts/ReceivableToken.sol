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
 * There is no enumeration storage (the indexer rebuilds holdings from the events) and a token is
 * one storage word (owner and value; the slot is part of the id), so a split to a new holder costs
 * two fresh storage words: the token and the holder's ERC-721 balance.
 */
contract ReceivableToken is IReceivableToken, Context, EIP712, Nonces {
    /// @dev Keccak of "Accept(uint256 tokenId,address holder,uint256 nonce,uint256 deadline)".
    bytes32 public constant ACCEPT_TYPEHASH =
        keccak256("Accept(uint256 tokenId,address holder,uint256 nonce,uint256 deadline)");

    /// @dev A token in one storage word. Its slot is `tokenId / SLOT_BASE`: nothing to store.
    struct TokenData {
        address owner;
        uint96 value;
    }

    /// @dev The hot word of a slot, read by every move of its tokens.
    struct SlotHead {
        address debtor;
        uint40 maturity;
        bool accepted; // the first holder accepted; all later tokens of the slot derive from it
        uint16 lockedTokens; // tokens of the slot with frozen or encumbered value
        uint32 lastSerial; // serial of the slot's newest token
    }

    /// @dev The rest of a slot.
    struct SlotTail {
        uint32 gracePeriod;
        uint32 defaultPeriod;
        address asset;
        uint40 issuedAt;
        uint96 faceValue;
        uint96 redeemedValue;
    }

    struct Locks {
        uint128 frozen;
        uint128 encumbered;
    }

    struct ValueAllowance {
        uint24 epoch;
        uint232 amount;
    }

    /// @dev Token ids are `slot * SLOT_BASE + serial`: token 2000000003 is the third token of slot 2.
    uint256 public constant SLOT_BASE = 1e9;

    IParticipants private immutable _participants;
    IInvoiceRegistry private immutable _registry;
    uint8 private immutable _valueDecimals;

    uint64 private _lastSlot;
    bool private _paused;

    mapping(uint256 tokenId => TokenData) private _tokens;
    mapping(uint256 tokenId => Locks) private _locks;
    mapping(uint256 tokenId => uint24) private _approvalEpochs;
    mapping(uint256 slot => SlotHead) private _slotHeads;
    mapping(uint256 slot => SlotTail) private _slotTails;
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
        return _requireOwned(tokenId).value;
    }

    /// @inheritdoc IERC3525
    function slotOf(uint256 tokenId) external view returns (uint256) {
        _requireOwned(tokenId);
        return tokenId / SLOT_BASE;
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
        _requireOwned(tokenId);
        ValueAllowance memory a = _valueAllowances[tokenId][operator];
        return a.epoch == _approvalEpochs[tokenId] ? a.amount : 0;
    }

    /// @inheritdoc IReceivableToken
    function slotData(uint256 slot) external view returns (SlotData memory) {
        SlotHead memory head = _slotHeads[slot];
        SlotTail memory tail = _slotTails[slot];
        return SlotData({
            debtor: head.debtor,
            maturity: head.maturity,
            gracePeriod: tail.gracePeriod,
            defaultPeriod: tail.defaultPeriod,
            asset: tail.asset,
            issuedAt: tail.issuedAt,
            faceValue: tail.faceValue,
            redeemedValue: tail.redeemedValue
        });
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
        _requireOwned(tokenId);
        return _slotHeads[tokenId / SLOT_BASE].accepted;
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
     * - face value non-zero and at most 2^96 - 1, maturity in the future, at least one invoice,
     *   default period not shorter than the grace period;
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
        if (request.faceValue == 0 || request.faceValue > type(uint96).max) revert ReceivableInvalidIssue("faceValue");
        if (request.maturity <= block.timestamp) revert ReceivableInvalidIssue("maturity");
        if (request.invoices.length == 0) revert ReceivableInvalidIssue("invoices");
        if (request.defaultPeriod < request.gracePeriod) revert ReceivableInvalidIssue("periods");
        uint8 assetDecimals = _decimalsOf(request.asset);
        if (assetDecimals != _valueDecimals) revert ReceivableDecimalsMismatch(assetDecimals, _valueDecimals);

        slot = ++_lastSlot;
        uint256 covered = _registry.link(request.invoices, uint64(slot), request.holder, debtor, request.asset);
        if (covered < request.faceValue) revert ReceivableFaceNotCovered(request.faceValue, covered);
        _slotHeads[slot] =
            SlotHead({debtor: debtor, maturity: request.maturity, accepted: false, lockedTokens: 0, lastSerial: 0});
        _slotTails[slot] = SlotTail({
            gracePeriod: request.gracePeriod,
            defaultPeriod: request.defaultPeriod,
            asset: request.asset,
            issuedAt: uint40(block.timestamp),
            faceValue: uint96(request.faceValue),
            redeemedValue: 0
        });
        tokenId = _mint(request.holder, slot, request.faceValue);
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
     * @dev The first holder accepts its token, which makes the payable's value movable.
     *
     * Requirements: the caller owns `tokenId`, is a current member, and the token is unaccepted.
     *
     * Emits {ReceivableAccepted}.
     */
    function accept(uint256 tokenId) external {
        TokenData memory token = _requireOwned(tokenId);
        if (token.owner != _msgSender()) revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        _accept(tokenId, token.owner);
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
        address holder = _requireOwned(tokenId).owner;
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(ACCEPT_TYPEHASH, tokenId, holder, _useNonce(holder), deadline)));
        if (!SignatureChecker.isValidSignatureNow(holder, digest, signature)) {
            revert ReceivableInvalidSignature(holder);
        }
        _accept(tokenId, holder);
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
        _spendAllowance(fromTokenId, from.owner, value);
        if (to == address(0)) revert ReceivableInvalidReceiver(to);
        uint256 slot = fromTokenId / SLOT_BASE;
        _checkMove(fromTokenId, from, to, value);
        _tokens[fromTokenId].value = from.value - uint96(value);
        uint256 newTokenId = _mint(to, slot, value);
        emit TransferValue(fromTokenId, newTokenId, value);
        emit ValueMoved(slot, fromTokenId, newTokenId, value, MoveKind.Split);
        _checkOnERC3525Received(fromTokenId, newTokenId, to, value);
        return newTokenId;
    }

    /**
     * @dev Moves `value` from `fromTokenId` to the existing token `toTokenId` of the same slot.
     *
     * Requirements: as for the split; both tokens exist, differ and share the slot.
     *
     * Emits {TransferValue} and {ValueMoved}.
     */
    function transferFrom(uint256 fromTokenId, uint256 toTokenId, uint256 value) external payable {
        _noEther();
        TokenData memory from = _requireOwned(fromTokenId);
        TokenData memory to = _requireSibling(fromTokenId, toTokenId);
        _spendAllowance(fromTokenId, from.owner, value);
        _checkMove(fromTokenId, from, to.owner, value);
        _tokens[fromTokenId].value = from.value - uint96(value);
        _tokens[toTokenId].value = to.value + uint96(value);
        emit TransferValue(fromTokenId, toTokenId, value);
        emit ValueMoved(fromTokenId / SLOT_BASE, fromTokenId, toTokenId, value, MoveKind.Transfer);
        _checkOnERC3525Received(fromTokenId, toTokenId, to.owner, value);
    }

    /**
     * @dev Moves all value of `fromTokenId` into `toTokenId` of the same slot and owner, and burns
     * `fromTokenId`.
     *
     * Requirements: the caller owns or is approved for `fromTokenId`; both tokens have the same
     * owner and slot; the move passes {_checkMove}.
     *
     * Emits {TransferValue}, {ValueMoved}, {IERC721-Transfer} and {SlotChanged}.
     */
    function merge(uint256 fromTokenId, uint256 toTokenId) external {
        TokenData memory from = _requireOwned(fromTokenId);
        TokenData memory to = _requireSibling(fromTokenId, toTokenId);
        if (!_isAuthorized(from.owner, fromTokenId)) revert ReceivableUnauthorizedOperator(_msgSender(), fromTokenId);
        if (to.owner != from.owner) revert ReceivableUnauthorizedOperator(_msgSender(), toTokenId);
        _checkMove(fromTokenId, from, to.owner, from.value);
        _tokens[toTokenId].value = to.value + from.value;
        emit TransferValue(fromTokenId, toTokenId, from.value);
        emit ValueMoved(fromTokenId / SLOT_BASE, fromTokenId, toTokenId, from.value, MoveKind.Merge);
        _burn(fromTokenId, from.owner);
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
        address owner = _requireOwned(tokenId).owner;
        if (_msgSender() != owner && !isApprovedForAll(owner, _msgSender())) {
            revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        }
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
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
        address owner = _requireOwned(tokenId).owner;
        if (_msgSender() != owner && !isApprovedForAll(owner, _msgSender())) {
            revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        }
        if (operator == address(0) || operator == owner) revert ReceivableInvalidReceiver(operator);
        uint232 amount = value > type(uint232).max ? type(uint232).max : uint232(value);
        _valueAllowances[tokenId][operator] = ValueAllowance(_approvalEpochs[tokenId], amount);
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
        uint256 value = _requireOwned(tokenId).value;
        Locks memory locks = _locks[tokenId];
        if (frozen + locks.encumbered > value) revert ReceivableInvalidLock(tokenId, locks.frozen, frozen);
        _setLocks(tokenId, locks, Locks(uint128(frozen), locks.encumbered));
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
     * @dev Encumbers (pledges or earmarks for financing) `amount` more of `tokenId`. Nothing is
     * encumbered after maturity, so once matured a token's locks only shrink and its value changes
     * only by a seize of what was encumbered before.
     *
     * Requirements: the caller has SYSTEM_ROLE; not paused; the slot has not matured; the token is
     * accepted and has `amount` of free value.
     *
     * Emits {ValueEncumbered}.
     */
    function encumber(uint256 tokenId, uint256 amount) external {
        _requireSystem();
        uint256 value = _requireOwned(tokenId).value;
        if (_paused) revert ReceivablePaused();
        uint256 slot = tokenId / SLOT_BASE;
        SlotHead memory head = _slotHeads[slot];
        if (!head.accepted) revert ReceivableNotAccepted(tokenId);
        if (block.timestamp >= head.maturity) revert ReceivableMatured(slot, head.maturity);
        Locks memory locks = _locks[tokenId];
        uint256 free = value - locks.frozen - locks.encumbered;
        if (amount == 0 || amount > free) revert ReceivableValueLocked(tokenId, free, amount);
        Locks memory updated = Locks(locks.frozen, locks.encumbered + uint128(amount));
        _setLocks(tokenId, locks, updated);
        emit ValueEncumbered(tokenId, updated.encumbered, _msgSender());
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
        Locks memory locks = _locks[tokenId];
        if (amount == 0 || amount > locks.encumbered) revert ReceivableInvalidLock(tokenId, locks.encumbered, amount);
        Locks memory updated = Locks(locks.frozen, locks.encumbered - uint128(amount));
        _setLocks(tokenId, locks, updated);
        emit ValueEncumbered(tokenId, updated.encumbered, _msgSender());
    }

    /**
     * @dev Moves `value` of the encumbered value of `tokenId` to `to` as a new token (a lender
     * seizing pledged value on default); works after maturity and whatever `to`'s membership.
     *
     * Requirements: the caller has SYSTEM_ROLE; not paused; at least `value` is encumbered.
     *
     * Emits {ValueEncumbered}, {IERC721-Transfer}, {SlotChanged}, {TransferValue} and {ValueMoved}.
     */
    function seize(uint256 tokenId, uint256 value, address to) external returns (uint256 newTokenId) {
        _requireSystem();
        TokenData memory token = _requireOwned(tokenId);
        if (_paused) revert ReceivablePaused();
        if (to == address(0)) revert ReceivableInvalidReceiver(to);
        Locks memory locks = _locks[tokenId];
        if (value == 0 || value > locks.encumbered) revert ReceivableInvalidLock(tokenId, locks.encumbered, value);
        Locks memory updated = Locks(locks.frozen, locks.encumbered - uint128(value));
        _setLocks(tokenId, locks, updated);
        emit ValueEncumbered(tokenId, updated.encumbered, _msgSender());
        uint256 slot = tokenId / SLOT_BASE;
        _tokens[tokenId].value = token.value - uint96(value);
        newTokenId = _mint(to, slot, value);
        emit TransferValue(tokenId, newTokenId, value);
        emit ValueMoved(slot, tokenId, newTokenId, value, MoveKind.Seize);
    }

    /**
     * @dev Hands a whole matured token to `to` (a lender exercising recourse returns the defaulted
     * claim to the seller, who owes it the unpaid part under a new payable).
     *
     * Requirements: the caller has SYSTEM_ROLE; not paused; the slot has matured; the token holds
     * no frozen or encumbered value; `to` is not the zero address.
     *
     * Emits {IERC721-Transfer}.
     */
    function reassign(uint256 tokenId, address to) external {
        _requireSystem();
        TokenData memory token = _requireOwned(tokenId);
        if (_paused) revert ReceivablePaused();
        if (to == address(0)) revert ReceivableInvalidReceiver(to);
        uint256 slot = tokenId / SLOT_BASE;
        uint40 maturity = _slotHeads[slot].maturity;
        if (block.timestamp < maturity) revert ReceivableNotMatured(slot, maturity);
        Locks memory locks = _locks[tokenId];
        if (locks.frozen != 0 || locks.encumbered != 0) {
            revert ReceivableValueLocked(tokenId, token.value - locks.frozen - locks.encumbered, token.value);
        }
        delete _tokenApprovals[tokenId];
        ++_approvalEpochs[tokenId];
        _tokens[tokenId].owner = to;
        unchecked {
            _balances[token.owner] -= 1;
            _balances[to] += 1;
        }
        emit Transfer(token.owner, to, tokenId);
    }

    /**
     * @dev Records a recourse payable: `debtor` (a seller that sold with recourse) owes `holder`
     * (the lender) `faceValue`, settled through the vault like any payable. No invoices back it;
     * the seller agreed to it when the financing was made, so the token is accepted.
     *
     * Requirements: the caller has SYSTEM_ROLE; face value non-zero and at most 2^96 - 1; maturity
     * in the future; default period not shorter than grace; the asset has {valueDecimals} decimals.
     *
     * Emits {SlotIssued} (with no invoices), {IERC721-Transfer}, {SlotChanged}, {TransferValue},
     * {ValueMoved} and {ReceivableAccepted}.
     */
    function issueRecourse(
        address debtor,
        address holder,
        address asset,
        uint256 faceValue,
        uint40 maturity,
        uint32 gracePeriod,
        uint32 defaultPeriod
    ) external returns (uint256 slot, uint256 tokenId) {
        _requireSystem();
        if (holder == address(0) || holder == debtor) revert ReceivableInvalidReceiver(holder);
        if (faceValue == 0 || faceValue > type(uint96).max) revert ReceivableInvalidIssue("faceValue");
        if (maturity <= block.timestamp) revert ReceivableInvalidIssue("maturity");
        if (defaultPeriod < gracePeriod) revert ReceivableInvalidIssue("periods");
        uint8 assetDecimals = _decimalsOf(asset);
        if (assetDecimals != _valueDecimals) revert ReceivableDecimalsMismatch(assetDecimals, _valueDecimals);
        slot = ++_lastSlot;
        _slotHeads[slot] = SlotHead({debtor: debtor, maturity: maturity, accepted: true, lockedTokens: 0, lastSerial: 0});
        _slotTails[slot] = SlotTail({
            gracePeriod: gracePeriod,
            defaultPeriod: defaultPeriod,
            asset: asset,
            issuedAt: uint40(block.timestamp),
            faceValue: uint96(faceValue),
            redeemedValue: 0
        });
        tokenId = _mint(holder, slot, faceValue);
        emit SlotIssued(
            slot, debtor, tokenId, holder, asset, faceValue, maturity, gracePeriod, defaultPeriod, new bytes32[](0)
        );
        emit TransferValue(0, tokenId, faceValue);
        emit ValueMoved(slot, 0, tokenId, faceValue, MoveKind.Issue);
        emit ReceivableAccepted(tokenId, holder);
    }

    /**
     * @dev Burns `tokenId` once the settlement vault paid it in full or wrote it off; its value
     * counts as redeemed value of its slot. Works whatever the holder's membership.
     *
     * Requirements: the caller has SYSTEM_ROLE; not paused; the slot has matured and was accepted;
     * the token holds no frozen or encumbered value.
     *
     * Emits {TransferValue}, {ValueMoved}, {IERC721-Transfer} and {SlotChanged}.
     */
    function burnSettled(uint256 tokenId) external returns (uint256 value) {
        _requireSystem();
        TokenData memory token = _requireOwned(tokenId);
        if (_paused) revert ReceivablePaused();
        uint256 slot = tokenId / SLOT_BASE;
        SlotHead memory head = _slotHeads[slot];
        if (!head.accepted) revert ReceivableNotAccepted(tokenId);
        if (block.timestamp < head.maturity) revert ReceivableNotMatured(slot, head.maturity);
        value = token.value;
        Locks memory locks = _locks[tokenId];
        if (locks.frozen != 0 || locks.encumbered != 0) {
            revert ReceivableValueLocked(tokenId, value - locks.frozen - locks.encumbered, value);
        }
        _slotTails[slot].redeemedValue += token.value;
        emit TransferValue(tokenId, 0, value);
        emit ValueMoved(slot, tokenId, 0, value, MoveKind.Redeem);
        _burn(tokenId, token.owner);
    }

    // ------------------------------------------------------------- internals

    /**
     * @dev The one gate of every holder-initiated value move: `value` of `tokenId` (as in `token`)
     * goes to `to`. Refuses when paused, unaccepted, matured, between non-members, for a zero or
     * excess value, or when the value is frozen or encumbered.
     */
    function _checkMove(uint256 tokenId, TokenData memory token, address to, uint256 value) private view {
        if (_paused) revert ReceivablePaused();
        uint256 slot = tokenId / SLOT_BASE;
        SlotHead memory head = _slotHeads[slot];
        if (!head.accepted) revert ReceivableNotAccepted(tokenId);
        if (block.timestamp >= head.maturity) revert ReceivableMatured(slot, head.maturity);
        if (!_participants.isMember(token.owner)) revert ReceivableNotMember(token.owner);
        if (to != token.owner && !_participants.isMember(to)) revert ReceivableNotMember(to);
        if (value == 0 || value > token.value) revert ReceivableInvalidValue(tokenId, token.value, value);
        if (head.lockedTokens != 0) {
            Locks memory locks = _locks[tokenId];
            uint256 free = token.value - locks.frozen - locks.encumbered;
            if (value > free) revert ReceivableValueLocked(tokenId, free, value);
        }
    }

    function _transferToken(address from, address to, uint256 tokenId) private {
        TokenData memory token = _requireOwned(tokenId);
        if (token.owner != from) revert ReceivableUnauthorizedOperator(from, tokenId);
        if (!_isAuthorized(from, tokenId)) revert ReceivableUnauthorizedOperator(_msgSender(), tokenId);
        if (to == address(0)) revert ReceivableInvalidReceiver(to);
        _checkMove(tokenId, token, to, token.value);
        delete _tokenApprovals[tokenId];
        ++_approvalEpochs[tokenId];
        _tokens[tokenId].owner = to;
        unchecked {
            _balances[from] -= 1;
            _balances[to] += 1;
        }
        emit Transfer(from, to, tokenId);
    }

    function _mint(address to, uint256 slot, uint256 value) private returns (uint256 tokenId) {
        uint32 serial = ++_slotHeads[slot].lastSerial;
        tokenId = slot * SLOT_BASE + serial;
        if (serial >= SLOT_BASE) revert ReceivableInvalidIssue("serial");
        _tokens[tokenId] = TokenData({owner: to, value: uint96(value)});
        unchecked {
            _balances[to] += 1;
        }
        emit Transfer(address(0), to, tokenId);
        emit SlotChanged(tokenId, 0, slot);
    }

    function _burn(uint256 tokenId, address owner) private {
        delete _tokens[tokenId];
        delete _tokenApprovals[tokenId];
        unchecked {
            _balances[owner] -= 1;
        }
        emit Transfer(owner, address(0), tokenId);
        emit SlotChanged(tokenId, tokenId / SLOT_BASE, 0);
    }

    function _accept(uint256 tokenId, address holder) private {
        SlotHead storage head = _slotHeads[tokenId / SLOT_BASE];
        if (head.accepted) revert ReceivableAlreadyAccepted(tokenId);
        if (!_participants.isMember(holder)) revert ReceivableNotMember(holder);
        head.accepted = true;
        emit ReceivableAccepted(tokenId, holder);
    }

    /// @dev Stores new locks and keeps the slot's count of locked tokens.
    function _setLocks(uint256 tokenId, Locks memory old, Locks memory updated) private {
        _locks[tokenId] = updated;
        bool wasLocked = old.frozen != 0 || old.encumbered != 0;
        bool isLocked = updated.frozen != 0 || updated.encumbered != 0;
        if (wasLocked != isLocked) {
            SlotHead storage head = _slotHeads[tokenId / SLOT_BASE];
            head.lockedTokens = isLocked ? head.lockedTokens + 1 : head.lockedTokens - 1;
        }
    }

    function _spendAllowance(uint256 tokenId, address owner, uint256 value) private {
        if (_isAuthorized(owner, tokenId)) return;
        ValueAllowance storage a = _valueAllowances[tokenId][_msgSender()];
        uint256 current = a.epoch == _approvalEpochs[tokenId] ? a.amount : 0;
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

    function _requireSibling(uint256 fromTokenId, uint256 toTokenId) private view returns (TokenData memory to) {
        if (fromTokenId == toTokenId) revert ReceivableSameToken(fromTokenId);
        to = _requireOwned(toTokenId);
        if (toTokenId / SLOT_BASE != fromTokenId / SLOT_BASE) {
            revert ReceivableSlotMismatch(fromTokenId / SLOT_BASE, toTokenId / SLOT_BASE);
        }
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
        bytes4 retval = IERC3525Receiver(to).onERC3525Received(_msgSender(), fromTokenId, toTokenId, value, "");
        if (retval != IERC3525Receiver.onERC3525Received.selector) revert ReceivableInvalidReceiver(to);
    }
}
