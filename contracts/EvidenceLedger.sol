// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IEvidenceLedger} from "./interfaces/IEvidenceLedger.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {Roles} from "./Roles.sol";

/**
 * @dev Write-once anchors of Merkle roots of document batches (see {IEvidenceLedger}).
 *
 * Only the root is anchored: documents, leaves and the tree stay off-chain (`uri` in the event
 * says where). An anchor costs two fresh storage words and a counter update: the record by root
 * (submitter, leaf count, time and batch id packed in one word, the time as seconds since
 * deployment) and the root by batch id. The counter starts non-zero, so the first anchor pays no
 * surcharge for it.
 *
 * The log of batch roots (RFC 9162) is stored append-only, one fresh word per anchor and never
 * overwritten: `_nodes[n]` is the root of the perfect subtree of log leaves `(n - 2^k, n]`, `2^k` the
 * lowest set bit of `n` (1-based). Anchor `n` merges the nodes at `n - 1, n - 2, n - 4, ...` below that
 * bit with its new leaf into `_nodes[n]`, then folds the nodes of the higher set bits into the head:
 * popcount(n - 1) cold reads. Every past head is the fold of the nodes of its size's set bits ({headAt}).
 */
contract EvidenceLedger is IEvidenceLedger, Context, EIP712 {
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

    mapping(uint256 index => bytes32 node) private _nodes;
    mapping(bytes32 leaf => mapping(address signer => uint256 at)) private _countersigned;
    mapping(bytes32 leaf => Revocation) private _revocations;

    bytes32 private constant COUNTERSIGN_TYPEHASH = keccak256("Countersign(bytes32 root,bytes32 leaf)");
    bytes32 private constant DOCUMENT_TYPEHASH = keccak256(
        "Document(bytes32 documentHash,bytes32 documentType,address submitter,address[] parties,uint64 submittedAt,bytes32 salt)"
    );

    constructor(IParticipants participants_) EIP712("scf-ledger EvidenceLedger", "1") {
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
    function head() external view returns (uint256 size, bytes32 root) {
        size = _nextBatchId - 1;
        root = _headAt(size);
    }

    /// @inheritdoc IEvidenceLedger
    function headAt(uint256 size) external view returns (bytes32) {
        return size < _nextBatchId ? _headAt(size) : bytes32(0);
    }

    /// @inheritdoc IEvidenceLedger
    function batchRoots(uint256 fromId, uint256 count) external view returns (bytes32[] memory roots) {
        uint256 end = _nextBatchId;
        if (fromId == 0 || fromId >= end) return new bytes32[](0);
        if (count > end - fromId) count = end - fromId;
        roots = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            roots[i] = _roots[fromId + i];
        }
    }

    /// @inheritdoc IEvidenceLedger
    function countersignedAt(bytes32 leaf, address signer) external view returns (uint256) {
        return _countersigned[leaf][signer];
    }

    /// @inheritdoc IEvidenceLedger
    function revocationOf(bytes32 leaf) external view returns (Revocation memory) {
        return _revocations[leaf];
    }

    /// @inheritdoc IEvidenceLedger
    function countersignDigest(bytes32 root, bytes32 leaf) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(COUNTERSIGN_TYPEHASH, root, leaf)));
    }

    /// @inheritdoc IEvidenceLedger
    function documentDigest(
        bytes32 documentHash,
        bytes32 documentType,
        address submitter,
        address[] calldata parties,
        uint64 submittedAt,
        bytes32 salt
    ) external view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                DOCUMENT_TYPEHASH,
                documentHash,
                documentType,
                submitter,
                keccak256(abi.encodePacked(parties)),
                submittedAt,
                salt
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc IEvidenceLedger
    function verify(bytes32 root, bytes32[] calldata proof, bytes32 leaf) external view returns (bool) {
        return _isAnchored(root) && !_isRevoked(leaf) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IEvidenceLedger
    function verifyLeafData(bytes32 root, bytes32[] calldata proof, bytes calldata leafData)
        external
        view
        returns (bool)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(leafData)));
        return _isAnchored(root) && !_isRevoked(leaf) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IEvidenceLedger
    function verifyMulti(bytes32 root, bytes32[] calldata proof, bool[] calldata proofFlags, bytes32[] calldata leaves)
        external
        view
        returns (bool)
    {
        if (!_isAnchored(root) || !_wellFormed(proof.length, proofFlags, leaves.length)) return false;
        for (uint256 i = 0; i < leaves.length; ++i) {
            if (_isRevoked(leaves[i])) return false;
        }
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
     * Emits {BatchAnchored} and {HeadRecorded}.
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
        _appendToLog(batchId, root);
    }

    /// @inheritdoc IEvidenceLedger
    function countersign(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external {
        _countersign(root, leaf, proof, _msgSender(), false);
    }

    /// @inheritdoc IEvidenceLedger
    function countersignWithSig(
        bytes32 root,
        bytes32 leaf,
        bytes32[] calldata proof,
        address signer,
        bytes calldata signature
    ) external {
        if (!SignatureChecker.isValidSignatureNow(signer, countersignDigest(root, leaf), signature)) {
            revert EvidenceInvalidSignature(signer);
        }
        _countersign(root, leaf, proof, signer, true);
    }

    /// @inheritdoc IEvidenceLedger
    function revoke(bytes32 root, bytes32 leaf, bytes32[] calldata proof, string calldata reason) external {
        address account = _msgSender();
        _requireLeaf(root, leaf, proof);
        if (account != _records[root].submitter && !_participants.isActive(account, Roles.REGULATOR)) {
            revert EvidenceUnauthorized(account);
        }
        _revocations[leaf] = Revocation({revokedBy: account, revokedAt: uint64(block.timestamp), reason: reason});
        emit Revoked(root, leaf, account, uint40(block.timestamp), reason);
    }

    // --------------------------------------------------------------- internal

    function _countersign(bytes32 root, bytes32 leaf, bytes32[] calldata proof, address signer, bool relayed)
        private
    {
        _requireLeaf(root, leaf, proof);
        uint256 signedAt = _countersigned[leaf][signer];
        if (signedAt != 0) revert EvidenceAlreadyCountersigned(leaf, signer, signedAt);
        _countersigned[leaf][signer] = block.timestamp;
        emit Countersigned(root, leaf, signer, uint40(block.timestamp), relayed);
    }

    /// @dev Reverts unless `proof` proves `leaf` in the anchored batch `root` and `leaf` is not revoked.
    function _requireLeaf(bytes32 root, bytes32 leaf, bytes32[] calldata proof) private view {
        if (!_isAnchored(root)) revert EvidenceRootNotAnchored(root);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert EvidenceInvalidProof(root, leaf);
        Revocation storage revocation = _revocations[leaf];
        if (revocation.revokedBy != address(0)) {
            revert EvidenceLeafRevoked(leaf, revocation.revokedBy, revocation.revokedAt);
        }
    }

    function _isRevoked(bytes32 leaf) private view returns (bool) {
        return _revocations[leaf].revokedBy != address(0);
    }

    /// @dev Appends `root` as log leaf `size - 1` (see the contract's description) and emits the new head.
    function _appendToLog(uint256 size, bytes32 root) private {
        bytes32 node = sha256(abi.encodePacked(bytes1(0x00), root));
        uint256 step = 1;
        while (size & step == 0) {
            node = _hashChildren(_nodes[size - step], node);
            step <<= 1;
        }
        _nodes[size] = node;
        for (uint256 rest = size - step; rest != 0; rest &= rest - 1) {
            node = _hashChildren(_nodes[rest], node);
        }
        emit HeadRecorded(size, node);
    }

    /// @dev RFC 9162 root of the first `size` log leaves (`size` <= batchCount()).
    function _headAt(uint256 size) private view returns (bytes32 node) {
        if (size == 0) return sha256("");
        node = _nodes[size];
        for (uint256 rest = size & (size - 1); rest != 0; rest &= rest - 1) {
            node = _hashChildren(_nodes[rest], node);
        }
    }

    /// @dev RFC 9162 inner node: sha256(0x01 || left || right).
    function _hashChildren(bytes32 left, bytes32 right) private pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

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
