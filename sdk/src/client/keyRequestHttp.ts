// Key requests over HTTP: a publisher serves POST /key-requests (body: a signed GroupKeyRequest,
// answer: a signed GroupKeyResponse or GroupKeyError, both application/octet-stream, layouts in
// docs/protocol.md "Key exchange"), and subscribers reach it through HttpKeyRequestChannel.
// The messages are signed end to end, so plain HTTP carries no trust; TLS in front is still advised.

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SdkError, SdkErrorCodes } from "../errors";
import type { KeyRequestChannel } from "./access";
import type { DataClient } from "./DataClient";

const MAX_REQUEST_BYTES = 64 * 1024;
const PATH = "/key-requests";

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `request body over ${MAX_REQUEST_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Serves this publisher's key requests on host:port (port 0: any free port). */
export async function serveKeyRequests(client: DataClient, options: { host?: string; port?: number } = {}): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== PATH) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ code: "NOT_FOUND", message: `POST ${PATH} only` }));
      return;
    }
    try {
      const answer = await client.answerKeyRequest(await readBody(req));
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(answer);
    } catch (err) {
      const e = err instanceof SdkError ? err : new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, (err as Error)?.message ?? String(err));
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ code: e.code, message: e.message, details: e.details }));
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const { address, port } = server.address() as AddressInfo;
  return { url: `http://${address}:${port}`, server, close: () => new Promise((r) => server.close(() => r())) };
}

/** Sends key requests to each publisher's endpoint (`endpointOf(publisher)` gives its base URL). */
export class HttpKeyRequestChannel implements KeyRequestChannel {
  constructor(
    private readonly endpointOf: (publisher: string) => string | undefined | Promise<string | undefined>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async request(publisher: string, requestBytes: Buffer): Promise<Buffer> {
    const base = await this.endpointOf(publisher.toLowerCase());
    if (!base) throw new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `no key-request endpoint known for publisher ${publisher}`, { publisher });
    const res = await this.fetchImpl(`${base.replace(/\/$/, "")}${PATH}`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: requestBytes });
    if (!res.ok) {
      const text = await res.text();
      throw new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `publisher ${publisher} answered HTTP ${res.status}: ${text.slice(0, 200)}`, { publisher, status: res.status });
    }
    return Buffer.from(await res.arrayBuffer());
  }
}
