// The floor for any Node gateway: a bare `node:http` pass-through proxy. It parses nothing:
// the request body is piped to the upstream, the answer piped back. Prints `READY <url>`.
import { Agent, createServer, request } from "node:http";

const upstream = new URL(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

const server = createServer((req, res) => {
  const headers = { ...req.headers, host: upstream.host };
  delete headers.connection;
  const out = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: `${upstream.pathname.replace(/\/$/, "")}${req.url}`,
      method: req.method,
      headers,
      agent,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  res.on("close", () => out.destroy());
  req.pipe(out);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`READY http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
