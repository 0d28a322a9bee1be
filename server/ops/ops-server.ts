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
  /** Refreshes gauges that are read from the database at scrape time. */
  beforeScrape?: () => Promise<void>;
};

/** /healthz (alive), /readyz (database, migrations, loops) and /metrics for the worker. */
export async function startOpsServer(opts: OpsServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
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
        // Counters still answer when the gauges that need the database cannot be refreshed.
        await opts.beforeScrape?.().catch((err) => opts.logger.warn({ err }, 'refreshing database gauges failed'));
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
