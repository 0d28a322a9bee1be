import { startSimulator } from './server';

const port = Number(process.env.SIM_PORT ?? 4010);
const host = process.env.SIM_HOST ?? '127.0.0.1';
const allowRemote = process.argv.slice(2).includes('--allow-remote');

// The control API has no authentication: anyone who reaches it can act as any Lark user, read every
// message and fault any bot. Listening beyond this machine must be asked for by name.
function isLoopback(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || /^::ffff:127\./.test(bare);
}
if (!isLoopback(host) && !allowRemote) {
  console.error(
    `Refusing to listen on ${host}: the simulator's control API has no authentication and is for local use. Use SIM_HOST=127.0.0.1, or pass --allow-remote to expose it anyway.`,
  );
  process.exit(2);
}

const sim = await startSimulator({ port, host, stateFile: process.env.SIM_STATE_FILE || undefined });
console.log(`Lark simulator listening on ${sim.url}`);
console.log(`  web UI:       ${sim.url}/`);
console.log(`  feishu root:  ${sim.url}/feishu   (open + accounts hosts; the bare root is feishu too)`);
console.log(`  lark root:    ${sim.url}/lark`);
console.log(`  control API:  ${sim.url}/_control`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  await sim.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
