import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../server/db/migrate';
import { ensureDatabase, startEmbeddedPostgres } from '../scripts/embedded-postgres';

export const TEMPLATE_DB = 'larkspur_template';

/**
 * One PostgreSQL for the whole run: the template database is migrated once and every test file
 * clones it (CREATE DATABASE ... TEMPLATE), so files never see each other's rows.
 * TEST_DATABASE_ADMIN_URL points the suite at an existing server instead.
 */
export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_ADMIN_URL;
  let stop: (() => Promise<void>) | undefined;
  let dir: string | undefined;
  if (!adminUrl) {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'larkspur-test-pg-'));
    await fs.chmod(dir, 0o777);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), persistent: false });
    adminUrl = server.url('postgres');
    stop = server.stop;
  }
  const base = new URL(adminUrl);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  await ensureDatabase(adminUrl, TEMPLATE_DB);
  await applyMigrations(templateUrl.toString());
  project.provide('pgAdminUrl', base.toString());
  project.provide('pgTemplateDb', TEMPLATE_DB);
  return async () => {
    await stop?.();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- module augmentation needs an interface
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplateDb: string;
  }
}
