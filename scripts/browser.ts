// The Chromium the end-to-end suite drives: Debian's when it is installed (its fonts make truer
// screenshots), otherwise the one @sparticuz/chromium ships inside the npm package, so `npm test`
// also passes on a machine where nothing but Node is installed and Playwright cannot download.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, createReadStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';

/** Set by scripts/test.ts (or by the Playwright config itself) once resolved, so it is unpacked once. */
export const BROWSER_ENV = 'LARKSPUR_CHROMIUM';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export type E2eBrowser = {
  executablePath: string;
  /** What to print: which browser and why. */
  description: string;
  /** Extra environment for the browser process (its bundled libraries and fonts). */
  env: Record<string, string>;
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The environment an unpacked npm Chromium needs: the NSS and expat libraries the package bundles
 * (a bare Debian has none of them) and a fontconfig file naming its fonts. Empty for any other
 * browser, which finds its libraries and fonts on the system.
 */
export function browserEnv(executablePath: string): Record<string, string> {
  const dir = path.dirname(executablePath);
  if (!existsSync(path.join(dir, unpackedMarker))) return {};
  return {
    LD_LIBRARY_PATH: [path.join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    FONTCONFIG_PATH: path.join(dir, 'fontconfig'),
  };
}

const unpackedMarker = '.larkspur-unpacked';

function sparticuzPackage(): { root: string; version: string } {
  const require = createRequire(import.meta.url);
  // The package exports only its entry point: its root is three levels above build/cjs/index.cjs.
  const root = path.resolve(path.dirname(require.resolve('@sparticuz/chromium')), '..', '..');
  const { version } = require(path.join(root, 'package.json')) as { version: string };
  return { root, version };
}

function untar(archive: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-x', '-C', into], { stdio: ['pipe', 'ignore', 'inherit'] });
    tar.on('error', reject);
    tar.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code} while unpacking ${archive}`))));
    pipeline(createReadStream(archive), createBrotliDecompress(), tar.stdin).catch(reject);
  });
}

function fontsConf(dir: string): string {
  // The system's fonts when there are any, then the package's own (Open Sans).
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${path.join(dir, 'fonts')}</dir>
  <cachedir>${path.join(dir, 'fontconfig', 'cache')}</cachedir>
</fontconfig>
`;
}

/**
 * Unpacks the npm-shipped Chromium once per version into the temp dir, in a staging directory
 * renamed into place at the end: a run that was interrupted, or one running at the same time,
 * never sees half a browser.
 */
async function unpackNpmChromium(): Promise<string> {
  const { root, version } = sparticuzPackage();
  const dir = path.join(os.tmpdir(), `larkspur-chromium-${version}`);
  if (existsSync(path.join(dir, unpackedMarker))) return path.join(dir, 'chromium');
  const staging = await fs.mkdtemp(`${dir}.partial-`);
  try {
    // executablePath() unpacks into os.tmpdir(); pointing that at the staging directory keeps it
    // apart from any other copy in /tmp (it trusts an existing /tmp/chromium of any version).
    // It reads the temp dir only before its first await, so TMPDIR is restored right after the
    // call and never leaks into anything else running meanwhile.
    const { default: chromium } = await import('@sparticuz/chromium');
    const previous = process.env.TMPDIR;
    let unpacking: Promise<string>;
    process.env.TMPDIR = staging;
    try {
      unpacking = chromium.executablePath(path.join(root, 'bin'));
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    await unpacking;
    // The libraries are unpacked by the package only on AWS Lambda; a bare Debian needs them too.
    await fs.mkdir(path.join(staging, 'al2023'));
    await untar(path.join(root, 'bin', 'al2023.tar.br'), path.join(staging, 'al2023'));
    await fs.mkdir(path.join(staging, 'fontconfig'));
    await fs.writeFile(path.join(staging, 'fontconfig', 'fonts.conf'), fontsConf(dir));
    await fs.writeFile(path.join(staging, unpackedMarker), `${version}\n`);
    try {
      await fs.rename(staging, dir);
    } catch (error) {
      // Another run finished first: use its copy (only a complete one is ever renamed into place).
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      if (!existsSync(path.join(dir, unpackedMarker))) throw new Error(`${dir} is not a complete unpacked Chromium; delete it and try again`, { cause: error });
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return path.join(dir, 'chromium');
}

function versionOf(executablePath: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(executablePath, ['--version'], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${executablePath} --version failed: ${(stderr || error.message).trim()}`));
      else resolve(stdout.trim());
    });
  });
}

/**
 * Picks the browser: LARKSPUR_CHROMIUM when set (a path resolved earlier, or any Chromium a person
 * chooses), else Debian's, else the npm-shipped one, unpacked on first use.
 */
export async function resolveBrowser(options: { debianPath?: string } = {}): Promise<E2eBrowser> {
  const debianPath = options.debianPath ?? DEBIAN_CHROMIUM;
  const chosen = process.env[BROWSER_ENV];
  if (chosen) {
    return { executablePath: chosen, description: `${chosen} (${BROWSER_ENV})`, env: browserEnv(chosen) };
  }
  if (isExecutable(debianPath)) {
    return { executablePath: debianPath, description: `Debian's Chromium, ${debianPath}`, env: {} };
  }
  const executablePath = await unpackNpmChromium();
  const env = browserEnv(executablePath);
  // Fails here, with the browser's own words, rather than as a timeout in the first spec.
  const version = await versionOf(executablePath, env);
  return {
    executablePath,
    description: `${version} from @sparticuz/chromium, ${executablePath} (${debianPath} is not installed)`,
    env,
  };
}
