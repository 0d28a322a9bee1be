import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as drops from '@/app/api/workspaces/[id]/lark/installations/[installationId]/drops/route';
import * as workspaces from '@/app/api/workspaces/route';
import { errorBodySchema } from '@/server/contract/errors';
import { larkInboundDropsResponse } from '@/server/contract/lark';
import { larkChat, larkInboundAudit, larkInstallation } from '@/server/db/schema';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { seedAgent } from '../seed';

let t: TestDatabase;
let owner: TestUser;
let admin: TestUser;
let plain: TestUser;
let outsider: TestUser;
let ws: { id: string };
let otherWs: { id: string };
let installationId: string;
let otherInstallationId: string;

async function installation(workspaceId: string, userId: string, appId: string) {
  const a = await seedAgent(t.db, { workspaceId, ownerUserId: userId });
  const [row] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId, agentId: a.id, appId, appSecretCiphertext: 'v1:x', botOpenId: 'ou_bot', installerUserId: userId })
    .returning();
  return row.id;
}

const page = (user: TestUser, query?: string, workspaceId = ws.id, id = installationId) =>
  call(drops.GET, 'GET', { token: user.token, params: { id: workspaceId, installationId: id }, query });

// 23 drops: 7 share one microsecond (ties broken by id), the rest are a second apart.
const TOTAL = 23;

beforeAll(async () => {
  t = await useTestDatabase();
  owner = await signUp('Owner');
  admin = await signUp('Admin');
  plain = await signUp('Plain');
  outsider = await signUp('Outsider');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Drops', slug: 'drops-paging', issue_prefix: 'DRP' } })).body.workspace;
  otherWs = (await call(workspaces.POST, 'POST', { token: outsider.token, body: { name: 'Other', slug: 'drops-other', issue_prefix: 'OTH' } })).body.workspace;
  for (const [u, role] of [[admin, 'admin'], [plain, 'member']] as const) {
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: u, role });
  }
  installationId = await installation(ws.id, owner.id, 'cli_dropspaging1');
  otherInstallationId = await installation(otherWs.id, outsider.id, 'cli_dropspaging2');
  const tied = new Date('2026-01-02T03:04:05.123Z');
  await t.db.insert(larkInboundAudit).values(
    Array.from({ length: TOTAL }, (_, i) => ({
      installationId,
      larkChatId: `oc_${String(i).padStart(2, '0')}`,
      eventType: 'im.message.receive_v1',
      dropReason: 'not_addressed_in_group' as const,
      receivedAt: i < 7 ? tied : new Date(tied.getTime() - (i + 1) * 1000),
    })),
  );
  // Microseconds a JS Date cannot carry: the cursor must not round them away.
  await t.db.execute(sql`UPDATE lark_inbound_audit SET received_at = received_at + interval '456 microseconds' WHERE lark_chat_id IN ('oc_02', 'oc_03')`);
  await t.db.insert(larkInboundAudit).values({ installationId: otherInstallationId, larkChatId: 'oc_elsewhere', eventType: 'im.message.receive_v1', dropReason: 'duplicate' });
});

afterAll(async () => {
  await t?.drop();
});

describe('GET .../lark/installations/{id}/drops', () => {
  test('pages newest first and returns every row exactly once, ties and microseconds included', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await page(owner, `limit=2${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.drops.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.drops.map((d: { chat_id: string }) => d.chat_id));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(pages).toBe(Math.ceil(TOTAL / 2));
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen).size).toBe(TOTAL);
    expect(seen).not.toContain('oc_elsewhere');
    // The two rows nudged by microseconds are the first page; the cursor after them must keep those
    // microseconds, or the rows of the same millisecond behind them would be skipped.
    expect(seen.slice(0, 2)).toEqual(['oc_03', 'oc_02']);
    expect(seen.slice(2, 7)).toEqual(['oc_06', 'oc_05', 'oc_04', 'oc_01', 'oc_00']);
    expect(seen.at(-1)).toBe('oc_22');
  });

  test('defaults to 50 rows; the last page has no next cursor; rows carry no content', async () => {
    const res = await page(admin);
    expect(res.status).toBe(200);
    expect(res.body.drops).toHaveLength(TOTAL);
    expect(res.body.next_cursor).toBeNull();
    expect(Object.keys(res.body.drops[0]).sort()).toEqual(['chat_id', 'chat_name', 'event_type', 'reason', 'received_at']);
    // Exactly the contract's shape, as the client decodes it.
    expect(JSON.parse(JSON.stringify(larkInboundDropsResponse.encode(res.body)))).toEqual(res.body);
    const exact = await page(owner, `limit=${TOTAL}`);
    expect(exact.body.drops).toHaveLength(TOTAL);
    expect(exact.body.next_cursor).toBeNull();
  });

  test('rows arriving between pages do not shift the pages that follow', async () => {
    const first = await page(owner, 'limit=5');
    await t.db.insert(larkInboundAudit).values({ installationId, larkChatId: 'oc_new', eventType: 'im.message.receive_v1', dropReason: 'duplicate' });
    try {
      const second = await page(owner, `limit=5&before=${encodeURIComponent(first.body.next_cursor)}`);
      const ids = [...first.body.drops, ...second.body.drops].map((d: { chat_id: string }) => d.chat_id);
      expect(new Set(ids).size).toBe(10);
      expect(ids).not.toContain('oc_new');
    } finally {
      await t.db.execute(sql`DELETE FROM lark_inbound_audit WHERE lark_chat_id = 'oc_new'`);
    }
  });

  test("a chat whose name the bot learned shows it; the same chat id of another installation lends it no name", async () => {
    await t.db.insert(larkChat).values([
      { installationId, workspaceId: ws.id, larkChatId: 'oc_04', name: 'Release crew' },
      { installationId: otherInstallationId, workspaceId: otherWs.id, larkChatId: 'oc_05', name: 'Not yours' },
    ]);
    try {
      const res = await page(admin);
      const byChat = new Map(res.body.drops.map((d: { chat_id: string; chat_name: string | null }) => [d.chat_id, d.chat_name]));
      expect(byChat.get('oc_04')).toBe('Release crew');
      expect(byChat.get('oc_05')).toBeNull();
      expect(res.body.drops).toHaveLength(TOTAL);
    } finally {
      await t.db.execute(sql`DELETE FROM lark_chat`);
    }
  });

  test('bad paging input is refused with 422 naming the parameter', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'limit=2.5', 'before=garbage', 'before=123', 'before=-5', `before=${'9'.repeat(30)}-1`]) {
      const res = await page(owner, query);
      expect(res.status, query).toBe(422);
      expect(errorBodySchema.parse(res.body).error.code).toBe('validation_failed');
      expect(Object.keys(res.body.error.fields)).toEqual([query.split('=')[0]]);
    }
    expect((await page(owner, 'limit=200')).status).toBe(200);
  });

  test('members are refused with 403, before their input is even looked at', async () => {
    expect((await page(plain)).status).toBe(403);
    expect((await page(plain, 'limit=0')).status).toBe(403);
  });

  test("other workspaces' ids are 404, whichever side the caller is on", async () => {
    // An outsider naming this workspace, and a member naming another workspace's installation.
    expect((await page(outsider, undefined, ws.id, installationId)).status).toBe(404);
    expect((await page(outsider, 'limit=0', ws.id, installationId)).status).toBe(404);
    expect((await page(owner, undefined, ws.id, otherInstallationId)).status).toBe(404);
    expect((await page(outsider, undefined, otherWs.id, installationId)).status).toBe(404);
    expect((await page(owner, undefined, ws.id, 'not-a-uuid')).status).toBe(404);
  });
});
