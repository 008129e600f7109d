// Ponder 1.0 project used by bench/indexer.py: the same InvoiceRegistry events our indexer mirrors.
// Inputs come from the environment (set by the bench): BENCH_RPC_URL, BENCH_REGISTRY, BENCH_START_BLOCK,
// BENCH_PGLITE_DIR (a fresh directory for Ponder's embedded PGlite store).
import { createConfig } from "ponder";
import { http } from "viem";
import type { Abi } from "viem";

import artifact from "../../ledger/artifacts/InvoiceRegistry.json";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

// RPC timeout (viem default 10 s). At 100,000 events Ponder still exits on a viem timeout, even at 120 s: not yet understood.
const rpcTimeout = Number(process.env.BENCH_RPC_TIMEOUT_MS ?? 120_000);

export default createConfig({
  database: { kind: "pglite", directory: env("BENCH_PGLITE_DIR") },
  networks: {
    anvil: { chainId: 31337, transport: http(env("BENCH_RPC_URL"), { timeout: rpcTimeout }), disableCache: true },
  },
  contracts: {
    InvoiceRegistry: {
      network: "anvil",
      abi: artifact.abi as Abi,
      address: env("BENCH_REGISTRY") as `0x${string}`,
      startBlock: Number(env("BENCH_START_BLOCK")),
    },
  },
});
