// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICreditRegistry} from "./ICreditRegistry.sol";
import {IFinancingPolicy} from "./IFinancingPolicy.sol";
import {IParticipants} from "./IParticipants.sol";

/// @dev The snarkjs-generated Groth16 verifier of the credit predicate circuit (5 public signals:
/// root, policyHash, today, lenderId, nonce).
interface ICreditVerifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[5] calldata pubSignals
    ) external view returns (bool);
}

/**
 * @dev A lender's financing policy that demands a zero-knowledge credit proof.
 *
 * A lender registers its policy (the Poseidon hash of the circuit's policy operands, `zk/policy.py`)
 * and draws single-use nonces here. The firm proves, for the lender's nonce, that the report the
 * bureau registered about it ({ICreditRegistry}) satisfies the policy; the lender submits the
 * proof ({submitProof}), which records a pass for (lender, holder). The financing desk asks
 * {check} before it finances, which consumes the pass: one proof, one financing.
 *
 * Groth16 proofs are malleable: nothing here is keyed on proof bytes; the nonce is what makes a
 * proof single-use.
 */
interface ICreditGate is IFinancingPolicy {
    /// @dev A lender's pass for one holder: the proven report (registry id) and until when it can
    /// be used. One storage slot.
    struct Pass {
        uint64 reportId;
        uint64 validUntil;
    }

    /// @dev `account` is not a current LENDER.
    error CreditGateUnauthorizedLender(address account);

    /// @dev The gate needs a financing desk (non-zero address) to serve.
    error CreditGateZeroDesk();

    /// @dev Only the financing desk may consume passes; `account` is not it.
    error CreditGateUnauthorizedCaller(address account);

    /// @dev `policyHash` is zero or not a BN254 scalar field element.
    error CreditGateInvalidPolicy(uint256 policyHash);

    /// @dev `lender` has not registered a policy.
    error CreditGateNoPolicy(address lender);

    /// @dev `nonce` was not issued to `lender`, or it was used already.
    error CreditGateInvalidNonce(address lender, uint256 nonce);

    /// @dev `root` is not a valid report commitment about `holder` (unregistered, other subject,
    /// revoked, expired, or its bureau is no longer a credit bureau).
    error CreditGateInvalidRoot(uint256 root, address holder);

    /// @dev `day` is more than a day away from the block's day.
    error CreditGateInvalidDay(uint256 day);

    /// @dev The Groth16 proof does not verify for these public signals.
    error CreditGateInvalidProof();

    /// @dev Emitted when `lender` set its policy to `policyHash`.
    event CreditPolicySet(address indexed lender, uint256 policyHash);

    /// @dev Emitted when `nonce` was issued to `lender`.
    event NonceIssued(address indexed lender, uint256 nonce);

    /// @dev Emitted when a proof for `root` about `holder` was accepted for `lender`, consuming `nonce`.
    event PassGranted(address indexed lender, address indexed holder, uint256 root, uint256 nonce, uint64 validUntil);

    /// @dev Emitted when the financing desk consumed `lender`'s pass for `holder` on `tokenId`.
    event PassConsumed(address indexed lender, address indexed holder, uint256 indexed tokenId, uint256 value);

    function participants() external view returns (IParticipants);
    function registry() external view returns (ICreditRegistry);
    function verifier() external view returns (ICreditVerifier);
    function desk() external view returns (address);

    /// @dev How long a pass stays usable after the proof was accepted.
    function passLifetime() external view returns (uint64);

    /// @dev `lender`'s policy hash (0: none).
    function policyOf(address lender) external view returns (uint256);

    /// @dev The lender `nonce` was issued to and whether it is used.
    function nonceState(uint256 nonce) external view returns (address lender, bool used);

    /// @dev `lender`'s current pass for `holder` (zeroes when there is none).
    function passOf(address lender, address holder) external view returns (Pass memory);

    /**
     * @dev Sets the caller's policy hash.
     *
     * Requirements: the caller is a current LENDER; `policyHash` is a non-zero field element.
     *
     * Emits {CreditPolicySet}.
     */
    function setPolicy(uint256 policyHash) external;

    /**
     * @dev Issues a fresh nonce to the caller (bound to this chain, this gate and the caller).
     *
     * Requirements: the caller is a current LENDER.
     *
     * Emits {NonceIssued}.
     */
    function issueNonce() external returns (uint256 nonce);

    /**
     * @dev Verifies a credit proof for the caller (the lender) about `holder` and records a pass.
     *
     * Requirements:
     * - the caller has a policy (only a current LENDER can set one or draw nonces);
     * - `root` is a valid report commitment about `holder` in the registry;
     * - `nonce` was issued to the caller and is unused (it is consumed);
     * - `today` is within one day of the block's day (days since 1970-01-01, UTC);
     * - the proof verifies for (root, the caller's policy, today, the caller, nonce).
     *
     * Emits {PassGranted}.
     */
    function submitProof(
        address holder,
        uint256 root,
        uint256 today,
        uint256 nonce,
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC
    ) external;
}
