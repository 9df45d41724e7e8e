// A dataset release (the SDK's DatasetRelease: the manifest, the released chunks and their keys wrapped
// for the buyer's registered key) as JSON, shared by the seller's release service (server/release-service.ts)
// and the browser, which opens it with the SDK (openRelease) against the registry's content hash.
import type { DatasetRelease } from "@datamarket/sdk";

const toB64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
const fromB64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export interface ReleaseJson {
  datasetId: string;
  buyer: string;
  manifest: string;
  released: number[];
  bodies: string[];
  ephemeralPublicKey: string;
  keys: { address: string; nonce: string; sealed: string };
  leftOut: { total: number; byReason: Record<string, number> };
}

export function releaseToJson(r: DatasetRelease): ReleaseJson {
  return {
    datasetId: r.datasetId,
    buyer: r.buyer,
    manifest: toB64(r.manifest),
    released: r.released,
    bodies: r.bodies.map(toB64),
    ephemeralPublicKey: toB64(r.ephemeralPublicKey),
    keys: { address: r.keys.address, nonce: toB64(r.keys.nonce), sealed: toB64(r.keys.sealed) },
    leftOut: r.leftOut,
  };
}

/** The release back; a malformed body throws an error naming the field. */
export function releaseFromJson(j: ReleaseJson): DatasetRelease {
  const need = (ok: boolean, field: string) => {
    if (!ok) throw new Error(`the release service's answer has no valid ${field}`);
  };
  need(typeof j?.datasetId === "string" && typeof j.buyer === "string", "datasetId or buyer");
  need(typeof j.manifest === "string" && Array.isArray(j.bodies) && Array.isArray(j.released), "manifest, bodies or released");
  need(typeof j.keys?.nonce === "string" && typeof j.keys.sealed === "string" && typeof j.ephemeralPublicKey === "string", "wrapped keys");
  return {
    datasetId: j.datasetId,
    buyer: j.buyer,
    manifest: fromB64(j.manifest),
    released: j.released,
    bodies: j.bodies.map(fromB64),
    ephemeralPublicKey: fromB64(j.ephemeralPublicKey),
    keys: { address: j.keys.address, nonce: fromB64(j.keys.nonce), sealed: fromB64(j.keys.sealed) },
    leftOut: j.leftOut ?? { total: 0, byReason: {} },
  };
}
