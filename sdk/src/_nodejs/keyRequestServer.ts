// Serving a publisher's key requests over HTTP (node:http): Node only.

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { KeyRequestServer, KeyRequestServerOptions } from "../client/keyRequestHttp";

function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new RangeError(`request body over ${maxBytes} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startKeyRequestServer(options: KeyRequestServerOptions): Promise<KeyRequestServer & { server: Server }> {
  const cors = options.allowOrigin ? { "access-control-allow-origin": options.allowOrigin, vary: "origin" } : {};
  const server = createServer(async (req, res) => {
    if (req.method === "OPTIONS" && options.allowOrigin) {
      res
        .writeHead(204, { ...cors, "access-control-allow-methods": "POST", "access-control-allow-headers": "content-type", "access-control-max-age": "600" })
        .end();
      return;
    }
    const handler = req.method === "POST" && req.url !== undefined && Object.hasOwn(options.routes, req.url) ? options.routes[req.url] : undefined;
    if (!handler) {
      const paths = Object.keys(options.routes).join(" or ");
      res.writeHead(404, { "content-type": "application/json", ...cors }).end(JSON.stringify({ code: "NOT_FOUND", message: `POST ${paths} only` }));
      return;
    }
    let body: Uint8Array;
    try {
      body = await readBody(req, options.maxRequestBytes);
    } catch (err) {
      res.writeHead(413, { "content-type": "application/json", ...cors }).end(JSON.stringify({ code: "MALFORMED_MESSAGE", message: (err as Error).message }));
      return;
    }
    const answer = await handler(body);
    res.writeHead(answer.status, { "content-type": answer.contentType, ...cors }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { address, port } = server.address() as AddressInfo;
  return { url: `http://${address}:${port}`, server, close: () => new Promise((r) => server.close(() => r())) };
}
