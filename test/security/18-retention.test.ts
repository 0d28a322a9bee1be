import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SecretBox } from '@/server/crypto/secretbox';
import { larkInboundAudit, larkInstallation, larkOutbox } from '@/server/db/schema';
import type { RunningWorker } from '@/worker/worker';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedUser, seedWorkspace } from '../seed';
import { startLarklessWorker } from '../worker';

// Outbox rows keep what was said to Lark and audit rows keep who wrote from where; neither may pile
// up forever. The running worker schedules a retention job that purges them past their configured
// age, in batches, and never touches outbox rows still waiting to be sent.

let t: TestDatabase;
let worker: RunningWorker;
let installationId: string;
let workspaceId: string;

beforeAll(async () => {
  t = await useTestDatabase();
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id });
  const [inst] = await t.db
    .insert(larkInstallation)
    // Revoked: the hub leaves it alone, so no Lark is needed here.
    .values({ workspaceId: ws.id, agentId: agent.id, appId: 'cli_0000000000000001', appSecretCiphertext: new SecretBox(randomBytes(32)).seal('secret'), botOpenId: 'ou_bot', installerUserId: owner.id, status: 'revoked' })
    .returning();
  installationId = inst.id;
  workspaceId = ws.id;
  ({ worker } = await startLarklessWorker(t, { nodeId: 'retention-test', env: { LARK_OUTBOX_RETENTION_DAYS: '7', LARK_AUDIT_RETENTION_DAYS: '30' } }));
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await t?.drop();
});

const daysAgo = (days: number) => sql`now() - make_interval(days => ${days})`;

async function outboxRows(status: 'pending' | 'sent' | 'failed' | 'skipped', ageDays: number, n: number, label: string) {
  const rows = Array.from({ length: n }, () => ({
    workspaceId,
    installationId,
    kind: 'agent_reply' as const,
    receiveIdType: 'chat_id' as const,
    receiveId: 'oc_chat',
    body: { kind: 'agent_reply', text: label },
    status,
    lastError: status === 'failed' ? 'refused' : null,
    createdAt: daysAgo(ageDays),
    // Held, so the outbox reconciler leaves pending rows where they are during the test.
    sendingUntil: status === 'pending' ? sql`now() + interval '1 day'` : null,
  }));
  for (let i = 0; i < rows.length; i += 500) await t.db.insert(larkOutbox).values(rows.slice(i, i + 500));
}

async function countBy(table: 'lark_outbox' | 'lark_inbound_audit', label: string): Promise<number> {
  const res =
    table === 'lark_outbox'
      ? await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM lark_outbox WHERE body->>'text' = ${label}`)
      : await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM lark_inbound_audit WHERE lark_chat_id = ${label}`);
  return res.rows[0].n;
}

test('the worker schedules retention and purges old finished outbox rows and old audit rows, in batches', async () => {
  // More old rows than one batch holds, so the job must loop.
  await outboxRows('sent', 10, 2_500, 'old-sent');
  await outboxRows('failed', 10, 3, 'old-failed');
  await outboxRows('skipped', 10, 3, 'old-skipped');
  await outboxRows('pending', 10, 3, 'old-pending');
  await outboxRows('sent', 2, 3, 'recent-sent');
  const audit = (chat: string, ageDays: number, n: number) =>
    Array.from({ length: n }, () => ({ installationId, larkChatId: chat, eventType: 'im.message.receive_v1', dropReason: 'unbound_user' as const, receivedAt: daysAgo(ageDays) }));
  await t.db.insert(larkInboundAudit).values([...audit('old-audit', 40, 5), ...audit('recent-audit', 10, 5)]);

  const schedules = await t.db.execute<{ name: string; cron: string }>(sql`SELECT name, cron FROM pgboss.schedule`);
  expect(schedules.rows.map((r) => r.name)).toContain('lark-retention');

  // Run the scheduled job now rather than at the top of the next hour.
  const boss = new PgBoss({ connectionString: t.url, schema: 'pgboss', supervise: false, schedule: false, migrate: false });
  boss.on('error', () => {});
  await boss.start();
  try {
    await boss.send('lark-retention', {});
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }

  const deadline = Date.now() + 45_000;
  while ((await countBy('lark_outbox', 'old-sent')) > 0 || (await countBy('lark_inbound_audit', 'old-audit')) > 0) {
    if (Date.now() > deadline) throw new Error('retention did not purge the old rows');
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await countBy('lark_outbox', 'old-failed')).toBe(0);
  expect(await countBy('lark_outbox', 'old-skipped')).toBe(0);
  // Live work and young rows stay.
  expect(await countBy('lark_outbox', 'old-pending')).toBe(3);
  expect(await countBy('lark_outbox', 'recent-sent')).toBe(3);
  expect(await countBy('lark_inbound_audit', 'recent-audit')).toBe(5);
}, 90_000);
