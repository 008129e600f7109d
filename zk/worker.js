#!/usr/bin/env node
// Persistent snarkjs worker: one JSON request per stdin line, one JSON answer per stdout line.
// Loading snarkjs and building the bn128 curve once keeps off-chain verification at milliseconds.
//   {"id": 1, "op": "prove", "input": {...}, "wasm": "path", "zkey": "path"}
//      -> {"id": 1, "ok": true, "proof": {...}, "publicSignals": [...]}
//   {"id": 2, "op": "verify", "vkey": "path", "publicSignals": [...], "proof": {...}}
//      -> {"id": 2, "ok": true, "valid": true|false}
//   {"id": 3, "op": "poseidon", "inputs": ["1", "2"]} -> {"id": 3, "ok": true, "hash": "decimal"}
// Errors answer {"id": n, "ok": false, "error": "message"}; the worker keeps running.
"use strict";
const fs = require("fs");
const readline = require("readline");
const snarkjs = require("snarkjs");

const vkeys = new Map();
const files = new Map(); // wasm and zkey kept in memory: fastfile reads {type: "mem"} without disk I/O

function memFile(path) {
  if (!files.has(path)) files.set(path, new Uint8Array(fs.readFileSync(path)));
  return { type: "mem", data: files.get(path) };
}
let poseidonFn = null;

function vkey(path) {
  if (!vkeys.has(path)) vkeys.set(path, JSON.parse(fs.readFileSync(path, "utf8")));
  return vkeys.get(path);
}

async function handle(req) {
  switch (req.op) {
    case "ping":
      return {};
    case "prove": {
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(req.input, memFile(req.wasm), memFile(req.zkey));
      return { proof, publicSignals };
    }
    case "verify": {
      const valid = await snarkjs.groth16.verify(vkey(req.vkey), req.publicSignals, req.proof);
      return { valid };
    }
    case "poseidon": {
      if (!poseidonFn) poseidonFn = await require("circomlibjs").buildPoseidon();
      const h = poseidonFn(req.inputs.map((x) => BigInt(x)));
      return { hash: poseidonFn.F.toObject(h).toString() };
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();
rl.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let req;
    try {
      req = JSON.parse(line);
      const answer = await handle(req);
      process.stdout.write(JSON.stringify({ id: req.id, ok: true, ...answer }) + "\n");
    } catch (err) {
      process.stdout.write(JSON.stringify({ id: req ? req.id : null, ok: false, error: String(err && err.message || err) }) + "\n");
    }
  });
});
rl.on("close", () => queue.then(() => process.exit(0)));
