// Attack: whoever answers as Lark's accounts host (a hijacked override, a proxy, a compromised
// endpoint) chooses the link the install dialog renders as a QR code and an "open" link. Only
// https links, or plain http from the accounts host the operator configured that way (a local
// simulator), are ever stored and shown.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as agents from '@/app/api/workspaces/[id]/agents/route';
import * as begin from '@/app/api/workspaces/[id]/lark/install/begin/route';
import * as workspaces from '@/app/api/workspaces/route';
import { resetEnvForTests } from '@/server/env';
import { resetLarkIntegrationForTests } from '@/server/lark/integration';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let owner: TestUser;
let wsId: string;
let agentId: string;
let fakeLark: Server;
let fakeLarkUrl: string;
let link = '';

beforeAll(async () => {
  t = await useTestDatabase();
  // Answers every device-flow begin with whatever verification link the test chose.
  fakeLark = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ device_code: 'dc-1', user_code: 'UC-1', verification_uri_complete: link, interval: 5, expires_in: 600 }));
    });
  });
  await new Promise<void>((resolve) => fakeLark.listen(0, '127.0.0.1', resolve));
  fakeLarkUrl = `http://127.0.0.1:${(fakeLark.address() as AddressInfo).port}`;
  process.env.LARK_SECRET_KEY = randomBytes(32).toString('base64');
  process.env.LARK_ACCOUNTS_BASE_URL = `${fakeLarkUrl}/{region}`;
  process.env.LARK_OPEN_BASE_URL = `${fakeLarkUrl}/{region}`;
  resetEnvForTests();
  resetLarkIntegrationForTests();
  owner = await signUp('Quinn');
  wsId = (await call(workspaces.POST, 'POST', { token: owner.token, body: { name: 'Qr', slug: 'qr-team', issue_prefix: 'QR' } })).body.workspace.id;
  agentId = (await call(agents.POST, 'POST', { token: owner.token, params: { id: wsId }, body: { name: 'Echo', avatar_color: '#112233', runtime: { kind: 'echo' } } })).body.agent.id;
});
afterAll(async () => {
  await new Promise((resolve) => fakeLark?.close(resolve));
  await t?.drop();
});

async function beginWith(verificationLink: string) {
  link = verificationLink;
  return call(begin.POST, 'POST', { token: owner.token, params: { id: wsId }, body: { agent_id: agentId } });
}

async function storedLinks(): Promise<string[]> {
  return (await t.pool.query<{ qr_code_url: string }>('SELECT qr_code_url FROM lark_registration_session')).rows.map((r) => r.qr_code_url);
}

describe('the QR link from a device-flow begin', () => {
  test('a javascript:, data: or other non-web link is refused and never stored', async () => {
    for (const bad of ['javascript:alert(document.cookie)//', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'lark://approve?x=1']) {
      const res = await beginWith(bad);
      expect(res.status, bad).toBe(502);
      expect(res.body.error.code).toBe('upstream_unavailable');
    }
    expect((await storedLinks()).some((l) => !/^https?:/.test(l))).toBe(false);
  });

  test('plain http from any host but the configured accounts host is refused', async () => {
    const res = await beginWith('http://phish.example/approve?user_code=UC-1');
    expect(res.status).toBe(502);
    expect((await storedLinks()).some((l) => l.startsWith('http://phish.example'))).toBe(false);
  });

  test('https links are shown, and so are http links from the configured (simulator) host', async () => {
    const secure = await beginWith('https://accounts.feishu.cn/oauth/v1/device/verify?user_code=UC-1');
    expect(secure.status).toBe(200);
    expect(secure.body.qr_code_url).toMatch(/^https:\/\/accounts\.feishu\.cn\//);
    const simulator = await beginWith(`${fakeLarkUrl}/approve?user_code=UC-1`);
    expect(simulator.status).toBe(200);
    expect(simulator.body.qr_code_url.startsWith(`${fakeLarkUrl}/approve`)).toBe(true);
  });
});
