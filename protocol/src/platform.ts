// The platform seam: every other module imports the platform from here. This file names Node's
// module; the browser build (tsup.config.ts) resolves `./_nodejs/platform` to `./_browser/platform`.
// The type assertion below keeps the two modules' surfaces identical.

import type * as NodePlatform from "./_nodejs/platform";
import type * as BrowserPlatform from "./_browser/platform";

export { PLATFORM, allocBytes, hexSlice, hexDecode, writeHex, aesGcm, loadNativeCrypto } from "./_nodejs/platform";

type Surface<T> = { [K in keyof T]: K extends "PLATFORM" ? string : T[K] };
// Compile-time only: fails to type-check when the two platform modules drift apart.
export type PlatformSurfacesMatch = [Surface<typeof NodePlatform>, Surface<typeof BrowserPlatform>] extends [
  Surface<typeof BrowserPlatform>,
  Surface<typeof NodePlatform>,
]
  ? true
  : never;
const platformSurfacesMatch: PlatformSurfacesMatch = true;
void platformSurfacesMatch;
