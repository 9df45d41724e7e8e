// Parsing of argument values shared by the commands; each names the option and the value it refused.
import { readFileSync } from "node:fs";
import type { Context } from "./context";
import { notFound, usage } from "./errors";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** "3600", "90s", "30m", "12h", "7d", "2w" -> seconds. */
export function parseDuration(value: string, option: string): number {
  const match = /^(\d+)([smhdw]?)$/.exec(value.trim());
  if (!match) throw usage(`${option}: "${value}" is not a duration (seconds, or a number with s, m, h, d or w: 90s, 12h, 7d)`);
  const seconds = Number(match[1]) * UNITS[match[2] || "s"];
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw usage(`${option}: "${value}" must be a positive duration`);
  return seconds;
}

/** A unix time in seconds, or a duration from now ("+30d"); "never" -> 2^64 - 1. */
export function parseTime(value: string, option: string): bigint {
  if (value === "never") return (1n << 64n) - 1n;
  if (value.startsWith("+")) return BigInt(Math.floor(Date.now() / 1000) + parseDuration(value.slice(1), option));
  if (/^\d+$/.test(value)) return BigInt(value);
  throw usage(`${option}: "${value}" is neither unix seconds, "+<duration>" (+30d) nor "never"`);
}

export function parseInteger(value: string, option: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw usage(`${option}: "${value}" must be an integer in [${min}, ${max}]`);
  return n;
}

export function parseBytes32(value: string, what: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw usage(`${what}: "${value}" is not 32 bytes of 0x-hex`);
  return value.toLowerCase();
}

export function parseAddress(value: string, what: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw usage(`${what}: "${value}" is not a 0x address`);
  return value;
}

/** DATA as a decimal ("8.64") -> wei. */
export function parseData(value: string, option: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(value)) throw usage(`${option}: "${value}" is not an amount of DATA (at most 18 decimals)`);
  const [whole, fraction = ""] = value.split(".");
  return BigInt(whole) * 10n ** 18n + BigInt(fraction.padEnd(18, "0"));
}

/** wei -> "8.64 DATA". */
export function formatData(wei: bigint): string {
  const whole = wei / 10n ** 18n;
  const fraction = (wei % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
  return `${whole}${fraction ? "." + fraction : ""} DATA`;
}

/**
 * A stream or dataset: its id (0x + 32 bytes), "<creator address>/<path>", or "/<path>" of the
 * wallet's own. The registry's id is keccak256(creator ‖ path).
 */
export async function resolveResource(ctx: Context, ref: string): Promise<string> {
  if (/^0x[0-9a-fA-F]{64}$/.test(ref)) return ref.toLowerCase();
  const owned = /^(0x[0-9a-fA-F]{40})(\/.*)$/.exec(ref);
  const { StreamRegistryClient } = ctx.sdk();
  if (owned) return StreamRegistryClient.resourceId(owned[1], owned[2]).toLowerCase();
  if (ref.startsWith("/")) return StreamRegistryClient.resourceId(await ctx.address(), ref).toLowerCase();
  if (/^[^/\s]+\.[^/\s]+$/.test(ref) && !ref.startsWith("0x")) return resolveName(ctx, ref);
  throw usage(`"${ref}" is not a resource: give its id (0x + 64 hex), <creator address>/<path>, /<path> of your wallet, or an ENS name of a stream`);
}

/** A stream's ENS name (heart-rate.kraken.eth) through the deployment's StreamNames, checked on chain (docs/contracts.md §7). */
async function resolveName(ctx: Context, name: string): Promise<string> {
  const { record } = await ctx.deployment();
  const names = (record.contracts as { StreamNames?: { address: string } }).StreamNames;
  if (!names) throw notFound(`"${name}" looks like an ENS name, and the deployment record names no StreamNames contract`, { name });
  try {
    return await ctx.sdk().resolveStreamName(ctx.provider(), names.address, name);
  } catch (error) {
    const e = error as { code?: string; shortMessage?: string; message: string; details?: Record<string, unknown> };
    if (e.code === "NAME_NOT_FOUND") throw notFound(e.shortMessage ?? e.message, { name, ...e.details });
    if (e.code === "INVALID_ARGUMENT") throw usage(e.shortMessage ?? e.message, { name });
    throw error;
  }
}

/** The private half of the buyer's registered encryption key: --encryption-key-file, else DATAMARKET_ENCRYPTION_KEY. */
export function encryptionKey(file: string | undefined, required: boolean): Uint8Array | undefined {
  let hex = process.env.DATAMARKET_ENCRYPTION_KEY;
  if (file) {
    try {
      hex = (JSON.parse(readFileSync(file, "utf8")) as { privateKey?: string }).privateKey;
    } catch (error) {
      throw usage(`--encryption-key-file ${file}: ${(error as Error).message}`);
    }
  }
  if (!hex) {
    if (required) throw usage("this needs your encryption key: --encryption-key-file FILE (datamarket wallet encryption-key) or DATAMARKET_ENCRYPTION_KEY");
    return undefined;
  }
  const clean = hex.replace(/^0x/, "");
  if (!/^[0-9a-fA-F]{64}$/.test(clean)) throw usage("the encryption key must be 32 bytes of hex");
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

/** Content to publish: a JSON value when it parses as one, else the text. */
export function parseContent(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean),
];
