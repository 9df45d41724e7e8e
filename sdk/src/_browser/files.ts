// A browser has no file system: a deployment record is passed as an object (or fetched by the app).

export function readTextFile(file: string): { path: string; text: string } {
  throw Object.assign(new Error(`cannot read ${file} in a browser: pass the deployment record object to loadDeployment`), { code: "NOT_SUPPORTED" });
}

/** A copy of `bytes` the caller owns. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
