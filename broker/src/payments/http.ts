// The payment routes of the broker's HTTP API (docs/broker.md): submit a voucher, read an account. A
// voucher authenticates itself (its payer's signature), so submitting one needs no session.

import type { FastifyInstance } from "fastify";
import type { Payments } from "./Payments";

const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } as const;
const wei = { type: "string", pattern: "^(0|[1-9][0-9]{0,77})$" } as const;

export function registerPaymentRoutes(app: FastifyInstance, payments: Payments): void {
  app.get("/payments/terms", { schema: { summary: "What this broker charges per event, and its payment channels contract (docs/network.md §14)" } }, async () =>
    payments.hello(),
  );

  app.get(
    "/payments/:payer",
    {
      schema: {
        summary: "A payer's account with this broker: its channel, what it owes, what its vouchers cover",
        params: { type: "object", properties: { payer: address }, required: ["payer"] },
      },
    },
    async (req) => payments.status((req.params as { payer: string }).payer),
  );

  app.post(
    "/payments/vouchers",
    {
      schema: {
        summary: "Submit a voucher (EIP-712, IPaymentChannels) for the cumulative amount a payer owes this broker",
        body: {
          type: "object",
          required: ["payer", "generation", "amount", "signature"],
          additionalProperties: false,
          properties: {
            payer: address,
            generation: { type: "integer", minimum: 0, maximum: 4294967295 },
            amount: wei,
            signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" },
          },
        },
      },
    },
    async (req) => payments.submit(req.body as Record<string, unknown>),
  );
}
