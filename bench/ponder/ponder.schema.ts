import { onchainTable } from "ponder";

// One row per InvoiceRegistered; InvoiceConfirmed sets status 2 (as indexer/ does for its invoice table).
export const invoice = onchainTable("invoice", (t) => ({
  fingerprint: t.hex().primaryKey(),
  seller: t.hex().notNull(),
  buyer: t.hex().notNull(),
  asset: t.hex().notNull(),
  amount: t.bigint().notNull(),
  issueDate: t.integer().notNull(),
  documentHash: t.hex().notNull(),
  status: t.integer().notNull(),
  registeredAt: t.bigint().notNull(),
}));
