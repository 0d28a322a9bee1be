import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import rules are only as good as the lint that enforces them: each case lints one import
// from a file that need not exist, under the repository's own eslint.config.js.
const root = path.resolve(import.meta.dirname, '../..');
const BOUNDARY_RULE = 'import-x/no-restricted-paths';

// An import that does not resolve is invisible to the boundary rule, so every case also demands
// that it resolves: a moved target fails here instead of passing without checking anything.
const eslint = new ESLint({ cwd: root, overrideConfig: { rules: { 'import-x/no-unresolved': 'error' } } });

async function lint(filePath: string, code: string) {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: path.join(root, filePath), warnIgnored: true });
  const unresolved = result.messages.filter((m) => m.ruleId === 'import-x/no-unresolved' || m.fatal);
  expect(unresolved, `${filePath}: ${code}`).toEqual([]);
  return result.messages.filter((m) => m.ruleId === BOUNDARY_RULE);
}

type Case = [file: string, code: string];

const forbidden: Case[] = [
  // server/ is shared by web and worker.
  ['server/x.ts', "import '@/app/layout';"],
  ['server/x.ts', "import { Alert } from '../components/ui/alert';"],
  ['server/services/x.ts', "export * from '@/worker/main';"],
  ['server/lark/inbound/x.ts', "import '../../../worker/main';"],
  // Components never touch the database.
  ['components/x.tsx', "import { db } from '@/server/db/client';"],
  ['components/lark/x.tsx', "import { db } from '../../server/db/client';"],
  ['components/x.tsx', "import * as schema from '@/server/db/schema';"],
  ['components/x.tsx', "import { eq } from 'drizzle-orm';"],
  ['components/x.tsx', "import type { Pool } from 'pg';"],
  // The Lark protocol layer has no database.
  ['server/lark/protocol/x.ts', "import { db } from '@/server/db/client';"],
  ['server/lark/protocol/x.ts', "import { db } from '../../db/client';"],
  ['server/lark/protocol/x.ts', "import { sql } from 'drizzle-orm';"],
  ['server/lark/protocol/x.ts', "import pg from 'pg';"],
  // The worker composes; SQL lives in server/.
  ['worker/x.ts', "import { eq } from 'drizzle-orm';"],
  ['worker/x.ts', "import pg from 'pg';"],
  ['worker/x.ts', "import * as schema from '@/server/db/schema';"],
  ['worker/lark/x.ts', "import { installation } from '../../server/db/schema';"],
  // The simulator imports nothing from the product.
  ['simulator/x.ts', "import { db } from '@/server/db/client';"],
  ['simulator/x.ts', "import { env } from '../server/env';"],
  ['simulator/x.ts', "import '@/worker/main';"],
  ['simulator/x.test.ts', "import { env } from '../server/env';"],
  // Product code never starts the simulator.
  ['app/x.ts', "import { startSimulator } from '@/simulator/server';"],
  ['components/x.tsx', "import { startSimulator } from '../simulator/server';"],
  ['server/x.ts', "const sim = await import('@/simulator/server');"],
  ['server/lark/api/x.ts', "import { startSimulator } from '../../../simulator/server';"],
  ['worker/x.ts', "import { startSimulator } from '../simulator/server';"],
  ['scripts/launcher-x.ts', "import { startSimulator } from '../simulator/server';"],
];

const allowed: Case[] = [
  ['components/x.tsx', "import { AppError } from '@/server/errors';"],
  ['components/x.tsx', "import { Alert } from '@/components/ui/alert';"],
  ['server/lark/inbound/x.ts', "import { db } from '@/server/db/client';"],
  ['server/lark/inbound/x.ts', "import { eq } from 'drizzle-orm';"],
  ['server/lark/protocol/x.ts', "import { AppError } from '@/server/errors';"],
  ['worker/x.ts', "import { env } from '../server/env';"],
  ['app/x.ts', "import { db } from '@/server/db/client';"],
  // Tests, the demo, benchmarks and the end-to-end server may start the simulator.
  ['server/lark/protocol/x.simulator.test.ts', "import { startSimulator } from '@/simulator/server';"],
  ['server/lark/test-support/x.ts', "import { startSimulator } from '../../../simulator/server';"],
  ['test/lark/x.ts', "import { startSimulator } from '../../simulator/server';"],
  ['e2e/x.spec.ts', "import { startSimulator } from '../simulator/server';"],
  ['scripts/demo.ts', "import { startSimulator } from '../simulator/server';"],
  ['scripts/bench/x.ts', "import { startSimulator } from '@/simulator/server';"],
  // Worker tests may set up rows.
  ['worker/x.test.ts', "import * as schema from '@/server/db/schema';"],
];

describe('import boundaries', () => {
  it.each(forbidden)('%s: %s is reported', async (file, code) => {
    expect(await lint(file, code)).toHaveLength(1);
  });

  it.each(allowed)('%s: %s is allowed', async (file, code) => {
    expect(await lint(file, code)).toEqual([]);
  });
});
