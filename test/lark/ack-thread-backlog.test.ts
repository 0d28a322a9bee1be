import { sql } from 'drizzle-orm';
import type { PoolClient } from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { seedUser, seedWorkspace } from '../seed';
import { waitFor } from './sim';
import { startLarkHarness, type LarkBot, type LarkHarness } from './worker-harness';

// The worker as the worker process runs it: the ACK thread parks what finds no dispatch slot, holds
// it while the dispatch it waited for is still in flight, dispatches it in order, and then dispatches
// live again.
let lark: LarkHarness;
let bot: LarkBot;
let userId: string;

beforeAll(async () => {
  // One dispatch at a time: while it is held, the next event of the chat is parked.
  lark = await startLarkHarness({ env: { LARK_DISPATCH_CONCURRENCY: '1' } });
  await lark.startWorker({ nodeId: 'ack-thread-backlog-test', ackThread: true });
  const owner = await seedUser(lark.t.db);
  const workspaceId = (await seedWorkspace(lark.t.db, owner.id)).id;
  bot = await lark.installBot({ workspaceId, installer: owner, name: 'Backlog' });
  const user = await lark.newUser('Backlog user');
  await lark.bind(bot, user.id, owner);
  userId = user.id;
}, 60_000);
afterAll(() => lark?.close());

const metric = async (line: RegExp) => Number(line.exec(await (await fetch(`http://127.0.0.1:${lark.worker!.opsPort}/metrics`)).text())?.[1] ?? 0);
const parkedCount = () => metric(/^larkspur_lark_dispatch_outcomes_total\{outcome="parked"\} (\d+)/m);
const ingestedCount = () => metric(/^larkspur_lark_dispatch_outcomes_total\{outcome="ingested"\} (\d+)/m);
const backlogSize = async () => (await lark.t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM lark_inbound_backlog`)).rows[0].n;

async function firstAck(messageId: string) {
  return waitFor(async () => {
    const { deliveries } = await lark.sim.control('GET', `/deliveries?app_id=${bot.appId}`);
    const ours = deliveries.find((d: { im_message_id: string }) => d.im_message_id === messageId);
    return ours?.acks.length > 0 ? (ours as { attempts: number; acks: Array<{ code: number; biz_rt: string }> }) : false;
  }, 10_000, `the ACK of ${messageId}`);
}

/**
 * Sends `texts` while the first one's dispatch is held by a lock on the dedup table: the rest are
 * parked (the second after the slot's wait, the others at once), held while that dispatch is in
 * flight, then the lock goes.
 */
async function parkBehindHeldDispatch(texts: string[]): Promise<{ messageIds: string[] }> {
  const holder: PoolClient = await lark.t.pool.connect();
  const messageIds: string[] = [];
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE lark_inbound_message_dedup IN EXCLUSIVE MODE');
    messageIds.push((await lark.dm(bot, userId, texts[0])).message_id);
    await waitFor(async () => (await lark.t.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)).rows[0].n > 0, 5_000, 'the first dispatch waiting for the lock');
    for (const text of texts.slice(1)) {
      const sent = await lark.dm(bot, userId, text);
      messageIds.push(sent.message_id);
      const ack = await firstAck(sent.message_id);
      expect(ack.acks[0].code).toBe(200);
    }
    expect(await backlogSize()).toBe(texts.length - 1);
    // Parked behind a dispatch still in flight: held, so no processor takes them ahead of it.
    const rows = await lark.t.pool.query(`SELECT claimed_until > now() AS held, attempts FROM lark_inbound_backlog`);
    expect(rows.rows).toEqual(texts.slice(1).map(() => ({ held: true, attempts: 0 })));
  } finally {
    await holder.query('COMMIT').catch(() => undefined);
    holder.release();
  }
  return { messageIds };
}

async function expectStoredInOrder(texts: string[]) {
  await waitFor(async () => (await backlogSize()) === 0, 15_000, 'backlog drained');
  const stored = await lark.t.db.execute<{ content: string }>(sql`SELECT content FROM chat_message WHERE role = 'user' AND content = ANY(${sql.param(texts)}) ORDER BY created_at, id`);
  expect(stored.rows.map((r) => r.content)).toEqual(texts);
}

test('what the ACK thread parks behind a dispatch in flight is held until it ends, then dispatched in order; then events dispatch live again', async () => {
  const parkedBefore = await parkedCount();
  const ingestedBefore = await ingestedCount();
  const texts = ['held first', 'held second', 'held third'];
  const { messageIds } = await parkBehindHeldDispatch(texts);
  await expectStoredInOrder(texts);
  for (const id of messageIds) expect((await firstAck(id)).attempts).toBe(1);
  expect((await parkedCount()) - parkedBefore).toBe(2);
  await waitFor(async () => (await ingestedCount()) - ingestedBefore >= 3, 5_000, 'the dispatches counted');

  // Nothing of this process is parked any more: the next event takes a slot, not the backlog.
  const after = await lark.dm(bot, userId, 'live again');
  expect((await firstAck(after.message_id)).acks[0].code).toBe(200);
  await waitFor(async () => (await lark.t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM chat_message WHERE content = 'live again'`)).rows[0].n === 1, 5_000, 'stored');
  expect((await parkedCount()) - parkedBefore).toBe(2);
});
