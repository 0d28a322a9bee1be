import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
import { BUILD_INPUTS } from './launcher';

// A start rebuilds the web app only when a build input changed; a folder the app imports from but
// the fingerprint leaves out would keep serving a stale build after an edit there.
test('every top-level folder the web app imports from is a build input', async () => {
  const root = path.resolve(import.meta.dirname, '..');
  const imported = new Set<string>();
  async function walk(dir: string) {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (/\.(ts|tsx)$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
        for (const m of (await fs.readFile(full, 'utf8')).matchAll(/from '@\/([^/']+)/g)) imported.add(m[1]);
      }
    }
  }
  for (const dir of ['app', 'components', 'lib', 'server', 'i18n']) await walk(path.join(root, dir));
  const inputs = new Set(BUILD_INPUTS.map((p) => p.replace(/\.(ts|tsx|mjs)$/, '')));
  const missing = [...imported].map((top) => top.replace(/\.(ts|tsx)$/, '')).filter((top) => !inputs.has(top));
  expect(missing).toEqual([]);
  expect(imported.has('lib')).toBe(true);
});
