import { test, expect } from '@playwright/test';
import {
  account,
  bindToLark,
  createEchoAgent,
  createWorkspace,
  expectConnected,
  fill,
  nav,
  newContext,
  readable,
  signIn,
  signUp,
  inviteTeammate,
  sim,
  t,
  uid,
  bindLink,
  waitForMessage,
  fromApp,
} from './support';

// A teammate talks to an installed echo bot from Lark: they link their account through the bot's
// card, chat (and see it in the web app), file an issue with /issue, get a markdown card, and in a
// group with two bots only the mentioned one answers.

test('a teammate links their Lark account, chats, files an issue, and groups need a mention', async ({ browser, baseURL, request }) => {
  test.setTimeout(240_000);
  const id = uid();
  const admin = account('owner', id);
  const teammate = account('teammate', id);
  const slug = `lark-chat-${id}`;
  const workspaceName = `Lark Chat ${id}`;
  const echo = `Echo ${id}`;
  const second = `Second ${id}`;

  const control = sim(request);
  const tenant = await control.tenant('feishu', `Acme ${id}`);
  const adminLark = await control.user(tenant.tenant_key, `Olivia ${id}`);
  const teammateLark = await control.user(tenant.tenant_key, `Max ${id}`);

  // The owner sets up a workspace with two echo agents, each bound to a bot they approve.
  const ownerContext = await newContext(browser, baseURL);
  const page = await ownerContext.newPage();
  await signUp(page, admin);
  await createWorkspace(page, { name: workspaceName, slug, prefix: 'MUL' });
  await createEchoAgent(page, slug, echo);
  const echoApp = await bindToLark(page, request, echo, adminLark.id);
  await createEchoAgent(page, slug, second);
  const secondApp = await bindToLark(page, request, second, adminLark.id);
  await inviteTeammate(page, browser, baseURL, slug, teammate);
  await expectConnected(request, echoApp);
  await expectConnected(request, secondApp);

  // The teammate's first DM gets a binding card instead of an answer.
  await control.dm(teammateLark.id, echoApp, 'hi there');
  const { chat_id: dmChat } = await control.p2p(echoApp, teammateLark.id);
  const card = await waitForMessage(request, dmChat, (m) => fromApp(echoApp)(m) && bindLink.test(JSON.stringify(m.content)));
  expect(card.msg_type).toBe('interactive');
  const url = JSON.stringify(card.content).match(bindLink)?.[0] ?? '';
  expect(new URL(url).pathname).toBe('/lark/bind');

  // Opened signed out: the page says why to sign in, then comes straight back to the link, which
  // binds once the teammate confirms.
  const teammateContext = await newContext(browser, baseURL);
  const teammatePage = await teammateContext.newPage();
  await teammatePage.goto(url);
  await expect(teammatePage.getByText(t.lark.bind.signedOutBody)).toBeVisible();
  await teammatePage.getByRole('link', { name: t.lark.bind.signInToContinue, exact: true }).click();
  await expect(teammatePage).toHaveURL(/\/sign-in\?next=%2Flark%2Fbind%3Ftoken%3D/);
  await signIn(teammatePage, teammate);
  await expect(teammatePage).toHaveURL(/\/lark\/bind\?token=/);
  await expect(teammatePage.locator('[data-field="lark-user"]')).toHaveText(`Max ${id}`);
  await teammatePage.getByRole('button', { name: t.lark.bind.confirm, exact: true }).click();
  await expect(teammatePage.getByRole('heading', { name: t.lark.bind.successTitle })).toBeVisible();
  await expect(teammatePage.getByText(fill(t.lark.bind.successBody, { workspace: workspaceName }))).toBeVisible();
  await expect(teammatePage.getByText(fill(t.lark.bind.successNext, { agent: echo }))).toBeVisible();
  // A reload finds the link used.
  await teammatePage.reload();
  await expect(teammatePage.getByRole('heading', { name: t.lark.bind.goneTitle })).toBeVisible();

  // Now the agent answers in Lark…
  const hello = `hello from Lark ${id}`;
  await control.dm(teammateLark.id, echoApp, hello);
  await waitForMessage(request, dmChat, (m) => fromApp(echoApp)(m) && readable(m) === `You said: "${hello}"`);

  // …and the conversation is in the teammate's web chat, marked Lark.
  await teammatePage.goto(`/w/${slug}/chat`);
  const sessions = teammatePage.getByRole('navigation', { name: t.chat.sessionsLabel });
  const larkSession = sessions.getByRole('link').filter({ hasText: echo }).filter({ hasText: t.chat.channelLark });
  await expect(larkSession).toHaveCount(1);
  await larkSession.click();
  await expect(teammatePage.getByRole('article', { name: fill(t.chat.messageFrom, { name: teammate.name }) }).filter({ hasText: hello })).toBeVisible();
  await expect(teammatePage.getByRole('article', { name: fill(t.chat.messageFrom, { name: echo }) }).filter({ hasText: `You said: "${hello}"` })).toBeVisible();

  // /issue files an issue and the bot confirms it.
  await control.dm(teammateLark.id, echoApp, '/issue Fix the login page');
  // A Feishu bot on the automatic language setting answers in Chinese; the issue's identifier and title read the same.
  await waitForMessage(request, dmChat, (m) => fromApp(echoApp)(m) && readable(m).includes('MUL-1') && readable(m).includes('Fix the login page'));
  await nav(teammatePage).getByRole('link', { name: t.shell.nav.issues, exact: true }).click();
  await expect(teammatePage.getByRole('link', { name: 'MUL-1', exact: true })).toBeVisible();
  await expect(teammatePage.getByRole('link', { name: 'Fix the login page' })).toBeVisible();

  // A reply with markdown arrives as a card.
  await control.dm(teammateLark.id, echoApp, 'Please give me a list of fruits');
  const listReply = await waitForMessage(request, dmChat, (m) => fromApp(echoApp)(m) && readable(m).includes('fruits') && readable(m).includes('You said'));
  expect(listReply.msg_type).toBe('interactive');

  // In a group with both bots, only the one mentioned answers.
  const { chat_id: groupChat } = await control.group(tenant.tenant_key, `Team ${id}`, [adminLark.id], [echoApp, secondApp]);
  const sent = await control.say(adminLark.id, groupChat, `@{app:${echoApp}} hello group ${id}`);
  await waitForMessage(request, groupChat, (m) => fromApp(echoApp)(m) && readable(m).includes(`hello group ${id}`));
  // The other bot received the same message and deliberately let it go.
  await expect
    .poll(async () => (await control.deliveries(secondApp)).find((d) => d.im_message_id === sent.message_id)?.status, { timeout: 15_000 })
    .toBe('acked');
  expect((await control.transcript(groupChat)).filter(fromApp(secondApp))).toHaveLength(0);

  await teammateContext.close();
  await ownerContext.close();
});

test('a binding link opened by someone outside the workspace is refused and stays usable', async ({ browser, baseURL, request }) => {
  test.setTimeout(150_000);
  const id = uid();
  const owner = account('owner', id);
  const outsider = account('outsider', id);
  const teammate = account('teammate', id);
  const slug = `lark-refuse-${id}`;
  const workspaceName = `Lark Refuse ${id}`;
  const echo = `Gatekeeper ${id}`;
  const control = sim(request);
  const tenant = await control.tenant('feishu', `Gate Co ${id}`);
  const ownerLark = await control.user(tenant.tenant_key, `Omar ${id}`);
  const teammateLark = await control.user(tenant.tenant_key, `Tess ${id}`);

  const ownerContext = await newContext(browser, baseURL);
  const page = await ownerContext.newPage();
  await signUp(page, owner);
  await createWorkspace(page, { name: workspaceName, slug, prefix: 'GATE' });
  await createEchoAgent(page, slug, echo);
  const app = await bindToLark(page, request, echo, ownerLark.id);
  await inviteTeammate(page, browser, baseURL, slug, teammate);
  await expectConnected(request, app);

  await control.dm(teammateLark.id, app, 'hello?');
  const { chat_id: dmChat } = await control.p2p(app, teammateLark.id);
  const card = await waitForMessage(request, dmChat, (m) => fromApp(app)(m) && bindLink.test(JSON.stringify(m.content)));
  const url = JSON.stringify(card.content).match(bindLink)?.[0] ?? '';

  // Someone signed in but not in the workspace is told so, and the link is not used up.
  const context = await newContext(browser, baseURL);
  const visitor = await context.newPage();
  await signUp(visitor, outsider);
  await visitor.goto(url);
  await expect(visitor.getByRole('heading', { name: t.lark.bind.forbiddenTitle })).toBeVisible();
  await expect(visitor.getByText(fill(t.lark.bind.forbiddenBody, { email: outsider.email }))).toBeVisible();

  // Switching to the member's account comes back to the same link, which binds on confirmation.
  await visitor.getByRole('button', { name: t.lark.bind.switchAccount, exact: true }).click();
  await expect(visitor).toHaveURL(/\/sign-in\?next=%2Flark%2Fbind%3Ftoken%3D/);
  await signIn(visitor, teammate);
  await visitor.getByRole('button', { name: t.lark.bind.confirm, exact: true }).click();
  await expect(visitor.getByRole('heading', { name: t.lark.bind.successTitle })).toBeVisible();
  await visitor.getByRole('link', { name: t.lark.bind.openChat, exact: true }).click();
  await expect(visitor).toHaveURL(new RegExp(`/w/${slug}/chat$`));

  await control.dm(teammateLark.id, app, `ping ${id}`);
  await waitForMessage(request, dmChat, (m) => fromApp(app)(m) && readable(m) === `You said: "ping ${id}"`);
  await context.close();
  await ownerContext.close();
});
