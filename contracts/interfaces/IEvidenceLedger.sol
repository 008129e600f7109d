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
 */
interface IEvidenceLedger {
    /// @dev An anchored batch (zeroes when there is none).
    struct Batch {
        bytes32 root;
        address submitter;
        uint32 leafCount;
        uint40 anchoredAt;
    }

    /// @dev `root` was anchored already, as batch `batchId` by `submitter`.
    error EvidenceAlreadyAnchored(bytes32 root, uint256 batchId, address submitter);

    /// @dev `account` is not a current member of the consortium.
    error EvidenceNotMember(address account);

    /// @dev The zero root anchors nothing.
    error EvidenceZeroRoot();

    /// @dev A batch holds at least one document.
    error EvidenceEmptyBatch();

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

    /**
     * @dev Anchors `root`, the root of a tree of `leafCount` documents; returns the new batch id.
     *
     * Requirements:
     * - the caller is a current member;
     * - `root` is not zero and was never anchored;
     * - `leafCount` is not zero.
     *
     * Emits {BatchAnchored}.
     */
    function anchor(bytes32 root, uint32 leafCount, string calldata uri) external returns (uint256 batchId);

    /**
     * @dev Whether `root` is anchored and `proof` proves the leaf hash `leaf` in it.
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
