// The platform seam: every other module imports the platform from here. This file names Node's
// modules; the browser build (tsup.config.ts) resolves each `./_nodejs/x` to `./_browser/x`.
// The type assertions below keep each pair's surfaces identical.

import type * as NodeFiles from "./_nodejs/files";
import type * as BrowserFiles from "./_browser/files";
import type * as NodeKeys from "./_nodejs/keyRequestServer";
import type * as BrowserKeys from "./_browser/keyRequestServer";
import type * as NodeSocket from "./_nodejs/websocket";
import type * as BrowserSocket from "./_browser/websocket";

export { openSocket } from "./_nodejs/websocket";
export { startKeyRequestServer } from "./_nodejs/keyRequestServer";
export { ownBytes, readTextFile } from "./_nodejs/files";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
// Compile-time only: fails to type-check when a pair of platform modules drifts apart.
export const platformSurfacesMatch: [
  Same<typeof NodeSocket.openSocket, typeof BrowserSocket.openSocket>,
  Same<keyof typeof NodeKeys, keyof typeof BrowserKeys>,
  Same<keyof typeof NodeFiles, keyof typeof BrowserFiles>,
] = [true, true, true];
