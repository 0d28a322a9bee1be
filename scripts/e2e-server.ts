// The app as the end-to-end suite sees it: a throwaway database, production build, web + worker.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launch } from './launcher';

const port = Number(process.env.E2E_PORT ?? 3210);
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-e2e-'));
await fs.chmod(dataDir, 0o777);
const log = (line: string) => console.log(`[e2e-server] ${line}`);
const launched = await launch({
  dataDir,
  port,
  host: '127.0.0.1',
  env: {
    APP_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: '',
    SIGN_IN_RATE_LIMIT_MAX: '1000',
    WORKER_POLL_INTERVAL_MS: '500',
    LOG_LEVEL: 'warn',
  },
  log,
});
log(`ready at ${launched.appUrl}`);
const shutdown = async () => {
  await launched.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
const first = await launched.exited;
log(`${first.name} exited (code ${first.code})`);
await shutdown();
