import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Logger } from 'pino';
import { migrationsApplied } from '../db/migrate';
import { ConfigError } from '../env';
import type { WorkerMetrics } from './metrics';

export type OpsServerOptions = {
  port: number;
  host: string;
  pool: pg.Pool;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Extra readiness conditions (e.g. the Lark hub is running) with their names. */
  readiness: () => Record<string, boolean>;
  /** Copies in-memory state into gauges; synchronous on purpose, so a scrape never costs a query. */
  beforeScrape?: () => void;
  /** When set, /metrics and /readyz answer 401 without `Authorization: Bearer <token>`. */
  token?: string;
};

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Compares digests, so neither the token's content nor its length shows in the response time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null;
}

/** /healthz (alive), /readyz (database, migrations, loops) and /metrics for the worker. */
export async function startOpsServer(opts: OpsServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
        return;
      }
      if ((path === '/readyz' || path === '/metrics') && opts.token !== undefined && !bearerMatches(req.headers.authorization, opts.token)) {
        res
          .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
          .end(JSON.stringify({ error: { code: 'unauthorized', message: 'A bearer token is required' } }));
        return;
      }
      if (path === '/readyz') {
        const checks: Record<string, boolean> = { database: false, migrations: false };
        try {
          await opts.pool.query('SELECT 1');
          checks.database = true;
          checks.migrations = await migrationsApplied(opts.pool);
        } catch (err) {
          opts.logger.warn({ err }, 'readiness check could not reach the database');
        }
        Object.assign(checks, opts.readiness());
        const ready = Object.values(checks).every(Boolean);
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ready' : 'not_ready', checks }));
        return;
      }
      if (path === '/metrics') {
        opts.beforeScrape?.();
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(await opts.metrics.registry.metrics());
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }));
    } catch (err) {
      opts.logger.error({ err, path }, 'ops request failed');
      res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // A second worker on the same host is the usual cause: say which setting to change.
      if (err.code === 'EADDRINUSE') {
        reject(
          new ConfigError(
            `WORKER_PORT ${opts.port} is already in use on ${opts.host} (another worker on this host?): set WORKER_PORT to a free port, or WORKER_PORT=0 to pick one`,
          ),
        );
      } else {
        reject(err);
      }
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
