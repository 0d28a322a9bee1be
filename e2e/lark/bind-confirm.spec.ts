import { test, expect } from '@playwright/test';
import {
  account,
  bindLink,
  bindToLark,
  createEchoAgent,
  createWorkspace,
  expectConnected,
  fromApp,
  createInviteLink,
  joinThroughInvite,
  newContext,
  signIn,
  signUp,
  sim,
  t,
  uid,
  waitForMessage,
} from './support';

// Mallory, a Lark user of the same tenant, DMs the bot and forwards the binding link she gets to a
// workspace member. The member opening it must see that it is Mallory's Lark account, and nothing
// may be bound (Mallory still cannot talk to the agent as the member) until the member confirms.

test('a binding link made for someone else names their Lark account and binds nothing until confirmed', async ({ browser, baseURL, request }) => {
  test.setTimeout(180_000);
  const id = uid();
  const owner = account('owner', id);
  const member = account('member', id);
  const slug = `lark-confirm-${id}`;
  const workspaceName = `Lark Confirm ${id}`;
  const echo = `Guard ${id}`;
  const control = sim(request);
  const tenant = await control.tenant('feishu', `Confirm Co ${id}`);
  const ownerLark = await control.user(tenant.tenant_key, `Olga ${id}`);
  const malloryName = `Mallory ${id}`;
  const mallory = await control.user(tenant.tenant_key, malloryName);

  const ownerContext = await newContext(browser, baseURL);
  const page = await ownerContext.newPage();
  await signUp(page, owner);
  await createWorkspace(page, { name: workspaceName, slug, prefix: 'CONF' });
  await createEchoAgent(page, slug, echo);
  const app = await bindToLark(page, request, echo, ownerLark.id);
  await joinThroughInvite(browser, baseURL, await createInviteLink(page, slug), member, slug);
  await expectConnected(request, app);

  // Mallory gets a link for her own Lark identity.
  await control.dm(mallory.id, app, 'hello bot');
  const { chat_id: malloryChat } = await control.p2p(app, mallory.id);
  const card = await waitForMessage(request, malloryChat, (m) => fromApp(app)(m) && bindLink.test(JSON.stringify(m.content)));
  const url = JSON.stringify(card.content).match(bindLink)?.[0] ?? '';
  const token = new URL(url).searchParams.get('token') ?? '';

  // The member opens it signed out: the page says why to sign in instead of redirecting blindly.
  const memberContext = await newContext(browser, baseURL);
  const memberPage = await memberContext.newPage();
  await memberPage.goto(url);
  await expect(memberPage).toHaveURL(/\/lark\/bind\?token=/);
  await expect(memberPage.getByText(t.lark.bind.signedOutBody)).toBeVisible();
  await memberPage.getByRole('link', { name: t.lark.bind.signInToContinue, exact: true }).click();
  await signIn(memberPage, member);

  // Back on the link: it names Mallory as Lark reports her, the bot, the workspace and the member.
  await expect(memberPage).toHaveURL(/\/lark\/bind\?token=/);
  await expect(memberPage.getByRole('heading', { name: t.lark.bind.confirmTitle })).toBeVisible();
  await expect(memberPage.locator('[data-field="lark-user"]')).toHaveText(malloryName);
  await expect(memberPage.locator('[data-field="agent"]')).toHaveText(echo);
  await expect(memberPage.locator('[data-field="workspace"]')).toHaveText(workspaceName);
  await expect(memberPage.locator('[data-field="account"]')).toContainText(member.email);

  // Nothing is bound: the link is unused (the API still previews it), and Mallory still cannot
  // reach the agent.
  const stillUnused = await memberPage.request.get(`/api/lark/binding/preview?token=${encodeURIComponent(token)}`);
  expect(stillUnused.status()).toBe(200);
  const probe = await control.dm(mallory.id, app, `as the member? ${id}`);
  await expect
    .poll(async () => (await control.deliveries(app)).find((d) => d.im_message_id === probe.message_id)?.status, { timeout: 15_000 })
    .toBe('acked');
  expect((await control.transcript(malloryChat)).filter((m) => fromApp(app)(m) && JSON.stringify(m.content).includes('You said'))).toEqual([]);

  // Declining leaves everything as it was; a reload still asks.
  await memberPage.getByRole('link', { name: t.lark.bind.decline, exact: true }).click();
  await memberPage.goto(url);
  await expect(memberPage.getByRole('heading', { name: t.lark.bind.confirmTitle })).toBeVisible();
  expect((await memberPage.request.get(`/api/lark/binding/preview?token=${encodeURIComponent(token)}`)).status()).toBe(200);

  // Only the explicit confirmation binds, and uses the link up.
  await memberPage.getByRole('button', { name: t.lark.bind.confirm, exact: true }).click();
  await expect(memberPage.getByRole('heading', { name: t.lark.bind.successTitle })).toBeVisible();
  expect((await memberPage.request.get(`/api/lark/binding/preview?token=${encodeURIComponent(token)}`)).status()).toBe(410);

  await memberContext.close();
  await ownerContext.close();
});
