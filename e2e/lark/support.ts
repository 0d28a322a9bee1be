import { expect, type APIRequestContext, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import en from '../../locales/en.json' with { type: 'json' };

// Shared steps of the Lark specs: accounts and workspaces in the app, and the simulator's control API.

export const t = en;

export const simUrl = `http://127.0.0.1:${process.env.E2E_SIM_PORT ?? 3211}`;

/** Fills `{name}`-style placeholders the way the UI does for simple messages. */
export function fill(message: string, values: Record<string, string>): string {
  return message.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

export function uid(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export type Account = { name: string; email: string; password: string };

export function account(role: string, id: string): Account {
  const first = role.charAt(0).toUpperCase() + role.slice(1);
  return { name: `${first} ${id}`, email: `${role}-${id}@example.test`, password: `pw-${id}-${role}` };
}

export async function newContext(browser: Browser, baseURL: string | undefined): Promise<BrowserContext> {
  const base = baseURL ?? 'http://127.0.0.1:3210';
  const context = await browser.newContext({ baseURL: base });
  await context.addCookies([{ name: 'NEXT_LOCALE', value: 'en', url: base }]);
  return context;
}

/** The workspace sidebar, where Chat, Agents, Issues, Settings and the guide live. */
export const nav = (page: Page) => page.getByRole('navigation', { name: t.shell.mainNav, exact: true });

export async function signUp(page: Page, who: Account) {
  await page.goto('/sign-up');
  await page.getByLabel(t.auth.name, { exact: true }).fill(who.name);
  await page.getByLabel(t.auth.email, { exact: true }).fill(who.email);
  await page.getByLabel(t.auth.password, { exact: true }).fill(who.password);
  await page.getByRole('button', { name: t.auth.signUp, exact: true }).click();
  await expect(page).toHaveURL(/\/workspaces\/new$/);
}

export async function signIn(page: Page, who: Account) {
  await page.getByLabel(t.auth.email, { exact: true }).fill(who.email);
  await page.getByLabel(t.auth.password, { exact: true }).fill(who.password);
  await page.getByRole('button', { name: t.auth.signIn, exact: true }).click();
}

export async function createWorkspace(page: Page, input: { name: string; slug: string; prefix: string }) {
  await page.getByLabel(t.workspaces.create.name, { exact: true }).fill(input.name);
  await page.getByLabel(t.workspaces.create.slug, { exact: true }).fill(input.slug);
  await page.getByLabel(t.workspaces.create.issuePrefix, { exact: true }).fill(input.prefix);
  await page.getByRole('button', { name: t.workspaces.create.submit, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${input.slug}/chat$`));
}

/** Creates an echo agent and leaves the browser on its page; returns the page's path. */
export async function createEchoAgent(page: Page, slug: string, name: string): Promise<string> {
  await page.goto(`/w/${slug}/agents/new`);
  await page.getByLabel(t.agents.form.name, { exact: true }).fill(name);
  await page.getByRole('radio', { name: new RegExp(t.agents.form.runtime_echo) }).check();
  await page.getByRole('button', { name: t.agents.create, exact: true }).click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/agents/[0-9a-f-]{36}$`));
  return new URL(page.url()).pathname;
}

/** An owner or admin creates an invitation link in Settings → Members and copies it. */
export async function createInviteLink(page: Page, slug: string, options: { email?: string; role?: 'admin' | 'member' } = {}): Promise<string> {
  await page.goto(`/w/${slug}/settings/members`);
  if (options.email) await page.getByLabel(t.settings.members.inviteEmail, { exact: true }).fill(options.email);
  if (options.role) await page.getByLabel(t.settings.members.role, { exact: true }).selectOption(options.role);
  await page.getByRole('button', { name: t.settings.members.createInvite, exact: true }).click();
  const field = page.getByLabel(t.settings.members.inviteLink, { exact: true });
  await expect(field).toHaveValue(/\/invite\/[A-Za-z0-9_-]{43}$/);
  return field.inputValue();
}

/** The invitee opens the link in their own browser, creates an account from it and accepts. */
export async function joinThroughInvite(browser: Browser, baseURL: string | undefined, link: string, who: Account, slug: string) {
  const context = await newContext(browser, baseURL);
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('link', { name: t.invitation.createAccount, exact: true }).click();
  await page.getByLabel(t.auth.name, { exact: true }).fill(who.name);
  const email = page.getByLabel(t.auth.email, { exact: true });
  // An invitation that names an email fills it in and locks it; anything else is typed.
  if (await email.isEditable()) await email.fill(who.email);
  else await expect(email).toHaveValue(who.email);
  await page.getByLabel(t.auth.password, { exact: true }).fill(who.password);
  await page.getByRole('button', { name: t.auth.signUp, exact: true }).click();
  await page.getByRole('button', { name: t.invitation.accept, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/chat$`));
  await context.close();
}

/** Brings a new teammate into the workspace as a person would: an invitation link, accepted. */
export async function inviteTeammate(page: Page, browser: Browser, baseURL: string | undefined, slug: string, who: Account) {
  const link = await createInviteLink(page, slug, { email: who.email });
  await joinThroughInvite(browser, baseURL, link, who, slug);
  await page.goto(`/w/${slug}/settings/members`);
  await expect(page.getByRole('list', { name: t.settings.members.title, exact: true }).getByText(who.email)).toBeVisible();
}

/** The agent page's Lark block. */
export const larkBlock = (page: Page) => page.locator('[data-integration="lark"]');

export const installDialog = (page: Page, agentName: string) =>
  page.getByRole('dialog', { name: fill(t.lark.install.title, { name: agentName }) });

/** The device-flow user code behind the dialog's QR code, read from its "Open link" fallback. */
export async function qrUserCode(page: Page, agentName: string): Promise<string> {
  const dialog = installDialog(page, agentName);
  await expect(dialog.getByRole('img', { name: fill(t.lark.install.qrLabel, { name: agentName }) })).toBeVisible();
  const href = await dialog.getByRole('link', { name: t.lark.install.openLink, exact: true }).getAttribute('href');
  expect(href).toContain('user_code=');
  const userCode = new URL(href ?? '').searchParams.get('user_code') ?? '';
  expect(userCode).not.toBe('');
  return userCode;
}

/**
 * Binds the agent whose page is open to a new bot: opens the dialog, reads the QR URL from the
 * "Open link" fallback and approves it in the simulator as `approverUserId`. Returns the bot's app id.
 */
export async function bindToLark(page: Page, request: APIRequestContext, agentName: string, approverUserId: string): Promise<string> {
  await larkBlock(page).getByRole('button', { name: t.lark.bindToLark, exact: true }).click();
  const dialog = installDialog(page, agentName);
  await expect(dialog).toBeVisible();
  const userCode = await qrUserCode(page, agentName);
  const approved = await sim(request).approve(userCode, approverUserId);
  await expect(dialog).toBeHidden({ timeout: 30_000 });
  await expect(larkBlock(page).getByText(t.lark.connected, { exact: true })).toBeVisible();
  await expect(larkBlock(page).getByRole('button', { name: t.lark.bindToLark })).toHaveCount(0);
  return approved.app_id;
}

export type SimMessage = {
  message_id: string;
  sender: { type: 'user' | 'app'; id: string; name: string };
  msg_type: string;
  content: unknown;
  create_time: number;
};

/** What a person would read in a message: the text of a text message, the whole card otherwise. */
export function readable(message: SimMessage): string {
  const content = message.content as { text?: unknown } | null;
  return typeof content?.text === 'string' ? content.text : JSON.stringify(message.content);
}

/** The simulator's control API (simulator/README.md). */
export function sim(request: APIRequestContext) {
  async function call<T>(method: 'GET' | 'POST', path: string, data?: unknown): Promise<T> {
    const res = await request.fetch(`${simUrl}/_control${path}`, { method, data });
    if (!res.ok()) throw new Error(`${method} /_control${path}: ${res.status()} ${await res.text()}`);
    return (res.status() === 204 ? undefined : await res.json()) as T;
  }
  return {
    tenant: (brand: 'feishu' | 'lark', name: string) => call<{ tenant_key: string }>('POST', '/tenants', { brand, name }),
    user: (tenantKey: string, name: string) => call<{ id: string }>('POST', '/users', { tenant_key: tenantKey, name }),
    approve: (userCode: string, userId: string) =>
      call<{ app_id: string; brand: string }>('POST', `/registrations/${encodeURIComponent(userCode)}/approve`, { user_id: userId }),
    deny: (userCode: string) => call<void>('POST', `/registrations/${encodeURIComponent(userCode)}/deny`),
    app: (appId: string) => call<{ app_id: string; brand: string; connections: number }>('GET', `/apps/${encodeURIComponent(appId)}`),
    dm: (userId: string, appId: string, text: string) =>
      call<{ message_id: string; chat_id: string }>('POST', '/messages', { user_id: userId, app_id: appId, text }),
    say: (userId: string, chatId: string, text: string) =>
      call<{ message_id: string; chat_id: string }>('POST', '/messages', { user_id: userId, chat_id: chatId, text }),
    group: (tenantKey: string, name: string, userIds: string[], appIds: string[]) =>
      call<{ chat_id: string }>('POST', '/chats', { tenant_key: tenantKey, name, user_ids: userIds, app_ids: appIds }),
    p2p: (appId: string, userId: string) =>
      call<{ chat_id: string }>('GET', `/p2p?app_id=${encodeURIComponent(appId)}&user_id=${encodeURIComponent(userId)}`),
    transcript: (chatId: string) =>
      call<{ messages: SimMessage[] }>('GET', `/chats/${encodeURIComponent(chatId)}/messages`).then((r) => r.messages),
    deliveries: (appId: string) =>
      call<{ deliveries: { im_message_id: string; status: 'pending' | 'acked' | 'failed' }[] }>(
        'GET',
        `/deliveries?app_id=${encodeURIComponent(appId)}`,
      ).then((r) => r.deliveries),
  };
}

/** Waits until the worker holds the bot's event connection, so messages are not just queued. */
export async function expectConnected(request: APIRequestContext, appId: string) {
  await expect.poll(async () => (await sim(request).app(appId)).connections, { timeout: 30_000 }).toBeGreaterThan(0);
}

/** The binding link inside a binding card. */
export const bindLink = /https?:\/\/[^\s"'\\)\]]+\/lark\/bind\?token=[A-Za-z0-9_\-.~%]+/;

/** Polls a chat's transcript until one message satisfies `match`, and returns it. */
export async function waitForMessage(request: APIRequestContext, chatId: string, match: (m: SimMessage) => boolean, timeout = 30_000): Promise<SimMessage> {
  let found: SimMessage | undefined;
  await expect
    .poll(
      async () => {
        found = (await sim(request).transcript(chatId)).find(match);
        return Boolean(found);
      },
      { timeout },
    )
    .toBe(true);
  return found as SimMessage;
}

export const fromApp = (appId: string) => (m: SimMessage) => m.sender.type === 'app' && m.sender.id === appId;

export const botList = (page: Page) => page.getByRole('list', { name: t.lark.integrations.listLabel, exact: true });
export const botRow = (page: Page, agentName: string) => botList(page).getByRole('listitem', { name: agentName, exact: true });

/**
 * Sets an echo agent's pace between streamed words through the agents API, as its admin. The agent
 * form does not offer it: it is configuration of the test's agent, not something the person checks.
 */
export async function setEchoWordDelay(page: Page, slug: string, agentPath: string, wordDelayMs: number) {
  const origin = new URL(page.url()).origin;
  const agentId = agentPath.split('/').pop() ?? '';
  const found = await page.request.get(`/api/workspaces/by-slug/${encodeURIComponent(slug)}`);
  expect(found.ok()).toBe(true);
  const { workspace } = (await found.json()) as { workspace: { id: string } };
  const res = await page.request.patch(`/api/workspaces/${workspace.id}/agents/${agentId}`, {
    data: { runtime: { kind: 'echo', word_delay_ms: wordDelayMs } },
    headers: { origin },
  });
  expect(res.ok(), await res.text()).toBe(true);
}

/** The simulator's web UI, the stand-in for a Lark client, in a browser context of its own. */
export async function openLarkClient(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(simUrl);
  await expect(page.getByLabel('Acting as', { exact: true })).toBeVisible();
  return { context, page };
}

/** The Lark client's transcript of the open chat, and its parts a person reads. */
export const larkTranscript = (page: Page) => page.locator('#transcript');
export const larkMessages = (page: Page, from: 'user' | 'app') => larkTranscript(page).locator(`article.msg-${from}`);
export const larkMessage = (page: Page, messageId: string) => larkTranscript(page).locator(`article[data-message="${messageId}"]`);

/** The "Message a bot" list (its accessible name also reads the option shown). */
const dmPicker = (page: Page) => page.getByRole('combobox', { name: /^Message a bot/ });

/** Picks who the Lark client acts as. */
export async function larkActAs(page: Page, userName: string) {
  await page.getByLabel('Acting as', { exact: true }).selectOption({ label: userName });
  await expect(dmPicker(page)).toContainText('Choose a bot');
}

/** Opens (or starts) the direct chat with a bot from the "Message a bot" list. */
export async function larkOpenDm(page: Page, botName: string) {
  await dmPicker(page).selectOption({ label: botName });
  await expect(page.locator('#chat-header')).toContainText(`${botName} (direct)`);
}

/** Types a message in the Lark client's composer and sends it. */
export async function larkSend(page: Page, text: string) {
  const draft = page.getByLabel('Message', { exact: true });
  await draft.fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(draft).toHaveValue('');
}

/** The id of the Lark message a locator points at. */
export async function larkMessageId(message: Locator): Promise<string> {
  const id = await message.getAttribute('data-message');
  expect(id).toBeTruthy();
  return id as string;
}

/** A workspace with an echo agent bound to a bot, its owner signed in to the web app, and a Lark client acting as the owner's Lark account. */
export type LiveLark = {
  id: string;
  owner: Account;
  slug: string;
  agent: string;
  botName: string;
  appId: string;
  tenantName: string;
  tenantKey: string;
  /** The owner's Lark account: it approved the install, so it is linked and the bot answers it. */
  ownerLark: { id: string; name: string };
  web: Page;
  lark: Page;
  contexts: BrowserContext[];
};

/**
 * A workspace whose echo agent is bound to a bot of an English-speaking (lark brand) tenant, the
 * owner signed in to the web app, and a Lark client acting as the owner's Lark account.
 */
export async function setUpLiveLark(browser: Browser, baseURL: string | undefined, request: APIRequestContext, options: { wordDelayMs?: number; prefix: string }): Promise<LiveLark> {
  const id = uid();
  const owner = account('owner', id);
  const slug = `lark-live-${options.prefix.toLowerCase()}-${id}`;
  const agent = `Echo ${id}`;
  const tenantName = `Live Co ${id}`;
  const control = sim(request);
  const tenant = await control.tenant('lark', tenantName);
  const ownerLarkName = `Olivia ${id}`;
  const ownerLark = await control.user(tenant.tenant_key, ownerLarkName);

  const ownerContext = await newContext(browser, baseURL);
  const web = await ownerContext.newPage();
  await signUp(web, owner);
  await createWorkspace(web, { name: `Live ${id}`, slug, prefix: options.prefix });
  const agentPath = await createEchoAgent(web, slug, agent);
  if (options.wordDelayMs) await setEchoWordDelay(web, slug, agentPath, options.wordDelayMs);
  await web.goto(agentPath);
  const appId = await bindToLark(web, request, agent, ownerLark.id);
  await expectConnected(request, appId);
  const botName = ((await control.app(appId)) as unknown as { name: string }).name;

  const client = await openLarkClient(browser);
  await larkActAs(client.page, ownerLarkName);
  return {
    id,
    owner,
    slug,
    agent,
    botName,
    appId,
    tenantName,
    tenantKey: tenant.tenant_key,
    ownerLark: { id: ownerLark.id, name: ownerLarkName },
    web,
    lark: client.page,
    contexts: [ownerContext, client.context],
  };
}

/** Opens the web chat's conversation whose list entry reads `hasText` (a Lark conversation of `agent`). */
export async function openWebConversation(page: Page, slug: string, agent: string, hasText: string, badge: string) {
  await page.goto(`/w/${slug}/chat`);
  const sessions = page.getByRole('navigation', { name: t.chat.sessionsLabel });
  const link = sessions.getByRole('link').filter({ hasText: agent }).filter({ hasText }).filter({ hasText: badge });
  await expect(link).toHaveCount(1, { timeout: 30_000 });
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/chat/[0-9a-f-]{36}$`));
}

export const webMessage = (page: Page, from: string) => page.getByRole('article', { name: fill(t.chat.messageFrom, { name: from }), exact: true });
