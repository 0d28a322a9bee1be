import fs from 'node:fs/promises';
import path from 'node:path';
import { test, expect, type APIRequestContext, type Browser, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import {
  botList,
  botRow,
  createEchoAgent,
  createWorkspace,
  expectConnected,
  fill,
  fromApp,
  installDialog,
  inviteTeammate,
  larkBlock,
  nav,
  qrUserCode,
  readable,
  signIn,
  signUp,
  sim,
  simUrl,
  t,
  uid,
  waitForMessage,
  type Account,
} from '../lark/support';

// The product's whole story, as the README tells it, clicked through the way a person does it: an
// admin sets up a workspace with two echo agents and binds each to a bot by approving its QR code
// on the simulator's approval page (one on Feishu, one on Lark); a teammate, acting in the
// simulator, messages the bot, links his Lark account from the card's button, chats, files an
// issue with /issue and @-mentions the bot in a group; the admin then checks the bots' health.
// Only the Lark world itself (companies, people, the group chat, a refused message) is set up
// through the simulator's control API, as `npm run demo` seeds it.
//
// Screenshots of each key screen are attached to the report and written to
// test-results/screenshots/. The README's come from here too: run with `--update-snapshots`
// (or delete one) and they are written to docs/screenshots/ under the names the README uses.

const e2ePort = Number(process.env.E2E_PORT ?? 3210);
const opsUrl = `http://127.0.0.1:${e2ePort + 2}`;
const viewport = { width: 1280, height: 800 };
const readmeDir = path.join(import.meta.dirname, '..', '..', 'docs', 'screenshots');

/** Screens the README shows, by the file name it uses. */
const readmeShots: Record<string, string> = {
  'agent-qr-dialog': 'bind-agent-qr.png',
  'simulator-approve': 'simulator-approve.png',
  'simulator-binding-card': 'simulator-binding-card.png',
  'binding-success': 'link-lark-account.png',
  'simulator-dm': 'simulator-dm.png',
  'web-chat-lark': 'web-chat-lark.png',
  issues: 'issues-from-lark.png',
  'bot-health': 'bot-health.png',
};

async function demoContext(browser: Browser, baseURL: string | undefined): Promise<BrowserContext> {
  const base = baseURL ?? `http://127.0.0.1:${e2ePort}`;
  const context = await browser.newContext({ baseURL: base, viewport, colorScheme: 'light', locale: 'en-US' });
  await context.addCookies([{ name: 'NEXT_LOCALE', value: 'en', url: base }]);
  return context;
}

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/** Saves numbered screenshots: attached to the test, and the README's under docs/screenshots. */
function screenshots(testInfo: TestInfo) {
  const dir = path.join(path.dirname(testInfo.config.configFile ?? path.join(process.cwd(), 'x')), 'test-results', 'screenshots');
  // Like Playwright's own snapshots: missing ones are written, all of them with --update-snapshots.
  const update = testInfo.config.updateSnapshots;
  let taken = 0;
  return async (page: Page, name: string) => {
    taken += 1;
    // Nothing half-loaded in a picture: no spinners, no fonts still swapping.
    await expect(page.locator('.spinner')).toHaveCount(0);
    await page.evaluate(async () => {
      await document.fonts.ready;
    });
    const body = await page.screenshot({ animations: 'disabled', caret: 'hide' });
    await testInfo.attach(name, { body, contentType: 'image/png' });
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, `${String(taken).padStart(2, '0')}-${name}.png`), body);
    const readmeFile = readmeShots[name] && path.join(readmeDir, readmeShots[name]);
    if (readmeFile && update !== 'none' && (update === 'all' || update === 'changed' || !(await exists(readmeFile)))) {
      await fs.writeFile(readmeFile, body);
    }
  };
}

/** The simulator's web UI, as the person acting in Lark uses it. */
function simulatorUi(page: Page) {
  const draft = page.getByRole('textbox', { name: 'Message', exact: true });
  const transcript = page.locator('#transcript');
  return {
    transcript,
    actAs: (userId: string) => page.getByRole('combobox', { name: 'Acting as', exact: true }).selectOption(userId),
    /** "Message a bot": opens the direct chat with it. */
    messageBot: (appId: string) => page.getByRole('combobox', { name: 'Message a bot' }).selectOption(appId),
    openChat: (title: string | RegExp) => page.locator('#chat-list li').filter({ hasText: title }).click(),
    async send(text: string, mention?: string) {
      // A mention is picked from the list, which writes "@Name " into the draft; the rest is typed.
      if (mention) {
        await page.getByRole('combobox', { name: 'Mention', exact: true }).selectOption(mention);
        await draft.press('End');
        await draft.pressSequentially(text);
      } else {
        await draft.fill(text);
      }
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await expect(draft).toHaveValue('');
    },
  };
}

/**
 * The agent whose page is open gets a bot the way a person binds one: Bind to Lark, "Open link"
 * under the QR code (the simulator's approval page, in a new tab), pick who approves, Approve.
 * Returns the approval page, still open on its result.
 */
async function approveInSimulator(page: Page, agentName: string, approverId: string, shot?: (page: Page, name: string) => Promise<void>) {
  const dialog = installDialog(page, agentName);
  await expect(dialog).toBeVisible();
  await qrUserCode(page, agentName);
  await expect(dialog.getByText(t.lark.install.steps.scan)).toBeVisible();
  if (shot) await shot(page, 'agent-qr-dialog');
  const [approval] = await Promise.all([
    page.context().waitForEvent('page'),
    dialog.getByRole('link', { name: t.lark.install.openLink, exact: true }).click(),
  ]);
  await expect(approval).toHaveURL(new RegExp(`^${simUrl}/approve\\?user_code=`));
  // The name the QR code suggests, which the approver keeps.
  await expect(approval.getByLabel('Bot name')).toHaveValue(new RegExp(`^${agentName}\\b`));
  await approval.getByRole('combobox', { name: 'Sign in as' }).selectOption(approverId);
  if (shot) await shot(approval, 'simulator-approve');
  await approval.getByRole('button', { name: 'Approve', exact: true }).click();
  const result = approval.locator('#approve-result');
  await expect(result).toContainText(/Approved: bot cli_[0-9a-f]{16} created/);
  const appId = /cli_[0-9a-f]{16}/.exec((await result.textContent()) ?? '')?.[0] ?? '';
  await expect(dialog).toBeHidden({ timeout: 30_000 });
  await expect(larkBlock(page).getByText(t.lark.connected, { exact: true })).toBeVisible();
  return { approval, appId };
}

type Series = { name: string; labels?: Record<string, string> };

const conversationCounters: Series[] = [
  { name: 'larkspur_lark_events_received_total' },
  { name: 'larkspur_lark_acks_total', labels: { code: '200' } },
  { name: 'larkspur_lark_dispatch_outcomes_total', labels: { outcome: 'ingested' } },
  { name: 'larkspur_lark_outbox_deliveries_total', labels: { result: 'sent' } },
];

function parseLabels(raw: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of (raw ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
  return labels;
}

/** Reads counters from the worker's Prometheus endpoint; a series not exported yet counts as 0. */
async function readCounters(request: APIRequestContext, series: Series[]): Promise<number[]> {
  const res = await request.get(`${opsUrl}/metrics`);
  expect(res.status()).toBe(200);
  const samples = (await res.text())
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1]!, labels: parseLabels(m[2]), value: Number(m[3]) }));
  return series.map((s) =>
    samples
      .filter((sample) => sample.name === s.name && Object.entries(s.labels ?? {}).every(([k, v]) => sample.labels[k] === v))
      .reduce((sum, sample) => sum + sample.value, 0),
  );
}

async function expectOk(request: APIRequestContext, url: string) {
  const res = await request.get(url);
  expect(res.status(), url).toBe(200);
}

async function openIntegrations(page: Page) {
  await nav(page).getByRole('link', { name: t.shell.nav.settings, exact: true }).click();
  await page.getByRole('navigation', { name: t.settings.tabsLabel }).getByRole('link', { name: t.settings.tabs.integrations, exact: true }).click();
  await expect(page.getByRole('heading', { name: t.lark.integrations.title, exact: true, level: 2 })).toBeVisible();
}

test('demo walkthrough: install two bots, link a teammate, chat, /issue, a group, bot health', async ({ browser, baseURL, request }, testInfo) => {
  test.setTimeout(360_000);
  const shot = screenshots(testInfo);
  const id = uid();
  const admin: Account = { name: 'Demo Owner', email: `owner-${id}@example.test`, password: `pw-${id}-owner` };
  const teammate: Account = { name: 'Sam Park', email: `sam-${id}@example.test`, password: `pw-${id}-sam` };
  const slug = `demo-${id}`;
  const workspaceName = 'Demo';

  // Lark's side, as `npm run demo` seeds it: a Feishu company with three people, a Lark company
  // with one, and the Feishu company's group chat.
  const control = sim(request);
  const feishu = await control.tenant('feishu', `Demo Co ${id}`);
  const larkTenant = await control.tenant('lark', `Demo Global ${id}`);
  const mei = await control.user(feishu.tenant_key, 'Mei Chen');
  const samLark = await control.user(feishu.tenant_key, 'Sam Park');
  const priya = await control.user(feishu.tenant_key, 'Priya Rao');
  const lena = await control.user(larkTenant.tenant_key, 'Lena Ortiz');
  const { chat_id: groupChat } = await control.group(feishu.tenant_key, 'Demo team', [mei.id, samLark.id, priya.id], []);

  // The web app and the worker are up.
  await expectOk(request, '/healthz');
  await expectOk(request, '/readyz');
  await expectOk(request, `${opsUrl}/healthz`);
  await expectOk(request, `${opsUrl}/readyz`);

  // The admin signs up, creates a workspace and two echo agents.
  const adminContext = await demoContext(browser, baseURL);
  const page = await adminContext.newPage();
  await signUp(page, admin);
  await createWorkspace(page, { name: workspaceName, slug, prefix: 'MUL' });
  await createEchoAgent(page, slug, 'Ada');

  // Ada's bot: the QR dialog's "Open link" opens the simulator's approval page, where the admin
  // approves as Mei, on Feishu.
  await larkBlock(page).getByRole('button', { name: t.lark.bindToLark, exact: true }).click();
  const { approval, appId: adaApp } = await approveInSimulator(page, 'Ada', mei.id, shot);
  await expect(larkBlock(page).getByText(t.lark.region.feishu, { exact: true })).toBeVisible();
  await expect(larkBlock(page).getByText(fill(t.lark.agent.installed, { name: 'Ada' }))).toBeVisible();
  await shot(page, 'agent-connected');
  // Approving as Mei did not make the simulator act as Mei.
  await approval.getByRole('link', { name: 'Lark simulator' }).click();
  await expect(approval.getByRole('combobox', { name: 'Acting as', exact: true })).toHaveValue('');
  await approval.close();
  // Installed bots join the demo's group chat, as `npm run demo` has them do.
  await request.post(`${simUrl}/_control/chats/${groupChat}/members`, { data: { app_ids: [adaApp] } });

  // Linus's bot is approved by Lena, on Lark.
  await createEchoAgent(page, slug, 'Linus');
  await larkBlock(page).getByRole('button', { name: t.lark.bindToLark, exact: true }).click();
  const { approval: linusApproval, appId: linusApp } = await approveInSimulator(page, 'Linus', lena.id);
  await linusApproval.close();
  await expect(larkBlock(page).getByText(t.lark.region.lark, { exact: true })).toBeVisible();
  expect((await control.app(linusApp)).brand).toBe('lark');
  expect((await control.app(adaApp)).brand).toBe('feishu');

  // Settings → Integrations lists both bots, each with its brand and a live connection.
  await expectConnected(request, adaApp);
  await expectConnected(request, linusApp);
  await openIntegrations(page);
  await expect(botList(page).getByRole('listitem')).toHaveCount(2);
  await expect(botRow(page, 'Ada').getByText(t.lark.region.feishu, { exact: true })).toBeVisible();
  await expect(botRow(page, 'Linus').getByText(t.lark.region.lark, { exact: true })).toBeVisible();
  await expect(botRow(page, 'Ada').getByText(t.lark.connection.connected, { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(botRow(page, 'Linus').getByText(t.lark.connection.connected, { exact: true })).toBeVisible({ timeout: 30_000 });
  await shot(page, 'settings-integrations');
  // The walkthrough is told in English: the admin has the bots speak English (a Feishu bot would
  // speak Chinese on the automatic setting, as `npm run demo` also changes it).
  await page.locator('[data-section="lark-language"]').getByRole('combobox').selectOption('en');
  await expect(page.getByText(t.lark.language.saved)).toBeVisible();

  // "Manage in Lark" opens the bot's console page: here the simulator's, for the brand it lives on.
  const [consolePage] = await Promise.all([
    adminContext.waitForEvent('page'),
    botRow(page, 'Linus').getByRole('link', { name: t.lark.manage }).click(),
  ]);
  await expect(consolePage).toHaveURL(`${simUrl}/lark/app/${linusApp}`);
  await expect(consolePage.getByRole('heading', { name: /^Linus\b/, level: 1 })).toBeVisible();
  await expect(consolePage.locator('#bot-facts')).toContainText(linusApp);
  await expect(consolePage.locator('#bot-facts')).toContainText('Lena Ortiz');
  await consolePage.close();

  // Sam gets a Larkspur account and joins the workspace.
  await inviteTeammate(page, browser, baseURL, slug, teammate);

  const before = await readCounters(request, conversationCounters);

  // Sam, in the simulator, messages Ada's bot; his first message is answered with a card whose
  // button links his Lark account. He uses one browser for the simulator and for Larkspur.
  const samContext = await demoContext(browser, baseURL);
  const simPage = await samContext.newPage();
  await simPage.goto(`${simUrl}/`);
  const lark = simulatorUi(simPage);
  await lark.actAs(samLark.id);
  await lark.messageBot(adaApp);
  await lark.send('Hi Ada!');
  const connect = lark.transcript.getByRole('link', { name: 'Connect account', exact: true });
  await expect(connect).toBeVisible({ timeout: 30_000 });
  await expect(connect).toHaveAttribute('href', /\/lark\/bind\?token=/);
  await shot(simPage, 'simulator-binding-card');

  // The button opens the link in a new tab, signed out: he is told why to sign in, signs in, comes
  // straight back, checks what will be linked and confirms.
  const [samPage] = await Promise.all([samContext.waitForEvent('page'), connect.click()]);
  await samPage.getByRole('link', { name: t.lark.bind.signInToContinue, exact: true }).click();
  await expect(samPage).toHaveURL(/\/sign-in\?next=%2Flark%2Fbind%3Ftoken%3D/);
  await signIn(samPage, teammate);
  await expect(samPage).toHaveURL(/\/lark\/bind\?token=/);
  await expect(samPage.getByRole('heading', { name: t.lark.bind.confirmTitle })).toBeVisible();
  await expect(samPage.locator('[data-field="lark-user"]')).toHaveText('Sam Park');
  await samPage.getByRole('button', { name: t.lark.bind.confirm, exact: true }).click();
  await expect(samPage.getByRole('heading', { name: t.lark.bind.successTitle })).toBeVisible();
  await expect(samPage.getByText(fill(t.lark.bind.successBody, { workspace: workspaceName }))).toBeVisible();
  await expect(samPage.getByText(fill(t.lark.bind.successNext, { agent: 'Ada' }))).toBeVisible();
  await shot(samPage, 'binding-success');

  // Now Ada answers in Lark, and the conversation is in Sam's web chat, marked Lark.
  const hello = 'Hi Ada, can you summarise the release plan?';
  await lark.send(hello);
  await expect(lark.transcript).toContainText(`You said: "${hello}"`, { timeout: 30_000 });
  const followUp = 'Who owns the rollout?';
  await lark.send(followUp);
  await expect(lark.transcript).toContainText(`You said: "${followUp}"`, { timeout: 30_000 });

  await samPage.getByRole('link', { name: t.lark.bind.openChat, exact: true }).click();
  await expect(samPage).toHaveURL(new RegExp(`/w/${slug}/chat$`));
  const sessions = samPage.getByRole('navigation', { name: t.chat.sessionsLabel });
  const larkSession = sessions.getByRole('link').filter({ hasText: 'Ada' }).filter({ hasText: t.chat.channelLark });
  await expect(larkSession).toHaveCount(1);
  await larkSession.click();
  const fromSam = samPage.getByRole('article', { name: fill(t.chat.messageFrom, { name: teammate.name }) });
  const fromAda = samPage.getByRole('article', { name: fill(t.chat.messageFrom, { name: 'Ada' }) });
  await expect(fromSam.filter({ hasText: hello })).toBeVisible();
  await expect(fromAda.filter({ hasText: `You said: "${hello}"` })).toBeVisible();
  await expect(fromAda.filter({ hasText: `You said: "${followUp}"` })).toBeVisible();
  await shot(samPage, 'web-chat-lark');

  // /issue files an issue; the bot confirms it and the issue is on the Issues page.
  await lark.send('/issue Fix the login page');
  await expect(lark.transcript).toContainText('Created MUL-1 — Fix the login page', { timeout: 30_000 });
  await nav(samPage).getByRole('link', { name: t.shell.nav.issues, exact: true }).click();
  await expect(samPage.getByRole('link', { name: 'MUL-1', exact: true })).toBeVisible();
  await expect(samPage.getByRole('link', { name: 'Fix the login page' })).toBeVisible();
  await shot(samPage, 'issues');
  // The issue links back to the Lark chat it was filed from: here, the simulator's view of it.
  await samPage.getByRole('link', { name: 'Fix the login page' }).click();
  const [fromIssue] = await Promise.all([samContext.waitForEvent('page'), samPage.getByRole('link', { name: t.issues.links.openLark }).click()]);
  await expect(fromIssue).toHaveURL(`${simUrl}/`);
  await expect(simulatorUi(fromIssue).transcript).toContainText('Created MUL-1 — Fix the login page');
  await fromIssue.close();

  // The same conversation from Lark's side: Sam's DM with Ada's bot in the simulator.
  await shot(simPage, 'simulator-dm');

  // In the group, Ada answers only the message that @-mentions her bot.
  await lark.openChat('# Demo team');
  const question = 'what is blocking the launch?';
  await lark.send('Morning all, standup in five minutes');
  await lark.send('can you share the launch checklist?', `user:${mei.id}`);
  await lark.send(question, `app:${adaApp}`);
  await waitForMessage(request, groupChat, (m) => fromApp(adaApp)(m) && readable(m).includes(question));
  await expect(lark.transcript.locator('article.msg-app').filter({ hasText: question })).toHaveCount(1);
  const fromSamInGroup = (await control.transcript(groupChat)).filter((m) => m.sender.type === 'user' && m.sender.id === samLark.id);
  expect(fromSamInGroup).toHaveLength(3);
  for (const ignored of fromSamInGroup.slice(0, 2)) {
    await expect
      .poll(async () => (await control.deliveries(adaApp)).find((d) => d.im_message_id === ignored.message_id)?.status, { timeout: 15_000 })
      .toBe('acked');
  }
  // What Ada said in the group: the introduction she posted when she joined, and the one answer.
  const adaInGroup = (await control.transcript(groupChat)).filter(fromApp(adaApp));
  expect(adaInGroup).toHaveLength(2);
  expect(adaInGroup.filter((m) => readable(m).includes(question))).toHaveLength(1);

  // The worker counted the conversation: events in, ACKs out, messages ingested, replies sent.
  await expect
    .poll(
      async () => {
        const after = await readCounters(request, conversationCounters);
        return conversationCounters.filter((_, i) => !(after[i]! > before[i]!)).map((s) => s.name);
      },
      { timeout: 15_000 },
    )
    .toEqual([]);
  await expectOk(request, `${opsUrl}/healthz`);
  await expectOk(request, `${opsUrl}/readyz`);

  // The guide explains all of it.
  await nav(samPage).getByRole('link', { name: t.shell.nav.guide, exact: true }).click();
  await expect(samPage.getByRole('heading', { name: t.lark.guide.title, level: 1 })).toBeVisible();
  await shot(samPage, 'guide');

  // Bot health. Lark refuses Ada's next reply; everyone sees why on the bot's row.
  const fault = await request.post(`${simUrl}/_control/faults`, {
    // Only the send itself: the typing reaction on Sam's message goes to a longer path under it.
    data: { kind: 'rest_error', app_id: adaApp, path: '/\\/open-apis\\/im\\/v1\\/messages$/', method: 'POST', code: 230002, http_status: 400, msg: 'Bot is not in the chat', count: 1 },
  });
  expect(fault.ok()).toBe(true);
  const faultId = ((await fault.json()) as { id: string }).id;
  try {
    await lark.openChat(/^Ada\b.*\(direct\)/);
    await lark.send('Are you still there?');
    await page.goto(`/w/${slug}/settings/integrations`);
    const warning = botRow(page, 'Ada').getByText(t.lark.integrations.deliveryError, { exact: true });
    await expect(warning).toBeVisible({ timeout: 30_000 });
    await expect(botRow(page, 'Ada').getByText(fill(t.lark.integrations.deliveryErrorCode, { code: '230002' }), { exact: true })).toBeVisible();
    await expect(botRow(page, 'Ada').getByText(/Bot is not in the chat/)).toBeVisible();
    await expect(botRow(page, 'Linus').getByText(t.lark.integrations.deliveryError, { exact: true })).toHaveCount(0);
  } finally {
    await request.delete(`${simUrl}/_control/faults/${encodeURIComponent(faultId)}`);
  }

  // Admins can see what each bot let go: the group messages that did not mention Ada, by chat,
  // with no message content anywhere.
  const drops = t.lark.integrations.drops;
  await botRow(page, 'Ada').getByText(drops.summary, { exact: true }).click();
  const adaDrops = page.getByRole('table', { name: fill(drops.caption, { name: 'Ada' }) });
  const unaddressed = adaDrops.getByRole('row').filter({ hasText: drops.reasons.not_addressed_in_group });
  await expect(unaddressed).toHaveCount(2);
  // The drops table names the chat (the bot learned its name when it was added), with its id beside it.
  await expect(unaddressed.first().getByRole('cell', { name: `Demo team (${groupChat})`, exact: true })).toBeVisible();
  await expect(adaDrops).not.toContainText('standup');
  await expect(adaDrops).not.toContainText('checklist');
  await botRow(page, 'Linus').getByText(drops.summary, { exact: true }).click();
  await expect(botRow(page, 'Linus').getByText(drops.empty, { exact: true })).toBeVisible();
  await shot(page, 'bot-health');

  // A plain member sees the warning but not the admins' audit.
  await samPage.goto(`/w/${slug}/settings/integrations`);
  await expect(botRow(samPage, 'Ada').getByText(t.lark.integrations.deliveryError, { exact: true })).toBeVisible();
  await expect(botList(samPage).getByRole('listitem')).toHaveCount(2);
  await expect(samPage.getByText(drops.summary, { exact: true })).toHaveCount(0);

  await samContext.close();
  await adminContext.close();
});
