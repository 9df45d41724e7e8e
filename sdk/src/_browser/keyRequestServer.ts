// A browser cannot listen for HTTP requests: serving key requests is Node only.

import { SdkError, SdkErrorCodes } from "../errors";
import type { KeyRequestServer, KeyRequestServerOptions } from "../client/keyRequestHttp";

export async function startKeyRequestServer(_options: KeyRequestServerOptions): Promise<KeyRequestServer & { server: unknown }> {
  throw new SdkError(
    SdkErrorCodes.NOT_SUPPORTED,
    "serveKeyRequests needs Node.js (a browser cannot listen for HTTP requests); serve key requests from a Node publisher",
  );
}
