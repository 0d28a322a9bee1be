import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { larkInstallation, larkOutbox } from '@/server/db/schema';
import { createJobQueue, type JobEnqueuer } from '@/server/jobs/queue';
import { enqueueOutboxMessage } from '@/server/lark/outbound/outbox';
import { reconcileOutbox } from '@/server/lark/outbound/reconciler';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';

let t: TestDatabase;
let queue: ReturnType<typeof createJobQueue>;
let installation: { id: string; workspaceId: string };

beforeAll(async () => {
  t = await createTestDatabase();
  queue = createJobQueue({ databaseUrl: t.url, logger: pino({ level: 'silent' }) });
  await queue.start();
  const owner = await seedUser(t.db);
  const workspaceId = (await seedWorkspace(t.db, owner.id)).id;
  const agent = await seedAgent(t.db, { workspaceId, ownerUserId: owner.id });
  [installation] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId, agentId: agent.id, appId: `cli_${randomBytes(4).toString('hex')}`, appSecretCiphertext: 'x', botOpenId: 'ou_bot', installerUserId: owner.id })
    .returning({ id: larkInstallation.id, workspaceId: larkInstallation.workspaceId });
});
afterAll(async () => {
  await queue?.stop(2000);
  await t?.drop();
});

/** Writes an outbox row whose job never happened (as if it expired with its dead worker). */
async function orphanRow(ageSeconds: number, extra: Partial<typeof larkOutbox.$inferInsert> = {}) {
  const lost: JobEnqueuer = { enqueueOutbox: async () => {} };
  const id = await enqueueOutboxMessage(t.db, lost, {
    workspaceId: installation.workspaceId,
    installationId: installation.id,
    target: { receiveIdType: 'chat_id', receiveId: 'oc_chat' },
    body: { kind: 'issue_usage' },
  });
  await t.db
    .update(larkOutbox)
    .set({ createdAt: sql`now() - make_interval(secs => ${ageSeconds})`, ...extra })
    .where(eq(larkOutbox.id, id!));
  return id!;
}

const liveJobs = async (outboxId: string) =>
  (await t.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'lark-outbox' AND state IN ('created','retry','active') AND data->>'outboxId' = $1`, [outboxId])).rows[0].n as number;

test('hands back a pending row that has no live job, once', async () => {
  const id = await orphanRow(120);
  expect(await liveJobs(id)).toBe(0);
  expect(await reconcileOutbox(t.db, queue.enqueuer)).toBe(1);
  expect(await liveJobs(id)).toBe(1);
  // Its job is live now: nothing more to hand back.
  expect(await reconcileOutbox(t.db, queue.enqueuer)).toBe(0);
  expect(await liveJobs(id)).toBe(1);
});

test('leaves alone rows that are young, held by a live sender, or finished', async () => {
  const young = await orphanRow(0);
  const held = await orphanRow(120, { sendingUntil: new Date(Date.now() + 30_000) });
  const sent = await orphanRow(120, { status: 'sent' });
  expect(await reconcileOutbox(t.db, queue.enqueuer)).toBe(0);
  for (const id of [young, held, sent]) expect(await liveJobs(id)).toBe(0);
});

test("a row whose sender died is handed back once its hold runs out, though the dead sender's job still looks active", async () => {
  const id = await orphanRow(120, { sendingUntil: new Date(Date.now() - 1000), attempts: 1 });
  // The dead sender's job stays "active" until pg-boss expires it, minutes later.
  await t.pool.query(`INSERT INTO pgboss.job (name, data, state, started_on) VALUES ('lark-outbox', $1, 'active', now())`, [JSON.stringify({ outboxId: id })]);
  expect(await reconcileOutbox(t.db, queue.enqueuer)).toBe(1);
  expect(await liveJobs(id)).toBe(2);
});
