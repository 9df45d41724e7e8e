// Reading a deployment record from a file: Node only.

import { readFileSync } from "node:fs";
import path from "node:path";

/** The absolute path and text of a file; throws with `code: "ENOENT"` when it is missing. */
export function readTextFile(file: string, dir?: string): { path: string; text: string } {
  const resolved = dir === undefined ? path.resolve(file) : path.resolve(dir, file);
  return { path: resolved, text: readFileSync(resolved, "utf8") };
}

/** A copy of `bytes` the caller owns: a Buffer in Node (so `.toString("utf8")` keeps working for Node users). */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes);
}
