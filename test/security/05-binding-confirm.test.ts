import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as preview from '@/app/api/lark/binding/preview/route';
import * as redeem from '@/app/api/lark/binding/redeem/route';
import { SecretBox } from '@/server/crypto/secretbox';
import { larkBindingToken, larkInstallation, larkUserBinding, member } from '@/server/db/schema';
import { resetEnvForTests } from '@/server/env';
import { hashBindingToken, mintBindingToken } from '@/server/lark/binding/tokens';
import { resetLarkIntegrationForTests } from '@/server/lark/integration';
import { SimControl } from '@/server/lark/test-support/sim-control';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { startSim, type Sim } from '../lark/sim';
import { seedAgent, seedWorkspace } from '../seed';

// The attack: Mallory DMs the bot, gets a binding link for her own Lark identity and sends it to a
// member. Opening it used to bind the member's account to Mallory's Lark identity on page load.
// Now opening it only previews (read-only, naming Mallory as Lark reports her); only an explicit
// POST binds. The page's side (no POST before the confirm click) is in
// components/lark/bind-lark-account.test.tsx and e2e/lark/bind-confirm.spec.ts.

const key = randomBytes(32);
const box = new SecretBox(key);

let t: TestDatabase;
let sim: Sim;
let control: SimControl;
let owner: TestUser;
let victim: TestUser;
let outsider: TestUser;
let ctx: { workspaceId: string; workspaceName: string; agentName: string; installationId: string; appId: string; malloryOpenId: string };

beforeAll(async () => {
  t = await useTestDatabase();
  sim = await startSim();
  control = new SimControl(sim.url);
  process.env.LARK_SECRET_KEY = key.toString('base64');
  process.env.LARK_OPEN_BASE_URL = `${sim.url}/{region}`;
  resetEnvForTests();
  resetLarkIntegrationForTests();
  owner = await signUp('Owner');
  victim = await signUp('Victim');
  outsider = await signUp('Outsider');
  const ws = await seedWorkspace(t.db, owner.id);
  await t.db.insert(member).values({ workspaceId: ws.id, userId: victim.id, role: 'member' });
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id, name: 'Helper' });
  const tenant = await control.createTenant('feishu', 'Acme');
  const app = await control.createApp(tenant.tenant_key, 'Helper bot');
  const info = await control.getApp(app.app_id);
  const mallory = await control.createUser(tenant.tenant_key, 'Mallory Attacker');
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId: agent.id, appId: app.app_id, appSecretCiphertext: box.seal(app.app_secret), botOpenId: info.bot_open_id, botUnionId: info.bot_union_id, installerUserId: owner.id })
    .returning();
  ctx = { workspaceId: ws.id, workspaceName: ws.name, agentName: agent.name, installationId: inst.id, appId: app.app_id, malloryOpenId: await control.openIdOf(app.app_id, mallory.id) };
}, 60_000);
afterAll(async () => {
  delete process.env.LARK_SECRET_KEY;
  delete process.env.LARK_OPEN_BASE_URL;
  resetEnvForTests();
  resetLarkIntegrationForTests();
  await sim?.close();
  await t?.drop();
});

/** A link the bot would send Mallory. */
const mint = () => mintBindingToken(t.db, box, { workspaceId: ctx.workspaceId, installationId: ctx.installationId, larkOpenId: ctx.malloryOpenId, outboxId: randomUUID() });

const bindings = () => t.db.select().from(larkUserBinding).where(and(eq(larkUserBinding.installationId, ctx.installationId), eq(larkUserBinding.larkOpenId, ctx.malloryOpenId)));

async function tokenRow(token: string) {
  const [row] = await t.db.select().from(larkBindingToken).where(eq(larkBindingToken.tokenHash, hashBindingToken(token)));
  return row;
}

describe('a binding link sent by someone else', () => {
  test('opening it previews what would be linked, naming the Lark user as Lark reports them, and binds nothing', async () => {
    const token = await mint();
    for (let i = 0; i < 2; i++) {
      const res = await call(preview.GET, 'GET', { token: victim.token, query: `token=${encodeURIComponent(token)}` });
      expect(res.status).toBe(200);
      expect(res.body.lark_user).toEqual({ name: 'Mallory Attacker' });
      expect(res.body.agent.name).toBe(ctx.agentName);
      expect(res.body.workspace).toMatchObject({ id: ctx.workspaceId, name: ctx.workspaceName });
      expect(res.body.account).toEqual({ name: 'Victim', email: victim.email });
      // Nothing secret: not the token, not its hash, not the Lark identity's id.
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(token);
      expect(text).not.toContain(hashBindingToken(token));
      expect(text).not.toContain(ctx.malloryOpenId);
    }
    expect(await bindings()).toEqual([]);
    expect((await tokenRow(token)).consumedAt).toBeNull();
  });

  test('only the explicit POST binds; afterwards the link is gone for preview and redemption alike', async () => {
    const token = await mint();
    expect((await call(preview.GET, 'GET', { token: victim.token, query: `token=${encodeURIComponent(token)}` })).status).toBe(200);
    expect(await bindings()).toEqual([]);
    const confirmed = await call(redeem.POST, 'POST', { token: victim.token, body: { token } });
    expect(confirmed.status).toBe(200);
    expect((await bindings()).map((b) => b.userId)).toEqual([victim.id]);
    expect((await call(preview.GET, 'GET', { token: victim.token, query: `token=${encodeURIComponent(token)}` })).status).toBe(410);
    expect((await call(redeem.POST, 'POST', { token: victim.token, body: { token } })).status).toBe(410);
    await t.db.delete(larkUserBinding).where(eq(larkUserBinding.installationId, ctx.installationId));
  });

  test('the preview answers 401 signed out, 403 to a non-member (without the Lark name), 410 for an unknown link', async () => {
    const token = await mint();
    expect((await call(preview.GET, 'GET', { query: `token=${encodeURIComponent(token)}` })).status).toBe(401);
    const outside = await call(preview.GET, 'GET', { token: outsider.token, query: `token=${encodeURIComponent(token)}` });
    expect(outside.status).toBe(403);
    expect(JSON.stringify(outside.body)).not.toContain('Mallory');
    expect((await call(preview.GET, 'GET', { token: victim.token, query: 'token=not-a-real-token' })).status).toBe(410);
    expect((await tokenRow(token)).consumedAt).toBeNull();
  });

  test('when Lark does not tell the name, the preview still answers, with no name', async () => {
    await control.addFault({ kind: 'deny_contact_scope', app_id: ctx.appId });
    try {
      const res = await call(preview.GET, 'GET', { token: victim.token, query: `token=${encodeURIComponent(await mint())}` });
      expect(res.status).toBe(200);
      expect(res.body.lark_user).toEqual({ name: null });
    } finally {
      await control.clearFaults();
    }
  });
});
