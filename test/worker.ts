import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { SecretBox } from '@/server/crypto/secretbox';
import { parseEnv, resetEnvForTests } from '@/server/env';
import { startWorker, type RunningWorker } from '@/worker/worker';
import type { TestDatabase } from './db';

/**
 * The real worker on the test database, with Lark configured at an address nothing answers: for
 * tests of the worker's own loops (ops port, schedules) that need no Lark.
 */
export async function startLarklessWorker(t: TestDatabase, opts: { nodeId: string; env?: Record<string, string> }): Promise<{ worker: RunningWorker; box: SecretBox }> {
  const key = randomBytes(32);
  const config = parseEnv({ DATABASE_URL: t.url, LARK_SECRET_KEY: key.toString('base64'), ...opts.env });
  resetEnvForTests();
  const box = new SecretBox(key);
  const worker = await startWorker({
    config,
    integration: { configured: true, box, hosts: { openBaseUrl: 'http://127.0.0.1:9/{region}' }, httpTimeoutMs: 1000 },
    nodeId: opts.nodeId,
    logger: pino({ level: 'silent' }),
    opsPort: 0,
  });
  return { worker, box };
}
