// datamarket dataset upload|release|download: batch datasets encrypted per data subject (docs/sdk.md,
// "Batch datasets"). The seller encrypts and registers the content hash; per buyer it releases the
// keys of the subjects the consent ledger's decision approved; the buyer checks and decrypts.
import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { DatasetRelease } from "@datamarket/sdk";
import { encryptionKey, parseAddress, resolveResource } from "../args";
import { receiptOf, type Context } from "../context";
import { CliError, ExitCode, usage } from "../errors";
import { fields } from "../output";
import type { Action } from "../main";

const RELEASE_FORMAT = "datamarket-dataset-release/1";
const KEY_FORMAT = "datamarket-dataset-key/1";

/** Binary values as { "$bytes": base64 } in JSON, and back: a release file loses nothing. */
const encodeBinary = (_key: string, value: unknown) =>
  value && typeof value === "object" && (value as { type?: string }).type === "Buffer"
    ? { $bytes: Buffer.from((value as { data: number[] }).data).toString("base64") }
    : value instanceof Uint8Array
      ? { $bytes: Buffer.from(value).toString("base64") }
      : value;
const decodeBinary = (_key: string, value: unknown) =>
  value && typeof value === "object" && typeof (value as { $bytes?: unknown }).$bytes === "string"
    ? Buffer.from((value as { $bytes: string }).$bytes, "base64")
    : value;

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, "utf8"), decodeBinary) as T;
  } catch (error) {
    throw usage(`${what} ${file}: ${(error as Error).message}`);
  }
}

async function readRecords(file: string, ctx: Context): Promise<{ subjectId: string; data: Uint8Array }[]> {
  const records: { subjectId: string; data: Uint8Array }[] = [];
  let line = 0;
  for await (const text of createInterface({ input: file === "-" ? process.stdin : createReadStream(file) })) {
    line++;
    if (!text.trim()) continue;
    let parsed: { subjectId?: unknown; data?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw usage(`${file}:${line}: not JSON (${(error as Error).message}); each line is {"subjectId": "...", "data": ...}`);
    }
    if (typeof parsed.subjectId !== "string" || parsed.subjectId === "") throw usage(`${file}:${line}: "subjectId" must be a non-empty string`);
    if (parsed.data === undefined) throw usage(`${file}:${line}: "data" is missing`);
    records.push({ subjectId: parsed.subjectId, data: Buffer.from(typeof parsed.data === "string" ? parsed.data : JSON.stringify(parsed.data), "utf8") });
    if (records.length % 1000 === 0) ctx.out.progress(`read ${records.length} records`);
  }
  if (records.length === 0) throw usage(`${file}: no records`);
  return records;
}

export function datasetCommands(program: Command, action: Action): void {
  const dataset = program
    .command("dataset")
    .description("batch datasets encrypted per data subject: upload (seller), release (seller, per buyer), download (buyer)");

  dataset
    .command("upload <path> <records>")
    .description(
      'encrypt JSON-lines records ({"subjectId", "data"} a line; "-" = stdin) per subject, write the file for you to host, and register its content hash',
    )
    .requiredOption("--out <file>", "where to write the encrypted dataset (host it at --location)")
    .requiredOption("--location <uri>", "where buyers fetch the file (recorded on chain)")
    .option("--key-file <file>", "where to keep the master key (mode 0600; default <out>.key.json): never share it")
    .option("--metadata <text>", "metadata stored with the dataset", "")
    .action(
      action(async (ctx: Context, path: string, recordsFile: string, opts: { out: string; location: string; keyFile?: string; metadata: string }) => {
        if (!path.startsWith("/")) throw usage(`the path must start with "/", got "${path}"`);
        const sdk = ctx.sdk();
        const datasetId = sdk.StreamRegistryClient.resourceId(await ctx.address(), path).toLowerCase();
        const records = await readRecords(recordsFile, ctx);
        const subjects = new Set(records.map((r) => r.subjectId)).size;
        ctx.out.progress(`encrypting ${records.length} records of ${subjects} subjects`);
        const encrypted = sdk.encryptDataset(datasetId, records);
        writeFileSync(opts.out, encrypted.file);
        const keyFile = opts.keyFile ?? `${opts.out}.key.json`;
        writeFileSync(
          keyFile,
          JSON.stringify({ format: KEY_FORMAT, datasetId, contentHash: encrypted.contentHash, masterKey: encrypted.masterKey }, encodeBinary, 2) + "\n",
          { mode: 0o600 },
        );
        const registry = await ctx.registryClient();
        ctx.out.progress(`registering ${path} (content hash ${encrypted.contentHash.slice(0, 18)}…): waiting for confirmation`);
        const { receipt } = await registry.createDataset(path, encrypted.contentHash, opts.location, opts.metadata);
        const result = {
          datasetId,
          path,
          contentHash: encrypted.contentHash,
          records: records.length,
          subjects,
          bytes: encrypted.file.length,
          file: opts.out,
          keyFile,
          location: opts.location,
          ...receiptOf(receipt),
        };
        ctx.out.result(result, (r) =>
          fields([
            ["dataset", r.datasetId],
            ["content hash", r.contentHash],
            ["records", `${r.records} of ${r.subjects} subjects`],
            ["file", `${r.file} (${r.bytes} bytes): host it at ${r.location}`],
            ["master key", `${r.keyFile} (keep it secret)`],
            ["block", r.block],
          ]),
        );
      }),
    );

  dataset
    .command("release <dataset>")
    .description("for one licensed buyer, release the keys of the subjects the consent ledger's decision approved (their registered encryption key)")
    .requiredOption("--file <file>", "the encrypted dataset (dataset upload --out)")
    .requiredOption("--key-file <file>", "its master key (dataset upload --key-file)")
    .requiredOption("--buyer <address>", "the buyer")
    .requiredOption("--decision <file>", "the consent ledger's decision for the buyer's request (datamarket consent request --json)")
    .requiredOption("--out <file>", "where to write the release for the buyer")
    .action(
      action(async (ctx: Context, ref: string, opts: { file: string; keyFile: string; buyer: string; decision: string; out: string }) => {
        const datasetId = await resolveResource(ctx, ref);
        const buyer = parseAddress(opts.buyer, "--buyer");
        const key = readJson<{ format?: string; datasetId?: string; masterKey?: Buffer }>(opts.keyFile, "key file");
        if (key.format !== KEY_FORMAT || !key.masterKey) throw usage(`${opts.keyFile} is not a dataset key file (${KEY_FORMAT})`);
        if (key.datasetId !== datasetId) throw usage(`${opts.keyFile} is the key of ${key.datasetId}, not of ${datasetId}`);
        const decision = readJson<{ decision?: string; approvedSubjects?: string[]; deniedByReason?: Record<string, number> }>(opts.decision, "decision");
        const sdk = ctx.sdk();
        const { market } = await ctx.contracts(false);
        ctx.out.progress(`checking ${buyer}'s licence and registered encryption key`);
        if (!(await market.hasValidLicense(buyer, datasetId)))
          throw new CliError(ExitCode.REFUSED, "NOT_LICENSED", `${buyer} holds no valid licence for ${datasetId}`, { buyer, datasetId });
        const publicKey = await (await ctx.registryClient(false)).encryptionKeyOf(buyer);
        if (!publicKey) throw new CliError(ExitCode.REFUSED, "NO_ENCRYPTION_KEY", `${buyer} registered no encryption key`, { buyer });
        const release = sdk.createRelease({ file: readFileSync(opts.file), masterKey: key.masterKey }, decision as Parameters<typeof sdk.createRelease>[1], {
          address: buyer,
          publicKey,
        });
        writeFileSync(opts.out, JSON.stringify({ format: RELEASE_FORMAT, ...release }, encodeBinary) + "\n");
        ctx.out.result({ datasetId, buyer, released: release.released.length, leftOut: release.leftOut, file: opts.out }, (r) =>
          fields([
            ["dataset", r.datasetId],
            ["buyer", r.buyer],
            ["subjects released", r.released],
            ["left out", JSON.stringify(r.leftOut)],
            ["release", r.file],
          ]),
        );
      }),
    );

  dataset
    .command("download <dataset>")
    .description("check a release against the registered content hash and decrypt it (JSON lines of {subjectId, data} to --out or stdout)")
    .requiredOption("--release <file>", "the release the seller made for you (dataset release)")
    .option("--out <file>", "where to write the records (default: standard output)")
    .option("--encryption-key-file <file>", "your encryption key; or DATAMARKET_ENCRYPTION_KEY")
    .action(
      action(async (ctx: Context, ref: string, opts: { release: string; out?: string; encryptionKeyFile?: string }) => {
        const datasetId = await resolveResource(ctx, ref);
        const privateKey = encryptionKey(opts.encryptionKeyFile, true)!;
        const release = readJson<DatasetRelease & { format?: string }>(opts.release, "release");
        if (release.format !== RELEASE_FORMAT) throw usage(`${opts.release} is not a dataset release (${RELEASE_FORMAT})`);
        ctx.out.progress(`reading the registered content hash of ${datasetId}`);
        const contentHash = await (await ctx.registryClient(false)).datasetContentHash(datasetId);
        ctx.out.progress(`checking and decrypting ${release.released.length} subjects`);
        const opened = ctx.sdk().openRelease({ ...release, ephemeralPublicKey: Uint8Array.from(release.ephemeralPublicKey) }, contentHash, privateKey);
        const lines = opened.subjects.flatMap((s) => s.records.map((r) => JSON.stringify({ subjectId: s.subjectId, data: Buffer.from(r).toString("utf8") })));
        const records = lines.length;
        if (opts.out) writeFileSync(opts.out, lines.join("\n") + (records ? "\n" : ""));
        else if (!ctx.options.json) for (const line of lines) process.stdout.write(line + "\n");
        const summary = { datasetId, contentHash, subjects: opened.subjects.length, records, leftOut: opened.leftOut, ...(opts.out ? { out: opts.out } : {}) };
        if (ctx.options.json || opts.out)
          ctx.out.result(summary, (r) =>
            fields([
              ["dataset", r.datasetId],
              ["subjects", r.subjects],
              ["records", r.records],
              ["left out", JSON.stringify(r.leftOut)],
              ["written to", r.out ?? "-"],
            ]),
          );
        else ctx.out.note(`${summary.records} records of ${summary.subjects} subjects; left out ${JSON.stringify(summary.leftOut)}`);
      }),
    );
}
