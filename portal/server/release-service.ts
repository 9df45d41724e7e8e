// The seller's release service for its datasets (the hospital's, in `npm run portal`): a buyer's
// browser asks `GET /v1/releases/:datasetId/:buyer` and gets the release of the subjects its consent
// grant released, their keys wrapped for the key the buyer registered in the stream registry. The
// service answers only while (1) the market says the buyer holds a valid licence on the dataset and
// (2) the consent ledger says the grant that licence was bought under is still open; a withdrawal
// voids the grant, and the next download is refused. The answer needs no signature from the buyer:
// only the holder of the registered key can open it, and it names nothing the buyer could not read on
// the chain and the ledger (the counts of released and left-out subjects).
import Fastify, { type FastifyInstance } from "fastify";
import { Contract, type Provider } from "ethers";
import { createRelease, type EncryptedDataset } from "@datamarket/sdk";
import { dataLicenseMarketAbi, streamRegistryAbi } from "@datamarket/contracts";
import type { ConsentLedgerClient } from "@datamarket/consent-ledger";
import { releaseToJson } from "../src/release-codec";

export interface ReleasedDataset {
  /** the encrypted file and the seller's master key */
  dataset: EncryptedDataset;
  /** subject id by member slot on the consent ledger (the order the custodian added them in: slots are never reused) */
  subjectsBySlot: string[];
}

export interface ReleaseServiceOptions {
  provider: Provider;
  market: string;
  registry: string;
  /** a reader of the consent ledger (an auditor identity) */
  ledger: ConsentLedgerClient;
  /** by lowercase dataset id */
  datasets: Map<string, ReleasedDataset>;
  /** the portal's origin, for CORS */
  allowOrigin: string;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The member slots set in a grant's releasedSlots bitmap (base64; bit i = byte i >> 3, mask 1 << (i & 7)). */
export function slotsOf(bitmap: string): number[] {
  const bytes = Buffer.from(bitmap, "base64");
  const slots: number[] = [];
  for (let i = 0; i < bytes.length * 8; i++) if (bytes[i >> 3] & (1 << (i & 7))) slots.push(i);
  return slots;
}

export function buildReleaseService(o: ReleaseServiceOptions): FastifyInstance {
  const market = new Contract(o.market, dataLicenseMarketAbi, o.provider);
  const registry = new Contract(o.registry, streamRegistryAbi, o.provider);
  const app = Fastify({ logger: false });
  app.addHook("onSend", async (_req, reply) => {
    reply.header("access-control-allow-origin", o.allowOrigin).header("vary", "origin").header("cache-control", "no-store");
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, _req, reply) => {
    const r = error instanceof Refusal ? error : new Refusal(error.statusCode && error.statusCode < 500 ? error.statusCode : 500, "INTERNAL", error.message);
    void reply.code(r.status).send({ error: r.code, message: r.message });
  });
  app.get<{ Params: { datasetId: string; buyer: string } }>(
    "/v1/releases/:datasetId/:buyer",
    {
      schema: {
        params: {
          type: "object",
          required: ["datasetId", "buyer"],
          properties: { datasetId: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" }, buyer: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } },
        },
      },
    },
    async (req) => {
      const datasetId = req.params.datasetId.toLowerCase();
      const buyer = req.params.buyer.toLowerCase();
      const entry = o.datasets.get(datasetId);
      if (!entry) throw new Refusal(404, "UNKNOWN_DATASET", `this service releases no dataset ${datasetId}`);
      if (!(await market.hasValidLicense(buyer, datasetId))) throw new Refusal(403, "NOT_LICENSED", `${buyer} holds no valid licence on dataset ${datasetId}`);
      // the grant of the buyer's latest attested purchase of a product holding the dataset
      const purchases = await market.queryFilter(market.filters.LicensePurchased(null, buyer));
      let grantId: string | undefined;
      for (const log of purchases.reverse()) {
        const args = (log as unknown as { args: { productId: string; grantId: string } }).args;
        if (/^0x0{64}$/.test(args.grantId)) continue;
        const resources: string[] = (await market.productResources(args.productId)).map((r: string) => r.toLowerCase());
        if (resources.includes(datasetId)) {
          grantId = args.grantId.toLowerCase();
          break;
        }
      }
      if (!grantId) throw new Refusal(403, "NO_GRANT", `${buyer}'s licence was not bought under a consent grant`);
      const grant = await o.ledger.getGrant(grantId);
      if (grant.status !== "Open")
        throw new Refusal(
          403,
          "GRANT_NOT_OPEN",
          `the consent grant ${grantId} is ${grant.status.toLowerCase()}: a data subject withdrew consent or it expired`,
        );
      if (grant.resourceId.toLowerCase() !== datasetId) throw new Refusal(403, "NO_GRANT", `grant ${grantId} is for another resource`);
      const approvedSubjects = slotsOf(grant.releasedSlots).map((slot) => entry.subjectsBySlot[slot]);
      if (approvedSubjects.some((s) => s === undefined))
        throw new Refusal(500, "INTERNAL", `grant ${grantId} releases a member slot this service does not know`);
      const publicKey = Buffer.from(String(await registry.encryptionKeyOf(buyer)).slice(2), "hex");
      if (publicKey.length !== 33) throw new Refusal(403, "NO_ENCRYPTION_KEY", `${buyer} registered no encryption key in the stream registry`);
      const left = entry.subjectsBySlot.length - approvedSubjects.length;
      const release = createRelease(
        entry.dataset,
        { decision: "approved", approvedSubjects, deniedByReason: left ? { NOT_IN_GRANT: left } : {} },
        { address: buyer, publicKey },
      );
      return releaseToJson(release);
    },
  );
  return app;
}

export async function startReleaseService(o: ReleaseServiceOptions): Promise<{ url: string; close(): Promise<void> }> {
  const app = buildReleaseService(o);
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url, close: () => app.close() };
}
