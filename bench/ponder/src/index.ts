import { ponder } from "ponder:registry";
import { invoice } from "ponder:schema";

ponder.on("InvoiceRegistry:InvoiceRegistered" as any, async ({ event, context }: any) => {
  const a = event.args;
  await context.db.insert(invoice).values({
    fingerprint: a.fingerprint,
    seller: a.seller,
    buyer: a.buyer,
    asset: a.asset,
    amount: a.amount,
    issueDate: Number(a.issueDate),
    documentHash: a.documentHash,
    status: 1,
    registeredAt: event.block.timestamp,
  });
});

ponder.on("InvoiceRegistry:InvoiceConfirmed" as any, async ({ event, context }: any) => {
  await context.db.update(invoice, { fingerprint: event.args.fingerprint }).set({ status: 2 });
});
