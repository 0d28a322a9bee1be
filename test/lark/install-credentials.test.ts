import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as begin from '@/app/api/workspaces/[id]/lark/install/begin/route';
import * as status from '@/app/api/workspaces/[id]/lark/install/[sessionId]/status/route';
import * as installationOne from '@/app/api/workspaces/[id]/lark/installations/[installationId]/route';
import * as workspaces from '@/app/api/workspaces/route';
import { larkInstallation, larkUserBinding } from '@/server/db/schema';
import { resetEnvForTests } from '@/server/env';
import { larkIntegration, resetLarkIntegrationForTests } from '@/server/lark/integration';
import { pollDueRegistrations } from '@/server/lark/install/registration-poller';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';
import { captureLogs } from './log-capture';
import { startSim, type Sim } from './sim';

// What the installation row holds after the device flow: the credentials Lark handed over, the
// hub's lease untouched by a re-install, and no union_id when Lark will not tell us.

let t: TestDatabase;
let sim: Sim;
let owner: TestUser;
let ws: { id: string };
let approver: { id: string };
const logs = captureLogs();

const userCodeOf = (qr: string) => new URL(qr).searchParams.get('user_code')!;

async function newAgent(name: string) {
  const res = await call(agents.POST, 'POST', { token: owner.token, params: { id: ws.id }, body: { name, avatar_color: '#112233', runtime: { kind: 'echo' } } });
  expect(res.status).toBe(201);
  return res.body.agent as { id: string };
}

async function beginFor(agentId: string) {
  const res = await call(begin.POST, 'POST', { token: owner.token, params: { id: ws.id }, body: { agent_id: agentId } });
  expect(res.status).toBe(200);
  return res.body as { session_id: string; qr_code_url: string };
}

async function approve(session: { qr_code_url: string }) {
  return sim.control<{ app_id: string }>('POST', `/registrations/${userCodeOf(session.qr_code_url)}/approve`, { user_id: approver.id });
}

async function finish(session: { session_id: string }) {
  await pollDueRegistrations({ db: t.db, integration: larkIntegration(), logger: logs.logger, tickMs: 50 });
  return (await call(status.GET, 'GET', { token: owner.token, params: { id: ws.id, sessionId: session.session_id } })).body as { status: string; installation_id?: string };
}

/** The lease columns as Postgres has them (text keeps the microseconds a Date would drop). */
async function leaseOf(id: string) {
  const res = await t.db.execute<{ token: string | null; expires: string | null }>(
    sql`SELECT ws_lease_token AS token, ws_lease_expires_at::text AS expires FROM lark_installation WHERE id = ${id}`,
  );
  return res.rows[0];
}

beforeAll(async () => {
  t = await useTestDatabase();
  sim = await startSim({ registrationIntervalSeconds: 1 });
  process.env.LARK_SECRET_KEY = randomBytes(32).toString('base64');
  process.env.LARK_OPEN_BASE_URL = `${sim.url}/{region}`;
  process.env.LARK_ACCOUNTS_BASE_URL = `${sim.url}/{region}`;
  resetEnvForTests();
  resetLarkIntegrationForTests();
  owner = await signUp('Owner');
  ws = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Acme', slug: 'acme-credentials', issue_prefix: 'MUL' } })).body.workspace;
  const tenant = await sim.control('POST', '/tenants', { brand: 'feishu', name: 'Acme CN' });
  approver = await sim.control('POST', '/users', { tenant_key: tenant.tenant_key, name: 'Li Lei' });
});

afterAll(async () => {
  await sim?.close();
  await t?.drop();
});

describe('re-install and the lease', () => {
  test('rotating the credentials of a connected bot leaves the lease to the hub that holds it', async () => {
    const agent = await newAgent('Rotator');
    // Two QR codes opened before either was scanned: the second scan re-installs over the first.
    const first = await beginFor(agent.id);
    const second = await beginFor(agent.id);
    const firstApp = await approve(first);
    const installed = await finish(first);
    expect(installed.status).toBe('success');
    const id = installed.installation_id!;
    // A worker connects the bot and holds its lease.
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'node-a-g7', wsLeaseExpiresAt: sql`now() + interval '25 seconds 123456 microseconds'`, connectionState: 'connected' })
      .where(eq(larkInstallation.id, id));
    const held = await leaseOf(id);

    const secondApp = await approve(second);
    await t.db.execute(sql`UPDATE lark_registration_session SET next_poll_at = now() WHERE id = ${second.session_id}`);
    const reinstalled = await finish(second);
    expect(reinstalled).toEqual({ status: 'success', installation_id: id });
    const [row] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, id));
    expect(row.appId).toBe(secondApp.app_id);
    expect(row.appId).not.toBe(firstApp.app_id);
    expect(row.status).toBe('active');
    // The holder's supervisor hands its lease over by CAS when it sees the new fingerprint; a
    // cleared lease would let another worker connect the new bot while the old connection runs.
    expect(await leaseOf(id)).toEqual(held);
  });

  test('re-installing a disconnected bot does not touch a lease its last holder has not released yet', async () => {
    const agent = await newAgent('Phoenix');
    const session = await beginFor(agent.id);
    await approve(session);
    const id = (await finish(session)).installation_id!;
    expect((await call(installationOne.DELETE, 'DELETE', { token: owner.token, params: { id: ws.id, installationId: id } })).status).toBe(204);
    await t.db
      .update(larkInstallation)
      .set({ wsLeaseToken: 'node-b-g3', wsLeaseExpiresAt: sql`now() + interval '5 seconds 654321 microseconds'` })
      .where(eq(larkInstallation.id, id));
    const held = await leaseOf(id);
    const again = await beginFor(agent.id);
    await approve(again);
    expect(await finish(again)).toEqual({ status: 'success', installation_id: id });
    expect(await leaseOf(id)).toEqual(held);
  });
});

describe('contact scope denied', () => {
  test('the install still succeeds, with no union_id, and the installer is bound', async () => {
    const agent = await newAgent('Private');
    const session = await beginFor(agent.id);
    const app = await approve(session);
    await sim.control('POST', '/faults', { kind: 'deny_contact_scope', app_id: app.app_id });
    try {
      const done = await finish(session);
      expect(done.status).toBe('success');
      const info = await sim.control('GET', `/apps/${app.app_id}`);
      const [row] = await t.db.select().from(larkInstallation).where(eq(larkInstallation.id, done.installation_id!));
      expect(row).toMatchObject({ appId: app.app_id, botOpenId: info.bot_open_id, botUnionId: null, status: 'active' });
      // Lark does know a union_id for this bot; only the scope kept it from us.
      expect(info.bot_union_id).toMatch(/^on_/);
      const bindings = await t.db.select().from(larkUserBinding).where(eq(larkUserBinding.installationId, row.id));
      expect(bindings).toEqual([expect.objectContaining({ userId: owner.id })]);
    } finally {
      await sim.control('DELETE', '/faults');
    }
  });
});
