// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ICreditGate, ICreditVerifier} from "./interfaces/ICreditGate.sol";
import {ICreditRegistry} from "./interfaces/ICreditRegistry.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {Roles} from "./Roles.sol";

/**
 * @dev Zero-knowledge credit gate ({ICreditGate}): a lender's {IFinancingPolicy} that lets the
 * financing desk finance a holder only with a pass earned by a valid Groth16 credit proof.
 */
contract CreditGate is ICreditGate, Context {
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    struct NonceRecord {
        address lender;
        bool used;
    }

    IParticipants private immutable _participants;
    ICreditRegistry private immutable _registry;
    ICreditVerifier private immutable _verifier;
    address private immutable _desk;
    uint64 private immutable _passLifetime;

    uint256 private _nonceCount;
    mapping(address lender => uint256) private _policies;
    mapping(uint256 nonce => NonceRecord) private _nonces;
    mapping(address lender => mapping(address holder => Pass)) private _passes;

    constructor(
        IParticipants participants_,
        ICreditRegistry registry_,
        ICreditVerifier verifier_,
        address desk_,
        uint64 passLifetime_
    ) {
        if (desk_ == address(0)) revert CreditGateZeroDesk();
        _participants = participants_;
        _registry = registry_;
        _verifier = verifier_;
        _desk = desk_;
        _passLifetime = passLifetime_;
    }

    // ------------------------------------------------------------------ views

    function participants() external view returns (IParticipants) {
        return _participants;
    }

    function registry() external view returns (ICreditRegistry) {
        return _registry;
    }

    function verifier() external view returns (ICreditVerifier) {
        return _verifier;
    }

    function desk() external view returns (address) {
        return _desk;
    }

    function passLifetime() external view returns (uint64) {
        return _passLifetime;
    }

    function policyOf(address lender) external view returns (uint256) {
        return _policies[lender];
    }

    function nonceState(uint256 nonce) external view returns (address lender, bool used) {
        NonceRecord storage r = _nonces[nonce];
        return (r.lender, r.used);
    }

    function passOf(address lender, address holder) external view returns (Pass memory) {
        return _passes[lender][holder];
    }

    // ---------------------------------------------------------------- lenders

    /// @inheritdoc ICreditGate
    function setPolicy(uint256 policyHash) external {
        address lender = _activeLender();
        if (policyHash == 0 || policyHash >= SNARK_SCALAR_FIELD) revert CreditGateInvalidPolicy(policyHash);
        _policies[lender] = policyHash;
        emit CreditPolicySet(lender, policyHash);
    }

    /// @inheritdoc ICreditGate
    function issueNonce() external returns (uint256 nonce) {
        address lender = _activeLender();
        nonce = uint256(keccak256(abi.encode(block.chainid, address(this), lender, ++_nonceCount)))
            % SNARK_SCALAR_FIELD;
        _nonces[nonce] = NonceRecord({lender: lender, used: false});
        emit NonceIssued(lender, nonce);
    }

    /// @inheritdoc ICreditGate
    function submitProof(
        address holder,
        uint256 root,
        uint256 today,
        uint256 nonce,
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC
    ) external {
        // No membership read here: the nonce was issued to, and the policy set by, a current lender.
        address lender = _msgSender();
        uint64 reportId = _checkStatement(lender, holder, root, today, nonce);
        if (!_verifier.verifyProof(pA, pB, pC, [root, _policies[lender], today, uint256(uint160(lender)), nonce])) {
            revert CreditGateInvalidProof();
        }
        _nonces[nonce].used = true;
        uint64 validUntil = uint64(block.timestamp) + _passLifetime;
        _passes[lender][holder] = Pass({reportId: reportId, validUntil: validUntil});
        emit PassGranted(lender, holder, root, nonce, validUntil);
    }

    // ------------------------------------------------------------------- desk

    /**
     * @dev {IFinancingPolicy}: true, consuming `lender`'s pass for `holder`, when the pass exists,
     * is unexpired and its report is still valid (not revoked or expired since); false otherwise.
     *
     * Requirements: the caller is the financing desk.
     *
     * Emits {PassConsumed} when it returns true.
     */
    function check(address lender, address holder, uint256 tokenId, uint256 value) external returns (bool) {
        if (_msgSender() != _desk) revert CreditGateUnauthorizedCaller(_msgSender());
        Pass memory pass = _passes[lender][holder];
        if (pass.validUntil < block.timestamp || !_registry.isValidReport(pass.reportId, holder)) return false;
        delete _passes[lender][holder];
        emit PassConsumed(lender, holder, tokenId, value);
        return true;
    }

    // ------------------------------------------------------------- internals

    /// @dev Everything but the proof: policy, nonce, report validity for `holder`, the day.
    function _checkStatement(address lender, address holder, uint256 root, uint256 today, uint256 nonce)
        private
        view
        returns (uint64 reportId)
    {
        if (_policies[lender] == 0) revert CreditGateNoPolicy(lender);
        NonceRecord storage n = _nonces[nonce];
        if (n.lender != lender || n.used) revert CreditGateInvalidNonce(lender, nonce);
        reportId = _registry.validReportId(root, holder);
        if (reportId == 0) revert CreditGateInvalidRoot(root, holder);
        uint256 blockDay = block.timestamp / 1 days;
        if (today > blockDay + 1 || today + 1 < blockDay) revert CreditGateInvalidDay(today);
    }

    function _activeLender() private view returns (address lender) {
        lender = _msgSender();
        if (!_participants.isActive(lender, Roles.LENDER)) revert CreditGateUnauthorizedLender(lender);
    }
}
