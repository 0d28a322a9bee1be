import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import pg from 'pg';
import { larkInstallation, larkOutbox } from '@/server/db/schema';
import { enqueueOutboxMessage, OUTBOX_WAKE_CHANNEL } from '@/server/lark/outbound/outbox';
import { claimDueOutboxRows } from '@/server/lark/outbound/deliver';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';

let t: TestDatabase;
let installation: { id: string; workspaceId: string; appId: string };

beforeAll(async () => {
  t = await createTestDatabase();
  const owner = await seedUser(t.db);
  const workspaceId = (await seedWorkspace(t.db, owner.id)).id;
  const agent = await seedAgent(t.db, { workspaceId, ownerUserId: owner.id });
  [installation] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId, agentId: agent.id, appId: `cli_${randomBytes(4).toString('hex')}`, appSecretCiphertext: 'x', botOpenId: 'ou_bot', installerUserId: owner.id })
    .returning({ id: larkInstallation.id, workspaceId: larkInstallation.workspaceId, appId: larkInstallation.appId });
});
afterAll(async () => {
  await t?.drop();
});

async function row(extra: Parameters<ReturnType<typeof t.db.update<typeof larkOutbox>>["set"]>[0] = {}) {
  const id = (await enqueueOutboxMessage(t.db, {
    workspaceId: installation.workspaceId,
    installationId: installation.id,
    target: { receiveIdType: 'chat_id', receiveId: 'oc_chat' },
    body: { kind: 'issue_usage' },
  }))!;
  if (Object.keys(extra).length > 0) await t.db.update(larkOutbox).set(extra).where(eq(larkOutbox.id, id));
  return id;
}

async function clear() {
  await t.db.delete(larkOutbox);
}

test('a due row is claimed once, with its installation, and counts the attempt', async () => {
  await clear();
  const id = await row();
  const [claimed, ...rest] = await claimDueOutboxRows(t.db, 10);
  expect(rest).toEqual([]);
  expect(claimed).toMatchObject({ id, attempts: 1, installation: { appId: installation.appId, status: 'active' } });
  // Held now: nobody else gets it.
  expect(await claimDueOutboxRows(t.db, 10)).toEqual([]);
});

test('rows not yet due, held by a live sender, or finished are left alone', async () => {
  await clear();
  await row({ nextAttemptAt: sql`now() + interval '1 minute'` });
  await row({ sendingUntil: new Date(Date.now() + 30_000) });
  await row({ status: 'sent' });
  expect(await claimDueOutboxRows(t.db, 10)).toEqual([]);
});

test("a row whose sender died is claimed again once its hold runs out", async () => {
  await clear();
  const id = await row({ sendingUntil: new Date(Date.now() - 1000), attempts: 1 });
  const claimed = await claimDueOutboxRows(t.db, 10);
  expect(claimed.map((c) => [c.id, c.attempts])).toEqual([[id, 2]]);
});

test('concurrent claims never hand out one row twice, and the longest waiting go first', async () => {
  await clear();
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) ids.push(await row({ nextAttemptAt: sql`now() - make_interval(secs => ${40 - i})` }));
  const batches = await Promise.all(Array.from({ length: 8 }, () => claimDueOutboxRows(t.db, 10)));
  const claimed = batches.flat().map((c) => c.id);
  expect(claimed).toHaveLength(40);
  expect(new Set(claimed).size).toBe(40);
  for (const batch of batches) expect(batch.map((c) => c.id)).toEqual([...batch.map((c) => c.id)].sort((a, b) => ids.indexOf(a) - ids.indexOf(b)));
});

test('a new row wakes deliverers when its transaction commits, not before', async () => {
  await clear();
  const listener = new pg.Client({ connectionString: t.url });
  await listener.connect();
  const notices: string[] = [];
  listener.on('notification', (n) => notices.push(n.channel));
  await listener.query(`LISTEN ${OUTBOX_WAKE_CHANNEL}`);
  try {
    await t.db.transaction(async (tx) => {
      await enqueueOutboxMessage(tx, {
        workspaceId: installation.workspaceId,
        installationId: installation.id,
        target: { receiveIdType: 'chat_id', receiveId: 'oc_chat' },
        body: { kind: 'issue_usage' },
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(notices).toEqual([]);
    });
    const deadline = Date.now() + 5000;
    while (notices.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(notices).toEqual([OUTBOX_WAKE_CHANNEL]);
  } finally {
    await listener.end();
  }
});
