#!/usr/bin/env node
// Compiles contracts/**/*.sol with the pinned solc-js (standard-JSON API) and writes:
//  - ledger/artifacts/<Name>.json: abi, bytecode, deployedBytecode, compiler, sourceHash
//  - artifacts/build-info/<id>.json: hardhat-format {solcVersion, input, output} for Slither
// Usage: node scripts/compile.js [--check]   (--check: exit 1 if committed artifacts are stale)
//        node scripts/compile.js --bench     (bench/contracts -> bench/artifacts, not committed)
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const solc = require("solc");

const ROOT = path.resolve(__dirname, "..");
const BENCH = process.argv.includes("--bench"); // reference contracts we measure ourselves against
const SOURCES = BENCH ? ["bench/contracts"] : ["contracts"];
const ARTIFACTS = BENCH ? path.join(ROOT, "bench", "artifacts") : path.join(ROOT, "ledger", "artifacts");
const BUILD_INFO = path.join(ROOT, "artifacts", "build-info");
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  viaIR: false,
  outputSelection: {
    "*": {
      "*": [
        "abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers", "devdoc",
        "evm.bytecode.sourceMap", "evm.deployedBytecode.sourceMap", // for Slither (build-info only)
      ],
      "": ["ast"],
    },
  },
};

function listSolidity(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listSolidity(full);
    return entry.name.endsWith(".sol") ? [full] : [];
  });
}

function findImport(importPath) {
  for (const base of [ROOT, path.join(ROOT, "node_modules"), path.join(ROOT, "bench", "node_modules")]) {
    const full = path.join(base, importPath);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, "utf8") };
  }
  return { error: `File not found: ${importPath}` };
}

function sha256(text) {
  return crypto.createHash("sha256").update(text).digest("hex");
}

function main() {
  const check = process.argv.includes("--check");
  const files = SOURCES.flatMap((d) => listSolidity(path.join(ROOT, d))).sort();
  const sources = {};
  for (const file of files) {
    sources[path.relative(ROOT, file)] = { content: fs.readFileSync(file, "utf8") };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  // Report our own diagnostics; dependencies' warnings (e.g. OpenZeppelin's tstore note) are noise.
  const ours = (e) => e.severity === "error" || !(e.sourceLocation && e.sourceLocation.file.startsWith("@"));
  for (const e of (output.errors || []).filter(ours)) process.stderr.write(e.formattedMessage + "\n");
  if (errors.length) process.exit(1);

  const version = solc.version();
  const artifacts = {};
  for (const [source, contracts] of Object.entries(output.contracts || {})) {
    if (!SOURCES.some((dir) => source.startsWith(dir + "/"))) continue;
    for (const [name, c] of Object.entries(contracts)) {
      if (!c.evm.bytecode.object && !source.includes("/interfaces/")) continue; // abstract contracts
      if (artifacts[name]) throw new Error(`duplicate contract name ${name}`);
      artifacts[name] = {
        _generator: "scripts/compile.js (do not edit; run `npm run compile`)",
        contractName: name,
        sourceName: source,
        compiler: { version, settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion } },
        sourceHash: sha256(sources[source].content),
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
        methodIdentifiers: c.evm.methodIdentifiers,
        errorDocs: Object.fromEntries(
          Object.entries((c.devdoc && c.devdoc.errors) || {}).map(([sig, docs]) => [sig, docs[0].details || ""]),
        ),
      };
    }
  }
  const rendered = Object.fromEntries(
    Object.entries(artifacts).map(([n, a]) => [n + ".json", JSON.stringify(a, null, 2) + "\n"]),
  );
  if (check) {
    const existing = fs.existsSync(ARTIFACTS) ? fs.readdirSync(ARTIFACTS).filter((f) => f.endsWith(".json")) : [];
    const stale = Object.keys(rendered).filter(
      (f) => !fs.existsSync(path.join(ARTIFACTS, f)) || fs.readFileSync(path.join(ARTIFACTS, f), "utf8") !== rendered[f],
    );
    const extra = existing.filter((f) => !(f in rendered));
    if (stale.length || extra.length) {
      console.error(`stale artifacts: ${[...stale, ...extra].join(", ")}; run \`npm run compile\``);
      process.exit(1);
    }
    console.log(`artifacts up to date (${Object.keys(rendered).length} contracts, solc ${version})`);
    return;
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const [file, text] of Object.entries(rendered)) fs.writeFileSync(path.join(ARTIFACTS, file), text);

  if (BENCH) {
    console.log(`compiled ${Object.keys(artifacts).length} bench contracts with solc ${version}`);
    return;
  }
  // Hardhat-format build-info (not committed): what Slither's hardhat framework reads.
  const solcVersion = version.split("+")[0];
  const buildInfo = { _format: "hh-sol-build-info-1", id: sha256(JSON.stringify(input)).slice(0, 32),
    solcVersion, solcLongVersion: version.replace(".Emscripten.clang", ""), input, output };
  fs.rmSync(BUILD_INFO, { recursive: true, force: true });
  fs.mkdirSync(BUILD_INFO, { recursive: true });
  fs.writeFileSync(path.join(BUILD_INFO, buildInfo.id + ".json"), JSON.stringify(buildInfo));
  console.log(`compiled ${Object.keys(artifacts).length} contracts with solc ${version}`);
}

main();
