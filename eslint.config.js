import path from 'node:path';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

// Imports are checked by where they resolve (tsconfig paths and relative forms alike), so a
// package counts by its folder under node_modules. `pg` may resolve to its @types package.
const SQL_PACKAGES = ['node_modules/drizzle-orm', 'node_modules/pg', 'node_modules/@types/pg'];

// The layout's import rules: files under a zone's `target` may not import anything under its `from`.
const zones = {
  serverIsShared: {
    target: 'server',
    from: ['app', 'components', 'worker'],
    message: 'server/ is shared by web and worker; it never imports app/, components/ or worker/.',
  },
  componentsHaveNoDatabase: {
    target: 'components',
    from: ['server/db', ...SQL_PACKAGES],
    message: 'Components reach data through services and server/contract, never the database.',
  },
  protocolHasNoDatabase: {
    target: 'server/lark/protocol',
    from: ['server/db', ...SQL_PACKAGES],
    message: 'The Lark protocol layer has no database.',
  },
  workerHasNoSql: {
    target: 'worker',
    from: ['server/db/schema', 'server/db/schema.ts', ...SQL_PACKAGES],
    message: 'The worker is a composition root: SQL lives in server/.',
  },
  simulatorStandsAlone: {
    target: 'simulator',
    from: ['app', 'components', 'server', 'worker', 'scripts'],
    message: 'The simulator imports nothing from the product.',
  },
  productHasNoSimulator: {
    target: ['app', 'components', 'server', 'worker', 'scripts', 'i18n', 'locales', 'instrumentation.ts', 'proxy.ts'],
    from: 'simulator',
    message: 'Only tests, the demo, benchmarks and the end-to-end server start the simulator.',
  },
};

const boundaries = (...names) => [
  'error',
  { basePath: root, zones: Object.entries(zones).filter(([name]) => names.includes(name)).map(([, zone]) => zone) },
];
const allZones = Object.keys(zones);
const except = (...names) => allZones.filter((name) => !names.includes(name));

const TEST_FILES = ['**/*.test.ts', '**/*.test.tsx', '**/test-support/**', '**/test-support.ts', 'test/**', 'e2e/**'];
// Entry points whose job is to run the product against the simulator.
const SIMULATOR_RUNNERS = ['scripts/demo.ts', 'scripts/demo/**', 'scripts/bench/**', 'scripts/e2e-server.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', '.next/', '.data/', 'drizzle/', 'test-results/', 'playwright-report/', 'next-env.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-definitions': ['error', 'type'],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['scripts/**', 'simulator/**', 'e2e/**', '**/*.test.ts', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: path.join(root, 'tsconfig.json'), alwaysTryTypes: true })],
    },
    rules: { 'import-x/no-restricted-paths': boundaries(...allZones) },
  },
  // Later blocks replace the zone list for the files they match.
  {
    files: SIMULATOR_RUNNERS,
    rules: { 'import-x/no-restricted-paths': boundaries(...except('productHasNoSimulator')) },
  },
  {
    // Tests may start the simulator, and worker tests may set up rows.
    files: TEST_FILES,
    rules: { 'import-x/no-restricted-paths': boundaries(...except('productHasNoSimulator', 'workerHasNoSql')) },
  },
);
