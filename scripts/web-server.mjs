// The web process: Next's request handler behind a plain Node HTTP server, so that every request
// carries the TCP peer's address (Next's route handlers cannot see the socket, and the
// X-Forwarded-For that Next fills in is whatever the client sent, when it sent one). The app
// resolves the client address from it and TRUST_PROXY_HOPS (server/http/client-address.ts).
// Plain JavaScript: it runs under node as `next start` would, without a TypeScript loader.
import http from 'node:http';
import { parseArgs } from 'node:util';

// As `next start` does; set before Next loads, since it reads it at import.
process.env.NODE_ENV ??= 'production';
const { default: next } = await import('next');

const PEER_ADDRESS_HEADER = 'x-larkspur-peer-address';

const { values } = parseArgs({ options: { port: { type: 'string', short: 'p' }, hostname: { type: 'string', short: 'H' } } });
const port = Number(values.port ?? process.env.PORT ?? 3000);
const hostname = values.hostname ?? '0.0.0.0';

const app = next({ dev: false, dir: process.cwd(), hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = http.createServer((req, res) => {
  // Overwrites anything a client sent under this name.
  req.headers[PEER_ADDRESS_HEADER] = req.socket.remoteAddress ?? '';
  handle(req, res).catch((err) => {
    console.error('web: request failed', err instanceof Error ? err.name : 'error');
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
});
server.listen(port, hostname, () => console.log(`web: ready on http://${hostname}:${port}`));

// Like `next start`: stop taking connections and leave; open event streams are not waited for.
// `on`, not `once`: a second signal (a process group's and a supervisor's) must not kill us mid-exit.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
