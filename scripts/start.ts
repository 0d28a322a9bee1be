// `npm start`: the whole product on this machine. See README.md for the configuration table.
import path from 'node:path';
import { ConfigError } from '../server/env';
import { launch, takeOverStopSignals, type Launched } from './launcher';

const log = (line: string) => console.log(`[larkspur] ${line}`);

async function main() {
  const port = Number(process.env.PORT ?? 3000);
  let launched: Launched | undefined;
  let stopping: Promise<never> | undefined;
  const shutdown = (code: number) => {
    stopping ??= (async () => {
      log('Stopping…');
      await launched?.stop();
      process.exit(code);
    })();
    return stopping;
  };
  // Taken over before anything starts: a signal while the database starts or the app builds ends
  // the start (the build is stopped, the database too) instead of leaving them behind.
  const starting = new AbortController();
  takeOverStopSignals(() => {
    if (launched) void shutdown(0);
    else starting.abort();
  });
  try {
    launched = await launch({
      dataDir: path.resolve(process.env.LARKSPUR_DATA_DIR ?? '.data'),
      port,
      host: process.env.HOST ?? '0.0.0.0',
      log,
      signal: starting.signal,
    });
  } catch (error) {
    if (starting.signal.aborted) {
      log('Stopped before the start was complete.');
      process.exit(0);
    }
    throw error;
  }
  log(`Larkspur is running at ${launched.appUrl}  (Ctrl-C to stop)`);
  const first = await launched.exited;
  if (!stopping) {
    log(`${first.name} exited unexpectedly (code ${first.code}); stopping everything.`);
    await shutdown(1);
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
