import { Hono } from "hono";
import { count, eq } from "ponder";
import { db } from "ponder:api";
import { invoice } from "ponder:schema";

// GET /count -> {"rows": invoices, "confirmed": invoices with status 2}; the bench polls it.
const app = new Hono();

app.get("/count", async (c) => {
  const [all] = await db.select({ n: count() }).from(invoice);
  const [done] = await db.select({ n: count() }).from(invoice).where(eq(invoice.status, 2));
  return c.json({ rows: Number(all?.n ?? 0), confirmed: Number(done?.n ?? 0) });
});

export default app;
