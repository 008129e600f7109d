#!/usr/bin/env node
// Reference trees from @openzeppelin/merkle-tree, for comparing ledger/merkle.py byte for byte.
//
// Input (JSON): {types, values, multiIndices?} builds StandardMerkleTree.of(values, types);
//               {dump, multiIndices?} loads (and so validates) a "standard-v1" dump instead.
// Output (JSON): {root, leafHashes, proofs, multiProof: {proof, proofFlags, leaves} | null, dump}
//   leafHashes and proofs are by value index; multiProof is for multiIndices (value indices).
//   A failure is reported as {error: "<name>: <message>"}.
//
// Usage: node scripts/oz_merkle.js < case.json             (one case on stdin)
//        node scripts/oz_merkle.js --lines                 (one case per stdin line, one answer per line)
"use strict";
const readline = require("readline");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

function answer(request) {
  try {
    const tree = request.dump
      ? StandardMerkleTree.load(request.dump)
      : StandardMerkleTree.of(request.values, request.types);
    const proofs = [];
    const leafHashes = [];
    for (const [i, value] of tree.entries()) {
      proofs.push(tree.getProof(i));
      leafHashes.push(tree.leafHash(value));
    }
    const multiProof = request.multiIndices ? tree.getMultiProof(request.multiIndices) : null;
    return { root: tree.root, leafHashes, proofs, multiProof, dump: tree.dump() };
  } catch (e) {
    return { error: `${e.name}: ${e.message}` };
  }
}

function main() {
  if (process.argv.includes("--lines")) {
    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    lines.on("line", (line) => {
      if (line.trim()) process.stdout.write(JSON.stringify(answer(JSON.parse(line))) + "\n");
    });
    return;
  }
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => {
    process.stdout.write(JSON.stringify(answer(JSON.parse(Buffer.concat(chunks).toString("utf8")))) + "\n");
  });
}

main();
