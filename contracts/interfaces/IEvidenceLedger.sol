// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipants} from "./IParticipants.sol";

/**
 * @dev Evidence anchoring: members anchor the Merkle root of a batch of documents, write-once and
 * timestamped by the block. Trees are OpenZeppelin StandardMerkleTrees (npm merkle-tree package,
 * `ledger/merkle.py`): a leaf is `keccak256(bytes.concat(keccak256(abi.encode(values))))`, an inner
 * node the keccak256 of its sorted children, so proofs check with {MerkleProof}.
 *
 * A batch is known by its root and by its id; ids count from 1 in anchoring order.
 *
 * Append-only log (RFC 9162, Certificate Transparency style): batch roots are the leaves of a
 * Merkle tree hashed exactly as RFC 9162 §2.1.1 does (leaf `sha256(0x00 || batchRoot)`, node
 * `sha256(0x01 || left || right)`); batch `id` is log leaf `id - 1`. After each anchor the log's
 * head `(size, root)` is recorded ({headAt}) and emitted ({HeadRecorded}), so RFC 9162 consistency
 * proofs show that a later head extends an earlier one.
 *
 * Counter-signatures and revocations are stored per leaf hash and never deleted: a party adds its
 * counter-signature to an anchored leaf ({countersign}, {countersignWithSig}, EIP-712
 * `Countersign(bytes32 root,bytes32 leaf)` in the domain `("scf-ledger EvidenceLedger", "1")`,
 * ERC-1271 wallets included); the batch's submitter or a current REGULATOR revokes a leaf with a
 * reason ({revoke}). Proof checks ({verify}, {verifyLeafData}, {verifyMulti}) refuse revoked leaves.
 *
 * Documents may carry signatures of their parties made before anchoring: EIP-712
 * `Document(bytes32 documentHash,bytes32 documentType,address submitter,address[] parties,uint64 submittedAt,bytes32 salt)`
 * in the same domain ({documentDigest}); their hash is part of the leaf, verifiers check them off-chain.
 */
interface IEvidenceLedger {
    /// @dev An anchored batch (zeroes when there is none).
    struct Batch {
        bytes32 root;
        address submitter;
        uint32 leafCount;
        uint40 anchoredAt;
    }

    /// @dev A revocation of a leaf (zeroes when the leaf is not revoked).
    struct Revocation {
        address revokedBy;
        uint64 revokedAt;
        string reason;
    }

    /// @dev `root` was anchored already, as batch `batchId` by `submitter`.
    error EvidenceAlreadyAnchored(bytes32 root, uint256 batchId, address submitter);

    /// @dev `account` is not a current member of the consortium.
    error EvidenceNotMember(address account);

    /// @dev The zero root anchors nothing.
    error EvidenceZeroRoot();

    /// @dev A batch holds at least one document.
    error EvidenceEmptyBatch();

    /// @dev `root` is not anchored.
    error EvidenceRootNotAnchored(bytes32 root);

    /// @dev The proof does not prove `leaf` in the tree of `root`.
    error EvidenceInvalidProof(bytes32 root, bytes32 leaf);

    /// @dev `leaf` was revoked by `revokedBy` at `revokedAt`.
    error EvidenceLeafRevoked(bytes32 leaf, address revokedBy, uint64 revokedAt);

    /// @dev `signer` counter-signed `leaf` already, at `countersignedAt`.
    error EvidenceAlreadyCountersigned(bytes32 leaf, address signer, uint256 countersignedAt);

    /// @dev `signature` is not `signer`'s (EOA or ERC-1271) signature of the counter-signature.
    error EvidenceInvalidSignature(address signer);

    /// @dev `account` is neither the batch's submitter nor a current regulator.
    error EvidenceUnauthorized(address account);

    /// @dev Emitted when `submitter` anchored `root`, the root of `leafCount` documents, as batch `batchId`.
    /// `uri` locates the batch (its leaves or its dumped tree) off-chain; it is not stored.
    event BatchAnchored(
        uint256 indexed batchId,
        bytes32 indexed root,
        address indexed submitter,
        uint32 leafCount,
        uint40 anchoredAt,
        string uri
    );

    /// @dev Emitted after every anchor: the log of batch roots now has `size` leaves and root `root`.
    event HeadRecorded(uint256 indexed size, bytes32 root);

    /// @dev Emitted when `signer` counter-signed the leaf `leaf` of the batch `root` (`relayed`: by signature).
    event Countersigned(bytes32 indexed root, bytes32 indexed leaf, address indexed signer, uint40 at, bool relayed);

    /// @dev Emitted when `revokedBy` revoked the leaf `leaf` of the batch `root`, giving `reason`.
    event Revoked(bytes32 indexed root, bytes32 indexed leaf, address indexed revokedBy, uint40 at, string reason);

    /// @dev The membership registry asked before every anchor.
    function participants() external view returns (IParticipants);

    /// @dev Number of batches anchored so far; also the id of the newest batch.
    function batchCount() external view returns (uint256);

    /// @dev Id of the batch anchoring `root`, 0 when `root` is not anchored.
    function batchIdOf(bytes32 root) external view returns (uint256);

    /// @dev The batch anchoring `root` (zeroes when `root` is not anchored).
    function batchOf(bytes32 root) external view returns (Batch memory);

    /// @dev The batch with id `batchId` (zeroes when there is none).
    function batch(uint256 batchId) external view returns (Batch memory);

    /// @dev The current head of the log of batch roots: its size (= {batchCount}) and RFC 9162 root.
    function head() external view returns (uint256 size, bytes32 root);

    /// @dev The log's root when it had `size` leaves (`sha256("")` for 0, zero beyond the current size).
    function headAt(uint256 size) external view returns (bytes32);

    /// @dev Roots of batches `fromId`, `fromId + 1`, ... (at most `count`, fewer at the end): the log's leaves.
    function batchRoots(uint256 fromId, uint256 count) external view returns (bytes32[] memory roots);

    /// @dev When `signer` counter-signed `leaf` (0: never).
    function countersignedAt(bytes32 leaf, address signer) external view returns (uint256);

    /// @dev The revocation of `leaf` (zeroes when it is not revoked).
    function revocationOf(bytes32 leaf) external view returns (Revocation memory);

    /// @dev The EIP-712 digest a party signs to counter-sign `leaf` of `root` ({countersignWithSig}).
    function countersignDigest(bytes32 root, bytes32 leaf) external view returns (bytes32);

    /// @dev The EIP-712 digest a party signs over a document before anchoring (its hash goes into the leaf).
    function documentDigest(
        bytes32 documentHash,
        bytes32 documentType,
        address submitter,
        address[] calldata parties,
        uint64 submittedAt,
        bytes32 salt
    ) external view returns (bytes32);

    /**
     * @dev Anchors `root`, the root of a tree of `leafCount` documents; returns the new batch id.
     * Appends `root` to the log of batch roots and records the new head.
     *
     * Requirements:
     * - the caller is a current member;
     * - `root` is not zero and was never anchored;
     * - `leafCount` is not zero.
     *
     * Emits {BatchAnchored} and {HeadRecorded}.
     */
    function anchor(bytes32 root, uint32 leafCount, string calldata uri) external returns (uint256 batchId);

    /**
     * @dev The caller counter-signs `leaf`, proven by `proof` in the anchored batch `root`.
     *
     * Requirements: `root` anchored, `proof` valid, `leaf` not revoked, not counter-signed by the caller yet.
     * Emits {Countersigned}.
     */
    function countersign(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external;

    /**
     * @dev Records `signer`'s counter-signature of `leaf` given as an EIP-712 `signature` of
     * {countersignDigest} (ECDSA, or ERC-1271 when `signer` is a contract); anyone may relay it.
     * Same requirements as {countersign}, for `signer`. Emits {Countersigned}.
     */
    function countersignWithSig(
        bytes32 root,
        bytes32 leaf,
        bytes32[] calldata proof,
        address signer,
        bytes calldata signature
    ) external;

    /**
     * @dev Revokes `leaf` of the anchored batch `root`, giving `reason`. The anchor stays: the
     * revocation is recorded next to it and proof checks refuse the leaf from now on.
     *
     * Requirements: the caller submitted the batch or is a current REGULATOR; `proof` valid; not revoked yet.
     * Emits {Revoked}.
     */
    function revoke(bytes32 root, bytes32 leaf, bytes32[] calldata proof, string calldata reason) external;

    /**
     * @dev Whether `root` is anchored and `proof` proves the leaf hash `leaf` in it (and it is not revoked).
     *
     * `leaf` is a leaf hash: the verifier computes it from the document's values. Trusting a leaf
     * hash supplied by someone else would accept inner nodes as leaves; {verifyLeafData} hashes the
     * encoded values on-chain instead.
     */
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf) external view returns (bool);

    /**
     * @dev Whether `root` is anchored and `proof` proves the leaf whose ABI-encoded values are
     * `leafData` in it (the leaf hash is computed here, so no inner node passes as a leaf).
     */
    function verifyLeafData(bytes32 root, bytes32[] calldata proof, bytes calldata leafData)
        external
        view
        returns (bool);

    /**
     * @dev Whether `root` is anchored and the multiproof (`proof`, `proofFlags`) proves all of the
     * leaf hashes `leaves` in it, given in the order OpenZeppelin's merkle-tree package returns them.
     * False for a malformed multiproof and for an empty `leaves` (which would prove nothing).
     */
    function verifyMulti(bytes32 root, bytes32[] calldata proof, bool[] calldata proofFlags, bytes32[] calldata leaves)
        external
        view
        returns (bool);
}
