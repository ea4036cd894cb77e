import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeTransport } from "./node-transport.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  server = createServer((_req, res) => handler(res));
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe("node transport body stream", () => {
  it("hands over what one network read brought as one string, and what came later after it", async () => {
    let release: () => void = () => {};
    const later = new Promise<void>((r) => {
      release = r;
    });
    const pieces = Array.from({ length: 50 }, (_, i) => `${i};`);
    const url = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      // Once the headers are out, many small chunked-encoding pieces at once: the client reads
      // them in one go (server and client share this process) and parses each as a chunk.
      setTimeout(() => {
        for (const piece of pieces) res.write(piece);
      }, 20);
      void later.then(() => res.end("end"));
    });
    const response = await createNodeTransport().request({ method: "GET", url, headers: {} });
    const chunks: string[] = [];
    for await (const chunk of response.stream()) {
      chunks.push(chunk);
      if (chunks.length === 1) release();
    }
    expect(chunks).toEqual([pieces.join(""), "end"]);
  });

  it("a body cut before its end rejects the waiting reader", async () => {
    const url = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("partial");
      setTimeout(() => res.destroy(), 20);
    });
    const response = await createNodeTransport().request({ method: "GET", url, headers: {} });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of response.stream()) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(seen.join("")).toBe("partial");
    expect((error as { code?: string }).code).toBe("ECONNRESET");
  });

  it("leaving the loop early destroys the body", async () => {
    let closed: () => void = () => {};
    const gone = new Promise<void>((r) => {
      closed = r;
    });
    const url = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("first");
      res.on("close", () => closed());
    });
    const response = await createNodeTransport().request({ method: "GET", url, headers: {} });
    for await (const chunk of response.stream()) {
      expect(chunk).toBe("first");
      break;
    }
    await gone; // the server saw the connection go
  });
});

describe("node transport requests", () => {
  it("sends credentials in the URL as basic auth, the path and query as given, nothing else", async () => {
    const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];
    server = createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      res.end("ok");
    });
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const transport = createNodeTransport();
    for (const url of [
      `http://us%40er:p%3Ass@127.0.0.1:${port}/v1/chat?api-version=1`,
      `http://127.0.0.1:${port}/v1/models`,
    ]) {
      const response = await transport.request({ method: "GET", url, headers: {} });
      expect(await response.text()).toBe("ok");
    }
    expect(seen).toEqual([
      {
        url: "/v1/chat?api-version=1",
        authorization: `Basic ${Buffer.from("us@er:p:ss").toString("base64")}`,
      },
      { url: "/v1/models", authorization: undefined },
    ]);
    transport.closeIdleConnections?.();
  });
});
