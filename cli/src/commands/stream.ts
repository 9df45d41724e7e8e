// datamarket stream create|show|grant|revoke|publish|subscribe|resend
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { ReceivedMessage } from "@datamarket/sdk";
import { encryptionKey, parseContent, parseInteger, parseTime, resolveResource, parseAddress } from "../args";
import { receiptOf, type Context } from "../context";
import { notFound, usage } from "../errors";
import { fields } from "../output";
import type { Action } from "../main";

const KINDS = ["stream", "dataset"];
const never = (1n << 64n) - 1n;
const expiry = (value: bigint) => (value === never ? "never" : value === 0n ? "none" : new Date(Number(value) * 1000).toISOString());

function messageView(m: ReceivedMessage) {
  const parsed = m.parsed();
  return {
    streamId: m.streamId,
    partition: m.streamPartition,
    publisher: m.publisher,
    timestamp: m.timestamp,
    sequenceNumber: m.sequenceNumber,
    eventHash: m.eventHash,
    encrypted: m.encrypted,
    content: parsed instanceof Uint8Array ? "0x" + Buffer.from(parsed).toString("hex") : parsed,
  };
}
const messageLine = (m: ReturnType<typeof messageView>) =>
  `${new Date(m.timestamp).toISOString()} ${m.publisher} #${m.sequenceNumber}${m.encrypted ? " (decrypted)" : ""} ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`;

/** How `stream grant` and `stream revoke` print a permission they set. */
const permissionFields = (r: { id: string; user: string; publishExpiry: bigint; subscribeExpiry: bigint; block: number }) =>
  fields([
    ["resource", r.id],
    ["user", r.user],
    ["publish until", expiry(r.publishExpiry)],
    ["subscribe until", expiry(r.subscribeExpiry)],
    ["block", r.block],
  ]);

export function streamCommands(program: Command, action: Action): void {
  const stream = program.command("stream").description("streams on the registry: create, inspect, permissions; publish, subscribe, resend through brokers");

  stream
    .command("create <path>")
    .description("create a stream owned by your wallet (its id: keccak256(address ‖ path))")
    .option("--partitions <n>", "stream partitions (1-100)", "1")
    .option("--metadata <text>", "metadata stored with the stream (JSON by convention)", "")
    .option("--public", "anyone may subscribe (contents are then published in clear)")
    .action(
      action(async (ctx: Context, path: string, opts: { partitions: string; metadata: string; public?: boolean }) => {
        if (!path.startsWith("/")) throw usage(`the path must start with "/", got "${path}"`);
        const partitions = parseInteger(opts.partitions, "--partitions", 1, 100);
        const registry = await ctx.registryClient();
        ctx.out.progress(`creating ${path} (${partitions} partition${partitions === 1 ? "" : "s"}): waiting for confirmation`);
        const { streamId, receipt } = await registry.createStream(path, partitions, opts.metadata);
        let publicReceipt;
        if (opts.public) {
          ctx.out.progress("opening it to every subscriber: waiting for confirmation");
          publicReceipt = await registry.setPublicAccess(streamId, false, true);
        }
        const result = {
          streamId: streamId.toLowerCase(),
          path,
          owner: await ctx.address(),
          partitions,
          public: Boolean(opts.public),
          ...receiptOf(publicReceipt ?? receipt),
        };
        ctx.out.result(result, (r) =>
          fields([
            ["stream", r.streamId],
            ["path", `${r.owner}${r.path}`],
            ["partitions", r.partitions],
            ["public", r.public],
            ["block", r.block],
          ]),
        );
      }),
    );

  stream
    .command("show <stream>")
    .description("the registry's record of a stream or dataset: owner, partitions, public access, your permission")
    .action(
      action(async (ctx: Context, ref: string) => {
        const id = await resolveResource(ctx, ref);
        const { registry } = await ctx.contracts(false);
        const resource = await registry.getResource(id);
        if (resource.owner === "0x0000000000000000000000000000000000000000") throw notFound(`no stream or dataset ${id} on the registry`, { id });
        const kind = KINDS[Number(resource.kind)] ?? `kind ${resource.kind}`;
        const result: Record<string, unknown> = {
          id,
          kind,
          owner: resource.owner,
          generation: Number(resource.generation),
          partitions: Number(resource.partitions),
          publicPublish: resource.publicPublish,
          publicSubscribe: resource.publicSubscribe,
        };
        if (kind === "dataset") result.contentHash = await registry.datasetContentHash(id);
        const address = process.env.DATAMARKET_PRIVATE_KEY || process.env.DATAMARKET_KEYSTORE || ctx.options.keystore ? await ctx.address() : undefined;
        if (address) {
          const p = await registry.getPermission(id, address);
          result.you = {
            address,
            canPublish: await registry.canPublish(id, address),
            canSubscribe: await registry.canSubscribe(id, address),
            publishExpiry: p.publishExpiry,
            subscribeExpiry: p.subscribeExpiry,
            canGrant: p.canGrant,
          };
        }
        ctx.out.result(result, (r) =>
          fields(
            Object.entries(r).map(([k, v]) => [k, typeof v === "object" && v ? JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? expiry(x) : x)) : v]),
          ),
        );
      }),
    );

  stream
    .command("grant <stream> <address>")
    .description("let an address publish and/or subscribe (your wallet needs the grant permission)")
    .option("--publish", "publish permission")
    .option("--subscribe", "subscribe permission (the default when neither is given)")
    .option("--until <time>", 'unix seconds, "+<duration>" (+30d) or "never"', "never")
    .action(
      action(async (ctx: Context, ref: string, address: string, opts: { publish?: boolean; subscribe?: boolean; until: string }) => {
        const id = await resolveResource(ctx, ref);
        const user = parseAddress(address, "address");
        const until = parseTime(opts.until, "--until");
        const subscribe = opts.subscribe || !opts.publish;
        const { registry } = await ctx.contracts(false);
        const current = await registry.getPermission(id, user);
        const registryClient = await ctx.registryClient();
        ctx.out.progress(
          `granting ${[opts.publish && "publish", subscribe && "subscribe"].filter(Boolean).join(" and ")} on ${id} to ${user}: waiting for confirmation`,
        );
        const receipt = await registryClient.setPermission(id, user, {
          publishExpiry: opts.publish ? until : current.publishExpiry,
          subscribeExpiry: subscribe ? until : current.subscribeExpiry,
          canGrant: current.canGrant,
          canEdit: current.canEdit,
          canDelete: current.canDelete,
          canGrantSubscribe: current.canGrantSubscribe,
        });
        const result = {
          id,
          user,
          publishExpiry: opts.publish ? until : current.publishExpiry,
          subscribeExpiry: subscribe ? until : current.subscribeExpiry,
          ...receiptOf(receipt),
        };
        ctx.out.result(result, permissionFields);
      }),
    );

  stream
    .command("revoke <stream> <address>")
    .description("take publish and/or subscribe permission away (both when neither is given)")
    .option("--publish", "publish permission only")
    .option("--subscribe", "subscribe permission only")
    .action(
      action(async (ctx: Context, ref: string, address: string, opts: { publish?: boolean; subscribe?: boolean }) => {
        const id = await resolveResource(ctx, ref);
        const user = parseAddress(address, "address");
        const both = !opts.publish && !opts.subscribe;
        const { registry } = await ctx.contracts(false);
        const current = await registry.getPermission(id, user);
        const registryClient = await ctx.registryClient();
        ctx.out.progress(`revoking on ${id} from ${user}: waiting for confirmation`);
        const publishExpiry = both || opts.publish ? 0n : current.publishExpiry;
        const subscribeExpiry = both || opts.subscribe ? 0n : current.subscribeExpiry;
        const receipt = await registryClient.setPermission(id, user, {
          publishExpiry,
          subscribeExpiry,
          canGrant: both ? false : current.canGrant,
          canEdit: both ? false : current.canEdit,
          canDelete: both ? false : current.canDelete,
          canGrantSubscribe: both ? false : current.canGrantSubscribe,
        });
        ctx.out.result({ id, user, publishExpiry, subscribeExpiry, ...receiptOf(receipt) }, permissionFields);
      }),
    );

  stream
    .command("publish <stream> [content]")
    .description("publish one event (the content: JSON, else text), or one per line of standard input")
    .option("--partition <n>", "stream partition")
    .option("--partition-key <key>", "choose the partition by hashing this key")
    .option("--no-encrypt", "send in clear on a non-public stream")
    .action(
      action(async (ctx: Context, ref: string, content: string | undefined, opts: { partition?: string; partitionKey?: string; encrypt: boolean }) => {
        const id = await resolveResource(ctx, ref);
        const client = await ctx.dataClient();
        const options = {
          ...(opts.partition !== undefined ? { partition: parseInteger(opts.partition, "--partition", 0, 99) } : {}),
          ...(opts.partitionKey !== undefined ? { partitionKey: opts.partitionKey } : {}),
          ...(opts.encrypt === false ? { encrypt: false } : {}),
        };
        const results = [];
        const publishOne = async (text: string) => {
          const r = await client.publish(id, parseContent(text), options);
          results.push(r);
          if (content === undefined) ctx.out.item({ ...r, streamId: id }, (x) => `${x.eventHash} partition ${x.streamPartition} #${x.sequenceNumber}`);
          else
            ctx.out.result({ ...r, streamId: id }, (x) =>
              fields([
                ["event", x.eventHash],
                ["partition", x.streamPartition],
                ["sequence", x.sequenceNumber],
                ["encrypted", x.groupKeyId !== "" && x.groupKeyId !== undefined],
              ]),
            );
        };
        if (content !== undefined) {
          ctx.out.progress(`publishing to ${id}: waiting for the broker's acknowledgement`);
          await publishOne(content);
          return;
        }
        if (process.stdin.isTTY) ctx.out.note("reading events from standard input, one a line (Ctrl-D ends)");
        for await (const line of createInterface({ input: process.stdin })) if (line.trim()) await publishOne(line);
        ctx.out.note(`${results.length} event${results.length === 1 ? "" : "s"} published`);
      }),
    );

  stream
    .command("subscribe <stream>")
    .description("print the stream's events as they arrive (decrypted when you hold the key) until Ctrl-C or --count")
    .option("--partition <n>", "stream partition", "0")
    .option("--count <n>", "stop after this many events")
    .option("--encryption-key-file <file>", "your encryption key (datamarket wallet encryption-key); or DATAMARKET_ENCRYPTION_KEY")
    .action(
      action(async (ctx: Context, ref: string, opts: { partition: string; count?: string; encryptionKeyFile?: string }) => {
        const id = await resolveResource(ctx, ref);
        const count = opts.count !== undefined ? parseInteger(opts.count, "--count", 1) : Infinity;
        const client = await ctx.dataClient(encryptionKey(opts.encryptionKeyFile, false));
        let seen = 0;
        await new Promise<void>((resolve, reject) => {
          ctx.onInterrupt(resolve);
          client
            .subscribe(
              id,
              (m) => {
                if (seen >= count) return;
                seen++;
                ctx.out.item(messageView(m), messageLine);
                if (seen >= count) resolve();
              },
              { partition: parseInteger(opts.partition, "--partition", 0, 99), onError: (e) => ctx.out.note(`refused an event or notice: ${e.message}`) },
            )
            .then(
              () =>
                ctx.out.note(
                  `subscribed to ${id} partition ${opts.partition}${count !== Infinity ? `, waiting for ${count} event${count === 1 ? "" : "s"}` : "; Ctrl-C ends"}`,
                ),
              reject,
            );
        });
      }),
    );

  stream
    .command("resend <stream>")
    .description("print stored events from the brokers: the last N, or from/between times")
    .option("--last <n>", "the last N events")
    .option("--from <time>", "from this time (unix ms or ISO 8601)")
    .option("--to <time>", "until this time (with --from)")
    .option("--publisher <address>", "only this publisher's events (with --from)")
    .option("--partition <n>", "stream partition", "0")
    .option("--encryption-key-file <file>", "your encryption key; or DATAMARKET_ENCRYPTION_KEY")
    .action(
      action(
        async (
          ctx: Context,
          ref: string,
          opts: { last?: string; from?: string; to?: string; publisher?: string; partition: string; encryptionKeyFile?: string },
        ) => {
          const id = await resolveResource(ctx, ref);
          const time = (v: string, option: string) => {
            const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
            if (!Number.isFinite(t)) throw usage(`${option}: "${v}" is neither unix ms nor an ISO 8601 time`);
            return t;
          };
          if ((opts.last === undefined) === (opts.from === undefined)) throw usage("give either --last N or --from TIME");
          const publisher = opts.publisher ? parseAddress(opts.publisher, "--publisher").toLowerCase() : undefined;
          const query =
            opts.last !== undefined
              ? { type: "last" as const, count: parseInteger(opts.last, "--last", 1) }
              : opts.to !== undefined
                ? { type: "range" as const, fromTimestamp: time(opts.from!, "--from"), toTimestamp: time(opts.to, "--to"), ...(publisher ? { publisher } : {}) }
                : { type: "from" as const, fromTimestamp: time(opts.from!, "--from"), ...(publisher ? { publisher } : {}) };
          const client = await ctx.dataClient(encryptionKey(opts.encryptionKeyFile, false));
          ctx.out.progress(`asking the brokers of ${id} for ${opts.last !== undefined ? `the last ${opts.last} events` : "stored events"}`);
          const messages = await client.resend(id, query, {
            partition: parseInteger(opts.partition, "--partition", 0, 99),
            onError: (e) => ctx.out.note(`refused: ${e.message}`),
          });
          if (ctx.options.json) ctx.out.result(messages.map(messageView), () => "");
          else for (const m of messages) ctx.out.item(messageView(m), messageLine);
          ctx.out.note(`${messages.length} event${messages.length === 1 ? "" : "s"}`);
        },
      ),
    );
}
