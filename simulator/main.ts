import { startSimulator } from './server';

const port = Number(process.env.SIM_PORT ?? 4010);
const host = process.env.SIM_HOST ?? '127.0.0.1';

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
