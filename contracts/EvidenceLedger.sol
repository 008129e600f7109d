// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IEvidenceLedger} from "./interfaces/IEvidenceLedger.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";

/**
 * @dev Write-once anchors of Merkle roots of document batches (see {IEvidenceLedger}).
 *
 * Only the root is anchored: documents, leaves and the tree stay off-chain (`uri` in the event
 * says where). An anchor costs two fresh storage words and a counter update: the record by root
 * (submitter, leaf count, time and batch id packed in one word, the time as seconds since
 * deployment) and the root by batch id. The counter starts non-zero, so the first anchor costs
 * what every later one does.
 */
contract EvidenceLedger is IEvidenceLedger, Context {
    /// @dev One storage word per root.
    struct Record {
        address submitter;
        uint32 leafCount;
        uint32 anchoredAfter; // seconds between deployment and anchoring (136 years of range)
        uint32 batchId;
    }

    IParticipants private immutable _participants;
    uint256 private immutable _epoch; // deployment time; anchoredAt = _epoch + anchoredAfter

    uint256 private _nextBatchId; // batchCount() + 1
    mapping(bytes32 root => Record) private _records;
    mapping(uint256 batchId => bytes32 root) private _roots;

    constructor(IParticipants participants_) {
        _participants = participants_;
        _epoch = block.timestamp;
        _nextBatchId = 1;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IEvidenceLedger
    function participants() external view returns (IParticipants) {
        return _participants;
    }

    /// @inheritdoc IEvidenceLedger
    function batchCount() external view returns (uint256) {
        return _nextBatchId - 1;
    }

    /// @inheritdoc IEvidenceLedger
    function batchIdOf(bytes32 root) external view returns (uint256) {
        return _records[root].batchId;
    }

    /// @inheritdoc IEvidenceLedger
    function batchOf(bytes32 root) public view returns (Batch memory) {
        Record memory record = _records[root];
        if (record.submitter == address(0)) return Batch(bytes32(0), address(0), 0, 0);
        return Batch(root, record.submitter, record.leafCount, uint40(_epoch + record.anchoredAfter));
    }

    /// @inheritdoc IEvidenceLedger
    function batch(uint256 batchId) external view returns (Batch memory) {
        return batchOf(_roots[batchId]);
    }

    /// @inheritdoc IEvidenceLedger
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf) external view returns (bool) {
        return _isAnchored(root) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IEvidenceLedger
    function verifyLeafData(bytes32 root, bytes32[] calldata proof, bytes calldata leafData)
        external
        view
        returns (bool)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(leafData)));
        return _isAnchored(root) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IEvidenceLedger
    function verifyMulti(bytes32 root, bytes32[] calldata proof, bool[] calldata proofFlags, bytes32[] calldata leaves)
        external
        view
        returns (bool)
    {
        if (!_isAnchored(root) || !_wellFormed(proof.length, proofFlags, leaves.length)) return false;
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    // ---------------------------------------------------------------- actions

    /**
     * @dev Anchors `root`, the root of a tree of `leafCount` documents; returns the new batch id.
     *
     * Requirements:
     * - the caller is a current member ({IParticipants-isMember});
     * - `root` is not zero and was never anchored;
     * - `leafCount` is not zero.
     *
     * Emits {BatchAnchored}.
     */
    function anchor(bytes32 root, uint32 leafCount, string calldata uri) external returns (uint256 batchId) {
        address submitter = _msgSender();
        if (!_participants.isMember(submitter)) revert EvidenceNotMember(submitter);
        if (root == bytes32(0)) revert EvidenceZeroRoot();
        if (leafCount == 0) revert EvidenceEmptyBatch();
        Record memory existing = _records[root];
        if (existing.submitter != address(0)) {
            revert EvidenceAlreadyAnchored(root, existing.batchId, existing.submitter);
        }
        batchId = _nextBatchId++;
        _records[root] = Record({
            submitter: submitter,
            leafCount: leafCount,
            anchoredAfter: SafeCast.toUint32(block.timestamp - _epoch),
            batchId: SafeCast.toUint32(batchId)
        });
        _roots[batchId] = root;
        emit BatchAnchored(batchId, root, submitter, leafCount, uint40(block.timestamp), uri);
    }

    // --------------------------------------------------------------- internal

    /// @dev Whether proofs against `root` count. Extensions (revocation) narrow this.
    function _isAnchored(bytes32 root) internal view virtual returns (bool) {
        return _records[root].submitter != address(0);
    }

    /**
     * @dev Whether a multiproof has the shape {MerkleProof-processMultiProofCalldata} needs to run
     * without reverting: at least one leaf, `leaves + proof == flags + 1`, and one proof element
     * per false flag. (Zero leaves would "prove" a root given as the only proof element.)
     */
    function _wellFormed(uint256 proofLength, bool[] calldata proofFlags, uint256 leafCount)
        private
        pure
        returns (bool)
    {
        if (leafCount == 0 || leafCount + proofLength != proofFlags.length + 1) return false;
        uint256 siblings = 0;
        for (uint256 i = 0; i < proofFlags.length; ++i) {
            if (!proofFlags[i]) ++siblings;
        }
        return siblings == proofLength;
    }
}
