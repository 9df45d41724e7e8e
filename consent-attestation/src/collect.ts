// Client helper for buyers, the SDK, the demo and the relayer: asks n bridges for their signatures of a
// grant's attestation (or revocation), checks each one, and packs k of them exactly as the market reads
// `bytes signatures`. It trusts no bridge: every signature is recovered against the fields it signs.
import { getAddress } from "ethers";
import { BridgeClientError, type BridgeFailure, ClientErrorCode } from "./errors";
import {
  ConsentAttestation,
  ConsentRevocation,
  MAX_SIGNATURES,
  MarketDomain,
  attestationDigest,
  attestationStructHash,
  isAddress,
  isBytes32,
  isUint64Seconds,
  packSignatures,
  recoverSigner,
  revocationDigest,
  revocationStructHash,
} from "./eip712";

export interface CollectOptions {
  /** bridge base URLs, e.g. http://127.0.0.1:8701 */
  urls: string[];
  /** k: distinct attestor signatures needed (market.attestorThreshold()) */
  threshold: number;
  /** the market the signatures are for */
  domain: MarketDomain;
  /** the registered attestors (market.attestors()); when given, other signers are ignored */
  attestors?: string[];
  /** per-request timeout, milliseconds (default 5,000) */
  timeoutMs?: number;
  /** injectable fetch (default: global fetch) */
  fetch?: typeof fetch;
}

export interface Collected<T> {
  /** the signed fields, as the market takes them */
  value: T;
  /** exactly k signatures, packed (65 bytes each, sorted by signer address) */
  signatures: string;
  /** the k signers, sorted */
  signers: string[];
  /** bridges that did not contribute, and why */
  failures: BridgeFailure[];
}

export type CollectedAttestation = Collected<ConsentAttestation> & { purposeName: string };
export type CollectedRevocation = Collected<ConsentRevocation>;

interface Candidate<T> {
  url: string;
  value: T;
  hash: string;
  signer: string;
  signature: string;
  extra: Record<string, unknown>;
}

/** Collects k attestor signatures of a grant's attestation from the given bridges. */
export async function collectAttestation(grantId: string, options: CollectOptions): Promise<CollectedAttestation> {
  const result = await collect<ConsentAttestation>(grantId, "attestations", options, (body) => {
    const a = (body as { attestation?: Record<string, unknown> }).attestation;
    if (!a || !isBytes32(a.grantId) || !isAddress(a.buyer) || !isBytes32(a.productId) || !isBytes32(a.purpose) || !isUint64Seconds(a.expiresAt)) {
      return null;
    }
    const value: ConsentAttestation = {
      grantId: a.grantId,
      buyer: (a.buyer as string).toLowerCase(),
      productId: a.productId,
      purpose: a.purpose,
      expiresAt: a.expiresAt,
    };
    return {
      value,
      hash: attestationStructHash(value),
      digest: attestationDigest(options.domain, value),
      extra: { purposeName: (body as { purposeName?: unknown }).purposeName },
    };
  });
  return { ...result, purposeName: String(result.extra.purposeName ?? "") };
}

/** Collects k attestor signatures of a grant's revocation from the given bridges. */
export async function collectRevocation(grantId: string, options: CollectOptions): Promise<CollectedRevocation> {
  const { extra: _extra, ...result } = await collect<ConsentRevocation>(grantId, "revocations", options, (body) => {
    const r = (body as { revocation?: Record<string, unknown> }).revocation;
    if (!r || !isBytes32(r.grantId) || !isUint64Seconds(r.revokedAt)) {
      return null;
    }
    const value: ConsentRevocation = { grantId: r.grantId, revokedAt: r.revokedAt };
    return { value, hash: revocationStructHash(value), digest: revocationDigest(options.domain, value), extra: {} };
  });
  return result;
}

type Parse<T> = (body: unknown) => { value: T; hash: string; digest: string; extra: Record<string, unknown> } | null;

async function collect<T extends { grantId: string }>(
  grantId: string,
  kind: "attestations" | "revocations",
  options: CollectOptions,
  parse: Parse<T>,
): Promise<Collected<T> & { extra: Record<string, unknown> }> {
  validate(grantId, options);
  const doFetch = options.fetch ?? fetch;
  const allowed = options.attestors ? new Set(options.attestors.map((a) => a.toLowerCase())) : null;
  const market = options.domain.market.toLowerCase();
  const failures: BridgeFailure[] = [];
  const candidates: Array<Candidate<T>> = [];

  await Promise.all(
    options.urls.map(async (base) => {
      const url = `${base.replace(/\/+$/, "")}/v1/${kind}/${grantId}`;
      const fail = (code: string, message: string) => {
        failures.push({ url, code, message });
      };
      let body: Record<string, unknown>;
      try {
        const response = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5_000), headers: { accept: "application/json" } });
        const text = await response.text();
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return fail("BAD_RESPONSE", `HTTP ${response.status} with a body that is not JSON`);
        }
        if (!response.ok) {
          return fail(typeof body.code === "string" ? body.code : `HTTP_${response.status}`, String(body.message ?? `HTTP ${response.status}`));
        }
      } catch (error) {
        const name = (error as Error).name;
        return fail(name === "TimeoutError" || name === "AbortError" ? "TIMEOUT" : "UNREACHABLE", (error as Error).message);
      }
      const domain = body.domain as { chainId?: unknown; verifyingContract?: unknown } | undefined;
      if (!domain || String(domain.chainId) !== options.domain.chainId.toString() || String(domain.verifyingContract).toLowerCase() !== market) {
        return fail("WRONG_DOMAIN", `the bridge signs for chain ${String(domain?.chainId)} market ${String(domain?.verifyingContract)}`);
      }
      const parsed = parse(body);
      if (!parsed || parsed.value.grantId !== grantId || typeof body.signature !== "string") {
        return fail("BAD_RESPONSE", "the answer lacks well-formed fields for this grant");
      }
      const signer = recoverSigner(parsed.digest, body.signature);
      if (!signer || (typeof body.attestor === "string" && body.attestor.toLowerCase() !== signer)) {
        return fail("BAD_SIGNATURE", `the signature does not recover to the attestor the bridge names (${String(body.attestor)})`);
      }
      if (allowed && !allowed.has(signer)) {
        return fail("NOT_AN_ATTESTOR", `${signer} is not a registered attestor`);
      }
      candidates.push({ url, value: parsed.value, hash: parsed.hash, signer, signature: body.signature.toLowerCase(), extra: parsed.extra });
    }),
  );

  // bridges must agree on the fields: take the struct hash with the most distinct signers
  const groups = new Map<string, Map<string, Candidate<T>>>();
  for (const candidate of candidates) {
    const group = groups.get(candidate.hash) ?? new Map<string, Candidate<T>>();
    if (group.has(candidate.signer)) {
      failures.push({ url: candidate.url, code: "DUPLICATE_ATTESTOR", message: `${candidate.signer} already signed through another bridge` });
    } else {
      group.set(candidate.signer, candidate);
    }
    groups.set(candidate.hash, group);
  }
  const best = [...groups.values()].sort((a, b) => b.size - a.size)[0];
  for (const group of groups.values()) {
    if (group !== best) {
      for (const candidate of group.values()) failures.push({ url: candidate.url, code: "DIFFERENT_FIELDS", message: "signed other fields than the majority" });
    }
  }
  if (!best || best.size < options.threshold) {
    throw new BridgeClientError(
      ClientErrorCode.INSUFFICIENT_SIGNATURES,
      `${best?.size ?? 0} of the ${options.threshold} required attestor signatures for ${kind.slice(0, -1)} ${grantId}: ` +
        failures.map((f) => `${f.url}: ${f.code}`).join("; "),
      failures,
    );
  }
  const chosen = [...best.values()].sort((a, b) => (a.signer < b.signer ? -1 : 1)).slice(0, options.threshold);
  return {
    value: chosen[0].value,
    signatures: packSignatures(chosen),
    signers: chosen.map((c) => c.signer),
    failures,
    extra: chosen[0].extra,
  };
}

function validate(grantId: string, options: CollectOptions): void {
  if (!isBytes32(grantId)) {
    throw new BridgeClientError(ClientErrorCode.INVALID_ARGUMENT, `grant id must be 0x + 64 lowercase hex digits, got "${grantId}"`);
  }
  if (!Number.isInteger(options.threshold) || options.threshold < 1 || options.threshold > MAX_SIGNATURES) {
    throw new BridgeClientError(ClientErrorCode.INVALID_ARGUMENT, `threshold must be an integer 1..${MAX_SIGNATURES}, got ${options.threshold}`);
  }
  if (options.urls.length === 0) {
    throw new BridgeClientError(ClientErrorCode.INVALID_ARGUMENT, "no bridge URL given");
  }
  try {
    getAddress(options.domain.market);
  } catch {
    throw new BridgeClientError(ClientErrorCode.INVALID_ARGUMENT, `market must be an address, got "${options.domain.market}"`);
  }
}
