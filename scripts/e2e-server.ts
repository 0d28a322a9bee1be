// The app as the end-to-end suite sees it: a throwaway database, production build, web + worker.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSimulator } from '../simulator/server';
import { launch, takeOverStopSignals } from './launcher';

const port = Number(process.env.E2E_PORT ?? 3210);
const simPort = Number(process.env.E2E_SIM_PORT ?? 3211);
// The suite drives a local Lark: quick device-flow polling so installs finish promptly.
const sim = await startSimulator({ port: simPort, host: '127.0.0.1', registrationIntervalSeconds: 1 });
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
    // Every spec starts its own organisation on this one server, so each owner signs up freely;
    // teammates still join through invitation links, and the invite-only policy has route tests.
    SIGN_UP: 'open',
    WORKER_POLL_INTERVAL_MS: '500',
    LOG_LEVEL: 'warn',
    LARK_SECRET_KEY: randomBytes(32).toString('base64'),
    LARK_OPEN_BASE_URL: `${sim.url}/{region}`,
    LARK_ACCOUNTS_BASE_URL: `${sim.url}/{region}`,
    // The web server runs with NODE_ENV=production, and the simulator speaks plain http.
    LARK_ALLOW_INSECURE_HOSTS: 'true',
    LARK_HUB_SWEEP_MS: '2000',
    LARK_LEASE_RENEW_MS: '1000',
    LARK_REGISTRATION_TICK_MS: '250',
    WORKER_PORT: String(port + 2),
  },
  log,
});
log(`ready at ${launched.appUrl}; Lark simulator at ${sim.url}`);
const shutdown = async () => {
  await launched.stop();
  await sim.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  process.exit(0);
};
takeOverStopSignals(() => void shutdown());
const first = await launched.exited;
log(`${first.name} exited (code ${first.code})`);
await shutdown();
