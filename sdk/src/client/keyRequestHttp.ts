// Key requests over HTTP: a publisher serves POST /key-requests (body: a signed GroupKeyRequest,
// answer: a signed GroupKeyResponse or GroupKeyError, both application/octet-stream, layouts in
// docs/protocol.md "Key exchange"), and subscribers reach it through HttpKeyRequestChannel (fetch:
// Node and browsers). The messages are signed end to end, so plain HTTP carries no trust; TLS in
// front is still advised. Serving needs Node (a browser cannot listen).

import { SdkError, SdkErrorCodes } from "../errors";
import { startKeyRequestServer } from "../platform";
import type { KeyRequestChannel } from "./access";
import type { DataClient } from "./DataClient";

const MAX_REQUEST_BYTES = 64 * 1024;
const PATH = "/key-requests";

export interface KeyRequestServerOptions {
  host: string;
  port: number;
  path: string;
  maxRequestBytes: number;
  /** Answer cross-origin requests from this origin ("*" for any): needed by subscribers in web pages. */
  allowOrigin?: string;
}

/** What the server does with one request body: the HTTP answer. */
export type KeyRequestHandler = (body: Uint8Array) => Promise<{ status: number; contentType: string; body: Uint8Array | string }>;

export interface KeyRequestServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves this publisher's key requests on host:port (port 0: any free port). `allowOrigin` (e.g.
 * "*") lets subscribers in web pages of other origins reach it (CORS). Node only.
 */
export function serveKeyRequests(
  client: DataClient,
  options: { host?: string; port?: number; allowOrigin?: string } = {},
): ReturnType<typeof startKeyRequestServer> {
  return startKeyRequestServer(
    async (body) => {
      try {
        return { status: 200, contentType: "application/octet-stream", body: await client.answerKeyRequest(body) };
      } catch (err) {
        const e = SdkError.from(err, SdkErrorCodes.MALFORMED_MESSAGE);
        return { status: 400, contentType: "application/json", body: JSON.stringify(e.toJSON()) };
      }
    },
    { host: options.host ?? "127.0.0.1", port: options.port ?? 0, path: PATH, maxRequestBytes: MAX_REQUEST_BYTES, allowOrigin: options.allowOrigin },
  );
}

/** Sends key requests to each publisher's endpoint (`endpointOf(publisher)` gives its base URL). */
export class HttpKeyRequestChannel implements KeyRequestChannel {
  constructor(
    private readonly endpointOf: (publisher: string) => string | undefined | Promise<string | undefined>,
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  async request(publisher: string, requestBytes: Uint8Array): Promise<Uint8Array> {
    const base = await this.endpointOf(publisher.toLowerCase());
    if (!base) throw new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `no key-request endpoint known for publisher ${publisher}`, { publisher });
    let res: Response;
    try {
      res = await this.fetchImpl(`${base.replace(/\/$/, "")}${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: requestBytes,
      });
    } catch (err) {
      throw new SdkError(
        SdkErrorCodes.UNKNOWN_GROUP_KEY,
        `publisher ${publisher}'s key-request endpoint is unreachable: ${(err as Error)?.message ?? err}`,
        { publisher },
        { cause: err },
      );
    }
    if (!res.ok) {
      const text = await res.text();
      throw new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `publisher ${publisher} answered HTTP ${res.status}: ${text.slice(0, 200)}`, {
        publisher,
        status: res.status,
      });
    }
    return new Uint8Array(await res.arrayBuffer());
  }
}
