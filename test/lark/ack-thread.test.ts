import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { seedUser, seedWorkspace } from '../seed';
import { waitFor } from './sim';
import { startLarkHarness, type LarkBot, type LarkHarness } from './worker-harness';

// The worker as the worker process runs it: connections, dispatch and ACKs on the ACK thread.
let lark: LarkHarness;
let owner: { id: string };
let workspaceId: string;

beforeAll(async () => {
  lark = await startLarkHarness({ env: { LARK_BACKOFF_MIN_MS: '200' } });
  await lark.startWorker({ nodeId: 'ack-thread-test', ackThread: true });
  owner = await seedUser(lark.t.db);
  workspaceId = (await seedWorkspace(lark.t.db, owner.id)).id;
}, 60_000);
afterAll(() => lark?.close());

/** A connected bot and one Lark user linked to the workspace owner. */
async function connectedBot(name: string): Promise<{ bot: LarkBot; userId: string }> {
  const bot = await lark.installBot({ workspaceId, installer: owner, name });
  const user = await lark.newUser(`${name} user`);
  await lark.bind(bot, user.id, owner);
  return { bot, userId: user.id };
}

const stored = async (text: string) => (await lark.t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM chat_message WHERE content = ${text}`)).rows[0].n;

async function expectAckedOnce(appId: string, messageId: string) {
  const ofMessage = async () => {
    const { deliveries } = await lark.sim.control('GET', `/deliveries?app_id=${appId}`);
    return deliveries.filter((d: { im_message_id: string }) => d.im_message_id === messageId);
  };
  // The row commits a moment before the ACK reaches the simulator.
  await waitFor(async () => (await ofMessage()).every((d: { status: string }) => d.status !== 'pending'), 5_000, 'ACK received');
  const ours = await ofMessage();
  expect(ours).toHaveLength(1);
  expect(ours[0]).toMatchObject({ attempts: 1, status: 'acked' });
  expect(ours[0].acks[0].code).toBe(200);
}

const answered = async (chatId: string, text: string) => (await lark.botMessages(chatId)).some((m) => JSON.stringify(m.content).includes(text));

const metric = async (line: RegExp) => Number(line.exec(await (await fetch(`http://127.0.0.1:${lark.worker!.opsPort}/metrics`)).text())?.[1] ?? 0);

test('DMs are ACKed on their first delivery, stored once and answered, and the worker counts them', async () => {
  expect(lark.worker!.ackThread).not.toBeNull();
  const { bot, userId } = await connectedBot('Threaded');
  const texts = Array.from({ length: 8 }, (_, i) => `threaded ${i}`);
  const sent: Array<{ message_id: string; chat_id: string }> = [];
  for (const text of texts) sent.push(await lark.dm(bot, userId, text));
  for (const text of texts) await waitFor(async () => (await stored(text)) === 1, 10_000, `stored ${text}`);
  for (const s of sent) await expectAckedOnce(bot.appId, s.message_id);
  for (const text of texts) await waitFor(() => answered(sent[0].chat_id, text), 15_000, `answered ${text}`);
  // Counted in the thread, reported to the worker's /metrics.
  await waitFor(async () => (await metric(/^larkspur_lark_events_received_total (\d+)/m)) >= 8, 5_000, 'events counted');
  await waitFor(async () => (await metric(/^larkspur_lark_acks_total\{code="200"\} (\d+)/m)) >= 8, 5_000, 'ACKs counted');
  expect(await metric(/^larkspur_lark_dispatch_outcomes_total\{outcome="ingested"\} (\d+)/m)).toBeGreaterThanOrEqual(8);
  expect(lark.worker!.hub!.stats().eventsReceived).toBeGreaterThanOrEqual(8);
  // How busy the thread's loop was: reported once a second.
  await waitFor(async () => (await metric(/^larkspur_lark_ack_thread_busy_seconds_total (\S+)/m)) > 0, 5_000, "the ACK thread's busy time reported");
});

test('the thread is up before the first bot connects, and warming it up again waits for nothing', async () => {
  // Started with the worker: a second warm-up finds it loaded and resolves at once, with no thread to wait for.
  let warmed = false;
  const warming = lark.worker!.ackThread!.warmUp().then(() => {
    warmed = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  expect(warmed).toBe(true);
  await warming;
});

test('when the ACK thread dies, its bots reconnect into a new one and their next messages are stored and answered', async () => {
  const { bot, userId } = await connectedBot('Crash');
  await lark.worker!.ackThread!.kill();
  // The socket died with the thread; the hub reconnects after its backoff.
  await waitFor(async () => (await lark.sim.control('GET', `/apps/${bot.appId}`)).connections === 1, 15_000, 'reconnected');
  const sent = await lark.dm(bot, userId, 'after the crash');
  await waitFor(async () => (await stored('after the crash')) === 1, 10_000, 'stored');
  await expectAckedOnce(bot.appId, sent.message_id);
  await waitFor(() => answered(sent.chat_id, 'after the crash'), 15_000, 'answered');
});
