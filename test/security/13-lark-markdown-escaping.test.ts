import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SecretBox } from '@/server/crypto/secretbox';
import { larkInstallation, larkOutbox, workspace } from '@/server/db/schema';
import { eq } from 'drizzle-orm';
import type { LarkIntegration } from '@/server/lark/integration';
import { deliverOutboxRow } from '@/server/lark/outbound/deliver';
import type { OutboxBody } from '@/server/lark/outbound/outbox';
import { SimControl, type SimChatMessage } from '@/server/lark/test-support/sim-control';
import { createTestDatabase, type TestDatabase } from '../db';
import { startSim, type Sim } from '../lark/sim';
import { seedAgent, seedUser, seedWorkspace } from '../seed';

// Names and agent output reach Lark through the real deliverer, and the simulator's transcript shows
// what Lark received. Nothing a user typed may become a mention, a tag or a disguised link.

const EVIL_AGENT = '[click](https://evil.example) <at id=all></at>';
const EVIL_WORKSPACE = '**Boss** <at user_id="all"></at> <font color=\'red\'>x</font>';

let t: TestDatabase;
let sim: Sim;
let control: SimControl;
let integration: LarkIntegration;
let ctx: { workspaceId: string; installationId: string; openId: string; appId: string; userId: string };

beforeAll(async () => {
  t = await createTestDatabase();
  sim = await startSim({ chatRateLimitPerSecond: 1000, rateLimitPerSecond: 1000 });
  control = new SimControl(sim.url);
  integration = { configured: true, box: new SecretBox(randomBytes(32)), hosts: { openBaseUrl: `${sim.url}/{region}` }, httpTimeoutMs: 5000 };
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  await t.db.update(workspace).set({ name: EVIL_WORKSPACE }).where(eq(workspace.id, ws.id));
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id, name: EVIL_AGENT });
  const tenant = await control.createTenant('feishu', 'Escapes');
  const app = await control.createApp(tenant.tenant_key, 'Escape bot');
  const info = await control.getApp(app.app_id);
  const larkUser = await control.createUser(tenant.tenant_key, 'Mallory');
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({
      workspaceId: ws.id,
      agentId: agent.id,
      appId: app.app_id,
      appSecretCiphertext: integration.box!.seal(app.app_secret),
      botOpenId: info.bot_open_id,
      botUnionId: info.bot_union_id,
      installerUserId: owner.id,
    })
    .returning();
  ctx = { workspaceId: ws.id, installationId: inst.id, openId: await control.openIdOf(app.app_id, larkUser.id), appId: app.app_id, userId: larkUser.id };
}, 60_000);
afterAll(async () => {
  await sim?.close();
  await t?.drop();
});

/** Sends one outbox row through the real deliverer and returns what Lark received for it. */
async function deliver(body: OutboxBody): Promise<SimChatMessage[]> {
  const [row] = await t.db
    .insert(larkOutbox)
    .values({
      workspaceId: ctx.workspaceId,
      installationId: ctx.installationId,
      kind: body.kind,
      receiveIdType: 'open_id',
      receiveId: ctx.openId,
      larkOpenId: body.kind === 'binding_prompt' ? ctx.openId : null,
      body,
    })
    .returning();
  const result = await deliverOutboxRow(
    { db: t.db, integration, logger: pino({ level: 'silent' }), appUrl: 'http://127.0.0.1:3000' },
    row.id,
  );
  expect(result).toBe('sent');
  const [sent] = await t.db.select({ ids: larkOutbox.larkMessageIds }).from(larkOutbox).where(eq(larkOutbox.id, row.id));
  const chat = await control.p2pChat(ctx.appId, ctx.userId);
  return (await control.chatMessages(chat)).filter((m) => sent.ids.includes(m.message_id));
}

/** A Lark tag that would act (a mention above all): `<at …>` with nothing between `<` and the name. */
const ACTIVE_TAG = /<\/?(at|font|a|link|person|text_tag)[\s>=]/i;
const RAW_LINK = /\[click\]\(https:\/\/evil\.example\)/;

const contentOf = (messages: SimChatMessage[]) => messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n');

describe('names and text sent to Lark render literally', () => {
  test('the binding prompt card shows the agent and workspace names as written, with no mention or link', async () => {
    const content = contentOf(await deliver({ kind: 'binding_prompt', agentName: EVIL_AGENT, workspaceName: EVIL_WORKSPACE }));
    expect(content).not.toMatch(ACTIVE_TAG);
    expect(content).not.toMatch(RAW_LINK);
    expect(content).not.toContain('**Boss**');
    // Each special character is a character reference Lark shows as itself.
    expect(content).toContain('&#91;click&#93;&#40;https&#58;//evil.example&#41;');
    expect(content).toContain('&#60;at id=all&#62;');
  });

  test("the error card's markdown body names the agent literally", async () => {
    const content = contentOf(await deliver({ kind: 'agent_error', agentName: EVIL_AGENT, reference: 'abcd1234', locale: 'en' }));
    const body = JSON.stringify((JSON.parse(content) as { body: unknown }).body);
    expect(body).not.toMatch(ACTIVE_TAG);
    expect(body).not.toMatch(RAW_LINK);
    expect(body).toContain('`abcd1234`');
  });

  test('text notices cannot mention everyone or carry a disguised link', async () => {
    const offline = contentOf(await deliver({ kind: 'agent_offline', agentName: EVIL_AGENT }));
    expect(offline).not.toMatch(ACTIVE_TAG);
    expect(offline).not.toMatch(RAW_LINK);
    const issue = contentOf(await deliver({ kind: 'issue_created', identifier: 'MUL-1', title: '<at user_id="all">all</at> [click](https://evil.example)', url: 'http://127.0.0.1:3000/x' }));
    expect(issue).not.toMatch(ACTIVE_TAG);
    expect(issue).not.toMatch(RAW_LINK);
    expect(issue).toContain('MUL-1');
  });

  test('an agent reply in plain text cannot mention everyone', async () => {
    const content = contentOf(await deliver({ kind: 'agent_reply', text: 'Hello <at user_id="all"></at> everyone' }));
    expect(content).not.toMatch(ACTIVE_TAG);
    expect(content.replaceAll('\u200b', '')).toContain('Hello <at user_id=\\"all\\"></at> everyone');
  });

  test('an agent reply in markdown stays markdown but produces no tag; code keeps its text', async () => {
    const reply = ['**Done.** See the list:', '', '- one <at id=all></at>', "- <font color='red'>two</font>", '', 'Inline `<div>` code.', '', '```html', '<div>ok</div>', '```'].join('\n');
    const [card] = await deliver({ kind: 'agent_reply', text: reply });
    expect(card.msg_type).toBe('interactive');
    const markdown = (card.content as { body: { elements: { tag: string; content: string }[] } }).body.elements[0].content;
    expect(markdown).not.toMatch(ACTIVE_TAG);
    expect(markdown).toContain('**Done.**');
    expect(markdown).toContain('- one &lt;at id=all>');
    expect(markdown).toContain('`<div>`');
    expect(markdown).toContain('```html\n<div>ok</div>\n```');
  });
});
