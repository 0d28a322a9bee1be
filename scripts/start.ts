// `npm start`: the whole product on this machine. See README.md for the configuration table.
import path from 'node:path';
import { ConfigError } from '../server/env';
import { launch, takeOverStopSignals } from './launcher';

const log = (line: string) => console.log(`[larkspur] ${line}`);

async function main() {
  const port = Number(process.env.PORT ?? 3000);
  const launched = await launch({
    dataDir: path.resolve(process.env.LARKSPUR_DATA_DIR ?? '.data'),
    port,
    host: process.env.HOST ?? '0.0.0.0',
    log,
  });
  log(`Larkspur is running at ${launched.appUrl}  (Ctrl-C to stop)`);
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('Stopping…');
    await launched.stop();
    process.exit(code);
  };
  takeOverStopSignals(() => void shutdown(0));
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
