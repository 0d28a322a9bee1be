import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as memberOne from '@/app/api/workspaces/[id]/members/[userId]/route';
import * as begin from '@/app/api/workspaces/[id]/lark/install/begin/route';
import * as status from '@/app/api/workspaces/[id]/lark/install/[sessionId]/status/route';
import * as installations from '@/app/api/workspaces/[id]/lark/installations/route';
import * as installationOne from '@/app/api/workspaces/[id]/lark/installations/[installationId]/route';
import * as workspaces from '@/app/api/workspaces/route';
import { larkInstallation, larkRegistrationSession, larkUserBinding } from '@/server/db/schema';
import { resetEnvForTests } from '@/server/env';
import { larkIntegration, resetLarkIntegrationForTests } from '@/server/lark/integration';
import { pollDueRegistrations, type RegistrationPollerOptions } from '@/server/lark/install/registration-poller';
import { call, joinByInvitation, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { captureLogs } from './log-capture';
import { startSim, type Sim } from './sim';

let t: TestDatabase;
let sim: Sim;
let owner: TestUser;
let admin: TestUser;
let plain: TestUser;
let outsider: TestUser;
let ws: { id: string };
let otherWs: { id: string };
const logs = captureLogs();
let feishuUser: { id: string };
let larkUser: { id: string };

function configure(extra: Record<string, string | undefined> = {}) {
  process.env.LARK_SECRET_KEY = extra.LARK_SECRET_KEY ?? secretKey;
  process.env.LARK_OPEN_BASE_URL = extra.LARK_OPEN_BASE_URL ?? `${sim.url}/{region}`;
  process.env.LARK_ACCOUNTS_BASE_URL = extra.LARK_ACCOUNTS_BASE_URL ?? `${sim.url}/{region}`;
  resetEnvForTests();
  resetLarkIntegrationForTests();
}
const secretKey = randomBytes(32).toString('base64');

const poller = (): RegistrationPollerOptions => ({ db: t.db, integration: larkIntegration(), logger: logs.logger, tickMs: 50 });

async function newAgent(user: TestUser, workspaceId = ws.id, name = 'Echo') {
  const res = await call(agents.POST, 'POST', { token: user.token, params: { id: workspaceId }, body: { name, avatar_color: '#112233', runtime: { kind: 'echo' } } });
  expect(res.status).toBe(201);
  return res.body.agent as { id: string; name: string };
}

async function beginFor(user: TestUser, agentId: string, region?: string) {
  return call(begin.POST, 'POST', { token: user.token, params: { id: ws.id }, body: { agent_id: agentId, ...(region && { region }) } });
}

const userCodeOf = (qr: string) => new URL(qr).searchParams.get('user_code')!;

async function statusOf(user: TestUser, sessionId: string) {
  return call(status.GET, 'GET', { token: user.token, params: { id: ws.id, sessionId } });
}

async function installWith(approver: { id: string }, agentId: string, region?: string) {
  const started = await beginFor(owner, agentId, region);
  expect(started.status).toBe(200);
  const approved = await sim.control('POST', `/registrations/${userCodeOf(started.body.qr_code_url)}/approve`, { user_id: approver.id });
  await pollDueRegistrations(poller());
  const s = await statusOf(owner, started.body.session_id);
  return { started: started.body, approved, status: s.body };
}

beforeAll(async () => {
  t = await useTestDatabase();
  sim = await startSim({ registrationIntervalSeconds: 1 });
  configure();
  owner = await signUp('Owner');
  admin = await signUp('Admin');
  plain = await signUp('Plain');
  outsider = await signUp('Outsider');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-lark', issue_prefix: 'MUL' } })).body.workspace;
  otherWs = (await call(workspaces.POST, 'POST', { token: outsider.token, body: { name: 'Other', slug: 'other-lark', issue_prefix: 'OTH' } })).body.workspace;
  for (const [u, role] of [[admin, 'admin'], [plain, 'member']] as const) {
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: u, role });
  }
  const feishuTenant = await sim.control('POST', '/tenants', { brand: 'feishu', name: 'Acme CN' });
  const larkTenant = await sim.control('POST', '/tenants', { brand: 'lark', name: 'Acme Global' });
  feishuUser = await sim.control('POST', '/users', { tenant_key: feishuTenant.tenant_key, name: 'Li Lei' });
  larkUser = await sim.control('POST', '/users', { tenant_key: larkTenant.tenant_key, name: 'Alice' });
});
afterAll(async () => {
  await sim?.close();
  await t?.drop();
});
beforeEach(() => configure());

describe('scan to install', () => {
  test('a feishu user approves: one installation, region feishu, installer bound, no secrets in the listing', async () => {
    const agent = await newAgent(owner, ws.id, 'Scribe');
    const { started, approved, status: s } = await installWith(feishuUser, agent.id);
    expect(started).toMatchObject({ expires_in_seconds: expect.any(Number), poll_interval_seconds: 1 });
    const qr = new URL(started.qr_code_url);
    expect(qr.searchParams.get('name')).toBe('Scribe - Larkspur');
    expect(qr.searchParams.get('from')).toBe('sdk');
    expect(s).toEqual({ status: 'success', installation_id: expect.any(String) });

    const listing = await call(installations.GET, 'GET', { token: plain.token, params: { id: ws.id } });
    expect(listing.status).toBe(200);
    expect(listing.body).toMatchObject({ configured: true, install_supported: true });
    const row = listing.body.installations.find((i: { id: string }) => i.id === s.installation_id);
    expect(row).toMatchObject({ agent_id: agent.id, agent: { name: 'Scribe' }, app_id: approved.app_id, region: 'feishu', status: 'active', can_manage: false, console_url: `${sim.url}/feishu/app/${approved.app_id}` });
    const asOwner = await call(installations.GET, 'GET', { token: owner.token, params: { id: ws.id } });
    expect(asOwner.body.installations.find((i: { id: string }) => i.id === s.installation_id).can_manage).toBe(true);
    const app = await sim.control('GET', `/apps/${approved.app_id}`);
    const [stored] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, s.installation_id));
    expect(stored.botOpenId).toBe(app.bot_open_id);
    expect(stored.botUnionId).toBe(app.bot_union_id);
    const secret = larkIntegration().box!.open(stored.appSecretCiphertext);
    expect(secret.length).toBeGreaterThan(10);
    expect(stored.appSecretCiphertext).not.toContain(secret);
    expect(JSON.stringify(listing.body)).not.toContain(secret);
    expect(logs.text()).not.toContain(secret);
    expect(logs.text()).toContain(approved.app_id);
    const { open_id: installerOpenId } = await sim.control('GET', `/apps/${approved.app_id}/open-id?user_id=${feishuUser.id}`);
    const bindings = await t.db.select().from(larkUserBinding).where(eq(larkUserBinding.installationId, s.installation_id));
    expect(bindings).toEqual([expect.objectContaining({ userId: owner.id, larkOpenId: installerOpenId, workspaceId: ws.id })]);
  });

  test('a lark-brand user approving a feishu-begun session switches brand once and records region lark', async () => {
    const agent = await newAgent(owner, ws.id, 'Globetrotter');
    const { status: s } = await installWith(larkUser, agent.id);
    expect(s.status).toBe('success');
    const [stored] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, s.installation_id));
    expect(stored.region).toBe('lark');
  });

  test('a pending session stays pending and survives a restart of the poller', async () => {
    const agent = await newAgent(owner);
    const started = (await beginFor(owner, agent.id)).body;
    await pollDueRegistrations(poller());
    expect((await statusOf(owner, started.session_id)).body).toEqual({ status: 'pending' });
    // A fresh poller (as after a worker restart) picks the session up from the database.
    await sim.control('POST', `/registrations/${userCodeOf(started.qr_code_url)}/approve`, { user_id: feishuUser.id });
    await t.db.update(larkRegistrationSession).set({ nextPollAt: new Date(0) }).where(eq(larkRegistrationSession.id, started.session_id));
    await pollDueRegistrations({ ...poller(), integration: { ...larkIntegration() } });
    expect((await statusOf(owner, started.session_id)).body.status).toBe('success');
  });

  test('a session held by a dead poller is taken over once its hold expires', async () => {
    const agent = await newAgent(owner);
    const started = (await beginFor(owner, agent.id)).body;
    await sim.control('POST', `/registrations/${userCodeOf(started.qr_code_url)}/approve`, { user_id: feishuUser.id });
    await t.db
      .update(larkRegistrationSession)
      .set({ pollerToken: 'poller-dead', pollerUntil: new Date(Date.now() + 60_000) })
      .where(eq(larkRegistrationSession.id, started.session_id));
    expect(await pollDueRegistrations(poller())).toBe(0);
    await t.db.update(larkRegistrationSession).set({ pollerUntil: new Date(Date.now() - 1000) }).where(eq(larkRegistrationSession.id, started.session_id));
    expect(await pollDueRegistrations(poller())).toBe(1);
    expect((await statusOf(owner, started.session_id)).body.status).toBe('success');
  });

  test('two pollers racing on one session make one installation', async () => {
    const agent = await newAgent(owner);
    const started = (await beginFor(owner, agent.id)).body;
    await sim.control('POST', `/registrations/${userCodeOf(started.qr_code_url)}/approve`, { user_id: feishuUser.id });
    const handled = await Promise.all([pollDueRegistrations(poller()), pollDueRegistrations(poller()), pollDueRegistrations(poller())]);
    expect(handled.reduce((a, b) => a + b, 0)).toBe(1);
    const rows = await t.db.select().from(larkInstallation).where(eq(larkInstallation.agentId, agent.id));
    expect(rows).toHaveLength(1);
    expect((await statusOf(owner, started.session_id)).body.status).toBe('success');
  });

  test('a re-install keeps the row id, rotates the credentials and re-activates it', async () => {
    const agent = await newAgent(owner, ws.id, 'Phoenix');
    const first = await installWith(feishuUser, agent.id);
    const [before] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, first.status.installation_id));
    const revoked = await call(installationOne.DELETE, 'DELETE', { token: owner.token, params: { id: ws.id, installationId: before.id } });
    expect(revoked.status).toBe(204);
    const second = await installWith(feishuUser, agent.id);
    expect(second.status.installation_id).toBe(before.id);
    const [after] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, before.id));
    expect(after.status).toBe('active');
    expect(after.appId).toBe(second.approved.app_id);
    expect(after.appId).not.toBe(before.appId);
    expect(after.appSecretCiphertext).not.toBe(before.appSecretCiphertext);
    expect(after.revokedAt).toBeNull();
  });
});

describe('error reasons', () => {
  async function failedWith(prepare: (started: { session_id: string; qr_code_url: string }) => Promise<void>, initiator = owner, agentOwner = owner) {
    const agent = await newAgent(agentOwner);
    const started = (await beginFor(initiator, agent.id)).body;
    await prepare(started);
    await t.db.update(larkRegistrationSession).set({ nextPollAt: new Date(0) }).where(eq(larkRegistrationSession.id, started.session_id));
    await pollDueRegistrations(poller());
    const s = await call(status.GET, 'GET', { token: owner.token, params: { id: ws.id, sessionId: started.session_id } });
    expect(s.body.status).toBe('error');
    return s.body as { error_reason: string; error_message: string };
  }

  test('access_denied', async () => {
    const s = await failedWith(async (st) => sim.control('POST', `/registrations/${userCodeOf(st.qr_code_url)}/deny`));
    expect(s.error_reason).toBe('access_denied');
  });

  test('expired', async () => {
    const s = await failedWith(async (st) => {
      await t.db.update(larkRegistrationSession).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(larkRegistrationSession.id, st.session_id));
    });
    expect(s.error_reason).toBe('expired');
  });

  test('lark_protocol_error (Lark no longer knows the device code)', async () => {
    const s = await failedWith(async (st) => {
      await t.db
        .update(larkRegistrationSession)
        .set({ deviceCodeCiphertext: larkIntegration().box!.seal('unknown-device-code') })
        .where(eq(larkRegistrationSession.id, st.session_id));
    });
    expect(s.error_reason).toBe('lark_protocol_error');
    expect(s.error_message).toContain('invalid_grant');
  });

  test('bot_info_failed', async () => {
    const s = await failedWith(async (st) => {
      await sim.control('POST', `/registrations/${userCodeOf(st.qr_code_url)}/approve`, { user_id: feishuUser.id });
      await sim.control('POST', '/faults', { kind: 'rest_error', path: '/open-apis/bot/v3/info', code: 1000, http_status: 500, count: 5 });
    });
    await sim.control('DELETE', '/faults');
    expect(s.error_reason).toBe('bot_info_failed');
  });

  test('installation_conflict names where the app is connected', async () => {
    const holder = await newAgent(owner, ws.id, 'Holder');
    const s = await failedWith(async (st) => {
      const approved = await sim.control('POST', `/registrations/${userCodeOf(st.qr_code_url)}/approve`, { user_id: feishuUser.id });
      await t.db.insert(larkInstallation).values({
        workspaceId: ws.id,
        agentId: holder.id,
        appId: approved.app_id,
        appSecretCiphertext: 'v1:x',
        botOpenId: 'ou_x',
        installerUserId: owner.id,
      });
    });
    expect(s.error_reason).toBe('installation_conflict');
    expect(s.error_message).toContain('"Holder"');
    expect(s.error_message).toContain('"Acme"');
  });

  test('installer_bind_failed when the initiator left the workspace meanwhile', async () => {
    const s = await failedWith(
      async (st) => {
        await sim.control('POST', `/registrations/${userCodeOf(st.qr_code_url)}/approve`, { user_id: feishuUser.id });
        expect((await call(memberOne.DELETE, 'DELETE', { token: owner.token, params: { id: ws.id, userId: admin.id } })).status).toBe(204);
      },
      admin,
    );
    expect(s.error_reason).toBe('installer_bind_failed');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: admin, role: 'admin' });
  });

  test('internal_error when the stored device code cannot be read', async () => {
    const s = await failedWith(async (st) => {
      await t.db.update(larkRegistrationSession).set({ deviceCodeCiphertext: 'v1:garbage' }).where(eq(larkRegistrationSession.id, st.session_id));
    });
    expect(s.error_reason).toBe('internal_error');
  });
});

describe('install routes', () => {
  test('roles: a plain member cannot bind an agent they do not own, but can bind their own', async () => {
    const ownersAgent = await newAgent(owner);
    expect((await beginFor(plain, ownersAgent.id)).status).toBe(403);
    const mine = await newAgent(plain);
    expect((await beginFor(plain, mine.id)).status).toBe(200);
  });

  test('409 when the agent already has an active installation', async () => {
    const agent = await newAgent(owner);
    expect((await installWith(feishuUser, agent.id)).status.status).toBe('success');
    const again = await beginFor(owner, agent.id);
    expect(again.status).toBe(409);
  });

  test('status: only the initiator or an owner/admin may read it; other workspaces get 404', async () => {
    const mine = await newAgent(plain);
    const started = (await beginFor(plain, mine.id)).body;
    expect((await call(status.GET, 'GET', { token: plain.token, params: { id: ws.id, sessionId: started.session_id } })).status).toBe(200);
    expect((await call(status.GET, 'GET', { token: admin.token, params: { id: ws.id, sessionId: started.session_id } })).status).toBe(200);
    const other = await signUp('Other member');
    await joinByInvitation({ inviter: owner, workspaceId: ws.id, invitee: other });
    expect((await call(status.GET, 'GET', { token: other.token, params: { id: ws.id, sessionId: started.session_id } })).status).toBe(404);
    expect((await call(status.GET, 'GET', { token: outsider.token, params: { id: otherWs.id, sessionId: started.session_id } })).status).toBe(404);
  });

  test("cross-workspace ids are 404 on every Lark route", async () => {
    const agent = await newAgent(owner);
    const installed = await installWith(feishuUser, agent.id);
    const id = installed.status.installation_id;
    expect((await call(begin.POST, 'POST', { token: outsider.token, params: { id: otherWs.id }, body: { agent_id: agent.id } })).status).toBe(404);
    expect((await call(begin.POST, 'POST', { token: outsider.token, params: { id: ws.id }, body: { agent_id: agent.id } })).status).toBe(404);
    expect((await call(installations.GET, 'GET', { token: outsider.token, params: { id: ws.id } })).status).toBe(404);
    expect((await call(installationOne.DELETE, 'DELETE', { token: outsider.token, params: { id: otherWs.id, installationId: id } })).status).toBe(404);
    const [row] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, id));
    expect(row.status).toBe('active');
  });

  test('disconnect: members may not, the agent owner and admins may; the row is kept as revoked', async () => {
    const agent = await newAgent(owner);
    const id = (await installWith(feishuUser, agent.id)).status.installation_id;
    expect((await call(installationOne.DELETE, 'DELETE', { token: plain.token, params: { id: ws.id, installationId: id } })).status).toBe(403);
    expect((await call(installationOne.DELETE, 'DELETE', { token: admin.token, params: { id: ws.id, installationId: id } })).status).toBe(204);
    const [row] = await t.db.select().from(larkInstallation).where(and(eq(larkInstallation.id, id)));
    expect(row).toMatchObject({ status: 'revoked' });
    const listing = await call(installations.GET, 'GET', { token: plain.token, params: { id: ws.id } });
    expect(listing.body.installations.find((i: { id: string }) => i.id === id)).toMatchObject({ status: 'revoked', connection: { state: 'disconnected' } });
  });

  test('bad input: 422 and nothing stored', async () => {
    const before = await t.db.select().from(larkRegistrationSession);
    expect((await call(begin.POST, 'POST', { token: owner.token, params: { id: ws.id }, body: { agent_id: 'nope' } })).status).toBe(422);
    const agent = await newAgent(owner);
    expect((await call(begin.POST, 'POST', { token: owner.token, params: { id: ws.id }, body: { agent_id: agent.id, region: 'mars' } })).status).toBe(422);
    expect(await t.db.select().from(larkRegistrationSession)).toHaveLength(before.length);
  });

  test('not configured: 503 on begin, configured:false on the listing', async () => {
    configure({ LARK_SECRET_KEY: '' });
    const agent = await newAgent(owner);
    const res = await beginFor(owner, agent.id);
    expect(res.status).toBe(503);
    expect(res.body.error.message).toContain('LARK_SECRET_KEY');
    const listing = await call(installations.GET, 'GET', { token: owner.token, params: { id: ws.id } });
    expect(listing.body).toMatchObject({ configured: false, install_supported: false });
  });

  test('Lark unreachable: 502 saying so, nothing stored', async () => {
    configure({ LARK_ACCOUNTS_BASE_URL: 'http://127.0.0.1:9/{region}' });
    const agent = await newAgent(owner);
    const before = await t.db.select().from(larkRegistrationSession);
    const res = await beginFor(owner, agent.id);
    expect(res.status).toBe(502);
    expect(res.body.error.message).toMatch(/Lark/);
    expect(await t.db.select().from(larkRegistrationSession)).toHaveLength(before.length);
  });
});
