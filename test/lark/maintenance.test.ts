import { randomBytes, randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SecretBox } from '@/server/crypto/secretbox';
import { agentTask, attachment, larkBindingToken, larkInboundMessageDedup, larkInstallation } from '@/server/db/schema';
import type { LarkIntegration } from '@/server/lark/integration';
import { backfillBotUnionIds, purgeExpiredBindingTokens, purgeInboundDedup, purgeOrphanAgentFiles } from '@/server/lark/maintenance';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../seed';
import { startSim, type Sim } from './sim';

let t: TestDatabase;
let sim: Sim;
let integration: LarkIntegration;
let ids: { workspaceId: string; ownerId: string; tenantKey: string };

beforeAll(async () => {
  t = await createTestDatabase();
  sim = await startSim();
  integration = { configured: true, box: new SecretBox(randomBytes(32)), hosts: { openBaseUrl: `${sim.url}/{region}` }, httpTimeoutMs: 5000 };
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  ids = { workspaceId: ws.id, ownerId: owner.id, tenantKey: (await sim.control('POST', '/tenants', { brand: 'feishu', name: 'M' })).tenant_key };
});
afterAll(async () => {
  await sim?.close();
  await t?.drop();
});

async function installation(withUnionId: boolean) {
  const app = await sim.control('POST', '/apps', { tenant_key: ids.tenantKey, name: `Bot ${randomBytes(2).toString('hex')}` });
  const info = await sim.control('GET', `/apps/${app.app_id}`);
  const agent = await seedAgent(t.db, { workspaceId: ids.workspaceId, ownerUserId: ids.ownerId });
  const [row] = await t.db
    .insert(larkInstallation)
    .values({
      workspaceId: ids.workspaceId,
      agentId: agent.id,
      appId: app.app_id,
      appSecretCiphertext: integration.box!.seal(app.app_secret),
      botOpenId: info.bot_open_id,
      botUnionId: withUnionId ? info.bot_union_id : null,
      installerUserId: ids.ownerId,
    })
    .returning();
  return { row, app, info };
}

describe('periodic jobs', () => {
  test('dedup rows older than 24 h are purged, recent ones kept', async () => {
    const { row } = await installation(true);
    await t.db.insert(larkInboundMessageDedup).values([
      { installationId: row.id, messageId: 'om_old', claimToken: randomUUID(), receivedAt: sql`now() - interval '25 hours'`, processedAt: sql`now() - interval '25 hours'` },
      { installationId: row.id, messageId: 'om_new', claimToken: randomUUID(), processedAt: sql`now()` },
    ]);
    expect(await purgeInboundDedup(t.db)).toBe(1);
    const left = await t.db.select({ id: larkInboundMessageDedup.messageId }).from(larkInboundMessageDedup).where(eq(larkInboundMessageDedup.installationId, row.id));
    expect(left.map((r) => r.id)).toEqual(['om_new']);
  });

  test('expired binding tokens are purged, live ones kept', async () => {
    const { row } = await installation(true);
    await t.db.insert(larkBindingToken).values([
      { tokenHash: 'a'.repeat(64), workspaceId: ids.workspaceId, installationId: row.id, larkOpenId: 'ou_1', createdAt: sql`now() - interval '20 minutes'`, expiresAt: sql`now() - interval '10 minutes'` },
      { tokenHash: 'b'.repeat(64), workspaceId: ids.workspaceId, installationId: row.id, larkOpenId: 'ou_2', expiresAt: sql`now() + interval '10 minutes'` },
    ]);
    expect(await purgeExpiredBindingTokens(t.db)).toBe(1);
    const left = await t.db.select({ hash: larkBindingToken.tokenHash }).from(larkBindingToken).where(eq(larkBindingToken.installationId, row.id));
    expect(left.map((r) => r.hash)).toEqual(['b'.repeat(64)]);
  });

  test('missing bot union_ids are backfilled; a denied contact scope is a soft failure retried later', async () => {
    const denied = await installation(false);
    const fine = await installation(false);
    await sim.control('POST', '/faults', { kind: 'deny_contact_scope', app_id: denied.app.app_id });
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(line) });
    expect(await backfillBotUnionIds({ db: t.db, integration, logger })).toBe(1);
    const [fineRow] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, fine.row.id));
    const [deniedRow] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, denied.row.id));
    expect(fineRow.botUnionId).toBe(fine.info.bot_union_id);
    expect(deniedRow.botUnionId).toBeNull();
    expect(logs.join('')).toContain(denied.row.id);
    await sim.control('DELETE', '/faults');
    expect(await backfillBotUnionIds({ db: t.db, integration, logger })).toBe(1);
    const [after] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, denied.row.id));
    expect(after.botUnionId).toBe(denied.info.bot_union_id);
  });
});

describe('orphan agent files', () => {
  test('files of an answer that was never stored are deleted after a day; younger ones and stored answers stay', async () => {
    const agent = await seedAgent(t.db, { workspaceId: ids.workspaceId, ownerUserId: ids.ownerId });
    const session = await seedSession(t.db, { workspaceId: ids.workspaceId, agentId: agent.id, creatorUserId: ids.ownerId });
    const msg = await t.db.execute<{ id: string }>(sql`
      INSERT INTO chat_message (workspace_id, session_id, role, content) VALUES (${ids.workspaceId}, ${session.id}, 'user', 'q') RETURNING id`);
    const [task] = await t.db.insert(agentTask).values({ workspaceId: ids.workspaceId, agentId: agent.id, sessionId: session.id, triggerMessageId: msg.rows[0].id }).returning();
    const file = (age: string, linked: boolean) =>
      t.db
        .insert(attachment)
        .values({
          workspaceId: ids.workspaceId,
          taskId: task.id,
          chatMessageId: linked ? msg.rows[0].id : null,
          source: 'agent',
          kind: 'file',
          fileName: 'x.bin',
          position: Math.floor(Math.random() * 1e6),
          createdAt: sql`now() - ${age}::interval`,
        })
        .returning({ id: attachment.id });
    const [old] = await file('2 days', false);
    const [young] = await file('1 hour', false);
    const [kept] = await file('3 days', true);
    expect(await purgeOrphanAgentFiles(t.db)).toBe(1);
    const left = (await t.db.select({ id: attachment.id }).from(attachment)).map((r) => r.id);
    expect(left).not.toContain(old.id);
    expect(left).toEqual(expect.arrayContaining([young.id, kept.id]));
  });
});
