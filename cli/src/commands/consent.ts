// datamarket consent give|withdraw|request|show, on the consent ledger of a profile (--ledger FILE or
// DATAMARKET_LEDGER): a Fabric gateway peer with an enrolled identity, or the in-process ledger.
//
// The in-process ledger (the repository's embedded Fabric peer) lives as long as the command: it is
// for trying the chaincode's rules (what a request decides, what terms are refused), not for keeping
// consents between commands; a network's consents live on its Fabric peers (kind "fabric-gateway").
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type * as Ledger from "@datamarket/consent-ledger";
import { collect, parseBytes32, parseDuration, parseTime } from "../args";
import type { Context } from "../context";
import { config, usage } from "../errors";
import { fields } from "../output";
import { loadModule } from "../load";
import type { Action } from "../main";

/** A ledger profile (docs/cli.md, "Consent ledger profiles"). */
type Profile =
  | {
      kind: "fabric-gateway";
      endpoint: string;
      tlsCaFile: string;
      hostnameOverride?: string;
      mspId: string;
      certificateFile: string;
      privateKeyFile: string;
      channel?: string;
      chaincode?: string;
    }
  | { kind: "in-process"; mspId?: string; name?: string; attributes?: Record<string, string> };

function readProfile(file: string | undefined): Profile {
  if (!file) return { kind: "in-process" };
  let profile: Profile;
  try {
    profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  } catch (error) {
    throw config(`ledger profile ${file}: ${(error as Error).message}`);
  }
  if (profile.kind !== "fabric-gateway" && profile.kind !== "in-process")
    throw config(`ledger profile ${file}: "kind" must be "fabric-gateway" or "in-process"`);
  if (profile.kind === "fabric-gateway") {
    for (const key of ["endpoint", "tlsCaFile", "mspId", "certificateFile", "privateKeyFile"] as const) {
      if (typeof profile[key] !== "string" || !profile[key]) throw config(`ledger profile ${file}: "${key}" is required for a fabric-gateway profile`);
    }
  }
  return profile;
}

/** A consent client acting as the profile's identity; `role` picks the in-process identity's attributes. */
async function connect(
  ctx: Context,
  file: string | undefined,
  role: { role: "custodian" | "buyer"; attributes?: Record<string, string> },
): Promise<Ledger.ConsentLedgerClient> {
  const profile = readProfile(file);
  let ledger: typeof Ledger;
  try {
    ledger = loadModule<typeof Ledger>("@datamarket/consent-ledger");
  } catch (error) {
    throw Object.assign(config("the consent commands need @datamarket/consent-ledger (npm install @datamarket/consent-ledger)"), { cause: error });
  }
  if (profile.kind === "fabric-gateway") {
    const read = (path: string) => {
      try {
        return readFileSync(path, "utf8");
      } catch (error) {
        throw config(`ledger profile: cannot read ${path} (${(error as Error).message})`);
      }
    };
    ctx.out.progress(`connecting to the Fabric gateway ${profile.endpoint} as ${profile.mspId}`);
    const connection = ledger.connectFabricGateway({
      endpoint: profile.endpoint,
      tlsCaCertificate: read(profile.tlsCaFile),
      hostnameOverride: profile.hostnameOverride,
      mspId: profile.mspId,
      certificate: read(profile.certificateFile),
      privateKey: read(profile.privateKeyFile),
      channelName: profile.channel ?? "consent",
      chaincodeName: profile.chaincode,
    });
    ctx.onClose(() => connection.close());
    return connection.client;
  }
  ctx.out.note("consent ledger: in-process (it ends with this command; --ledger PROFILE for a Fabric network)");
  const mspId = profile.mspId ?? (role.role === "custodian" ? "HospitalMSP" : "ResearchMSP");
  const inProcess = await ledger.InProcessConsentLedger.create({
    custodianMspIds: [role.role === "custodian" ? mspId : "HospitalMSP"],
    otherMspIds: [role.role === "custodian" ? "ResearchMSP" : mspId, "AuditMSP"].filter((m, i, all) => all.indexOf(m) === i),
  });
  const identity = await inProcess.enroll(mspId, profile.name ?? (role.role === "custodian" ? "registrar" : "buyer"), {
    "consent.role": role.role,
    ...(role.attributes ?? {}),
    ...(profile.attributes ?? {}),
  });
  return inProcess.client(identity);
}

type ConsentOptions = { ledger?: string };
const ledgerOption = "consent ledger profile (JSON; docs/cli.md); default: an in-process ledger for this command";

export function consentCommands(program: Command, action: Action): void {
  const consent = program
    .command("consent")
    .description("the consent ledger: record and withdraw data subjects' consent, request access for a purpose, read records");

  consent
    .command("give")
    .description("record a data subject's consent (as a custodian organisation)")
    .requiredOption("--subject <id>", "the subject's pseudonymous id")
    .requiredOption("--resource <ids...>", "streams or datasets (0x ids) it covers; repeat or separate with commas", collect)
    .requiredOption("--purpose <names...>", "purposes (ScientificResearch, CommercialResearch, ...)", collect)
    .requiredOption("--data-category <names...>", "data categories (PhysicalHealth, ...)", collect)
    .requiredOption("--buyer-type <names...>", "buyer types (PublicResearch, PrivateCompany, ...)", collect)
    .requiredOption("--jurisdiction <codes...>", "jurisdictions (EU, NL, ...)", collect)
    .requiredOption("--legal-basis <basis>", "A6-1-a or A9-2-a")
    .option("--valid-until <time>", 'unix seconds or "+<duration>"', "+365d")
    .requiredOption("--controller <name>", "the controller's name")
    .requiredOption("--notice-file <file>", "the notice the subject was shown (its SHA-256 is recorded)")
    .option("--ledger <file>", ledgerOption, process.env.DATAMARKET_LEDGER)
    .action(
      action(
        async (
          ctx: Context,
          opts: ConsentOptions & {
            subject: string;
            resource: string[];
            purpose: string[];
            dataCategory: string[];
            buyerType: string[];
            jurisdiction: string[];
            legalBasis: string;
            validUntil: string;
            controller: string;
            noticeFile: string;
          },
        ) => {
          if (opts.legalBasis !== "A6-1-a" && opts.legalBasis !== "A9-2-a") throw usage(`--legal-basis must be A6-1-a or A9-2-a, got "${opts.legalBasis}"`);
          const { createHash } = await import("node:crypto");
          const noticeHash = "0x" + createHash("sha256").update(readFileSync(opts.noticeFile)).digest("hex");
          const client = await connect(ctx, opts.ledger, { role: "custodian" });
          ctx.out.progress(`recording the consent of ${opts.subject}: waiting for the ledger to commit`);
          const record = await client.giveConsent({
            subjectId: opts.subject,
            controller: opts.controller,
            resources: opts.resource.map((r) => parseBytes32(r, "--resource")),
            purposes: opts.purpose,
            dataCategories: opts.dataCategory,
            buyerTypes: opts.buyerType,
            jurisdictions: opts.jurisdiction,
            legalBasis: opts.legalBasis,
            validUntil: Number(parseTime(opts.validUntil, "--valid-until")),
            noticeHash,
          });
          ctx.out.result(record, (r) =>
            fields([
              ["consent", r.consentId],
              ["subject", r.subjectId],
              ["status", r.status],
              ["purposes", r.purposes.join(", ")],
              ["valid until", new Date(r.validUntil * 1000).toISOString()],
            ]),
          );
        },
      ),
    );

  consent
    .command("withdraw <consentId>")
    .description("withdraw a consent: the ledger invalidates the grants that relied on it (the bridges relay it to the market)")
    .option("--ledger <file>", ledgerOption, process.env.DATAMARKET_LEDGER)
    .action(
      action(async (ctx: Context, consentId: string, opts: ConsentOptions) => {
        const client = await connect(ctx, opts.ledger, { role: "custodian" });
        ctx.out.progress(`withdrawing ${consentId}: waiting for the ledger to commit`);
        const record = await client.withdrawConsent(consentId);
        ctx.out.result(record, (r) =>
          fields([
            ["consent", r.consentId],
            ["subject", r.subjectId],
            ["status", r.status],
          ]),
        );
      }),
    );

  consent
    .command("request")
    .description("ask the ledger for access to a product for a purpose (as a buyer); prints its decision, and the grant to buy under when approved")
    .requiredOption("--product <id>", "the product")
    .requiredOption("--purpose <name>", "the purpose (ScientificResearch, ...)")
    .option("--eth-address <address>", "the buying wallet (default: your wallet's address)")
    .option("--ttl <duration>", "how long the grant stays valid", "30d")
    .option("--buyer-type <type>", "in-process ledger: the buyer type of the identity", "PublicResearch")
    .option("--jurisdiction <code>", "in-process ledger: the jurisdiction of the identity", "NL")
    .option("--ledger <file>", ledgerOption, process.env.DATAMARKET_LEDGER)
    .action(
      action(
        async (
          ctx: Context,
          opts: ConsentOptions & { product: string; purpose: string; ethAddress?: string; ttl: string; buyerType: string; jurisdiction: string },
        ) => {
          const ethAddress = (opts.ethAddress ?? (await ctx.address())).toLowerCase();
          const client = await connect(ctx, opts.ledger, {
            role: "buyer",
            attributes: { "consent.buyerType": opts.buyerType, "consent.jurisdiction": opts.jurisdiction, "consent.ethAddress": ethAddress },
          });
          ctx.out.progress(`requesting access to ${opts.product} for ${opts.purpose}: waiting for the ledger to commit`);
          const decision = await client.requestAccess({
            productId: parseBytes32(opts.product, "--product"),
            purpose: opts.purpose,
            ethAddress,
            ttlSeconds: parseDuration(opts.ttl, "--ttl"),
          });
          ctx.out.result(decision, (d) =>
            fields([
              ["decision", d.decision],
              ["grant", d.grant?.grantId ?? "-"],
              ["subjects released", d.approvedSubjects.length],
              ["left out", JSON.stringify(d.deniedByReason)],
              ["reasons", d.reasons.join(", ") || "-"],
            ]),
          );
        },
      ),
    );

  consent
    .command("show [consentId]")
    .description("a consent record; or --grant a grant, --subject a subject's consents")
    .option("--grant <grantId>", "show this grant instead")
    .option("--subject <id>", "list this subject's consents instead")
    .option("--history", "with a consent id: every version of the record")
    .option("--ledger <file>", ledgerOption, process.env.DATAMARKET_LEDGER)
    .action(
      action(async (ctx: Context, consentId: string | undefined, opts: ConsentOptions & { grant?: string; subject?: string; history?: boolean }) => {
        if ([consentId, opts.grant, opts.subject].filter(Boolean).length !== 1)
          throw usage("give one of: a consent id, --grant GRANT_ID, --subject SUBJECT_ID");
        const client = await connect(ctx, opts.ledger, { role: "custodian" });
        if (opts.grant) return ctx.out.result(await client.getGrant(opts.grant), (g) => fields(Object.entries(g)));
        if (opts.subject) {
          const page = await client.listSubjectConsents(opts.subject);
          return ctx.out.result(page.records, (list) => list.map((r) => `${r.consentId} ${r.status} ${r.purposes.join(",")}`).join("\n") || "no consents");
        }
        if (opts.history)
          return ctx.out.result(await client.getConsentHistory(consentId!), (h) =>
            h.map((e) => `${new Date(e.timestamp * 1000).toISOString()} ${e.txId} ${e.record?.status ?? "deleted"}`).join("\n"),
          );
        ctx.out.result(await client.getConsent(consentId!), (r) => fields(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v])));
      }),
    );
}
