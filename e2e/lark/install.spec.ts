import { test, expect } from '@playwright/test';
import {
  account,
  bindToLark,
  createEchoAgent,
  createWorkspace,
  expectConnected,
  fill,
  installDialog,
  larkBlock,
  newContext,
  nav,
  signIn,
  signUp,
  inviteTeammate,
  qrUserCode,
  sim,
  simUrl,
  t,
  uid,
  botList,
  botRow,
} from './support';

// An admin binds two agents to bots approved on each brand, sees them in Settings → Integrations,
// a plain member sees the same list read-only, and disconnecting one closes its Lark connection.

test('install bots on Feishu and Lark, list them, disconnect one', async ({ browser, baseURL, request }) => {
  test.setTimeout(180_000);
  const id = uid();
  const admin = account('admin', id);
  const teammate = account('member', id);
  const slug = `lark-install-${id}`;
  const feishuAgent = `Feishu Echo ${id}`;
  const larkAgent = `Lark Echo ${id}`;

  const control = sim(request);
  const feishuTenant = await control.tenant('feishu', `Feishu Co ${id}`);
  const larkTenant = await control.tenant('lark', `Lark Inc ${id}`);
  const feishuUser = await control.user(feishuTenant.tenant_key, `Fang ${id}`);
  const larkUser = await control.user(larkTenant.tenant_key, `Lena ${id}`);

  const adminContext = await newContext(browser, baseURL);
  const page = await adminContext.newPage();
  await signUp(page, admin);
  await createWorkspace(page, { name: `Lark Install ${id}`, slug, prefix: 'LKI' });

  // The first agent's bot is approved by someone on Feishu.
  const feishuAgentPath = await createEchoAgent(page, slug, feishuAgent);
  const feishuApp = await bindToLark(page, request, feishuAgent, feishuUser.id);
  await expect(page.locator('[data-integration="lark"]').getByText(t.lark.region.feishu, { exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: t.lark.manage })).toHaveAttribute('href', `${simUrl}/feishu/app/${feishuApp}`);

  // The second one by someone on Lark: the session began on Feishu and follows the approver's brand.
  await createEchoAgent(page, slug, larkAgent);
  const larkApp = await bindToLark(page, request, larkAgent, larkUser.id);
  await expect(page.locator('[data-integration="lark"]').getByText(t.lark.region.lark, { exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: t.lark.manage })).toHaveAttribute('href', `${simUrl}/lark/app/${larkApp}`);
  expect((await control.app(larkApp)).brand).toBe('lark');

  // Settings → Integrations lists both, each with its brand and health.
  await nav(page).getByRole('link', { name: t.shell.nav.settings, exact: true }).click();
  await page.getByRole('navigation', { name: t.settings.tabsLabel }).getByRole('link', { name: t.settings.tabs.integrations, exact: true }).click();
  await expect(page.getByRole('heading', { name: t.lark.integrations.title, exact: true, level: 2 })).toBeVisible();
  await expect(botList(page).getByRole('listitem')).toHaveCount(2);
  await expect(botRow(page, feishuAgent).getByText(t.lark.region.feishu, { exact: true })).toBeVisible();
  await expect(botRow(page, larkAgent).getByText(t.lark.region.lark, { exact: true })).toBeVisible();
  await expect(botRow(page, feishuAgent).getByText(feishuApp)).toBeVisible();
  await expect(botRow(page, feishuAgent).getByRole('link', { name: t.lark.manage })).toHaveAttribute('target', '_blank');
  await expect(botRow(page, larkAgent).getByRole('link', { name: t.lark.manage })).toHaveAttribute('href', `${simUrl}/lark/app/${larkApp}`);
  await expectConnected(request, feishuApp);
  await expectConnected(request, larkApp);
  // The listing refreshes connection state by itself.
  await expect(botRow(page, feishuAgent).getByText(t.lark.connection.connected, { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(botRow(page, feishuAgent).getByRole('button', { name: fill(t.lark.integrations.disconnectLabel, { name: feishuAgent }) })).toBeVisible();

  // A plain member sees the same bots but may not disconnect them.
  await inviteTeammate(page, browser, baseURL, slug, teammate);
  const memberContext = await newContext(browser, baseURL);
  const memberPage = await memberContext.newPage();
  await memberPage.goto(`/w/${slug}/settings/integrations`);
  await expect(memberPage).toHaveURL(/\/sign-in\?next=/);
  await signIn(memberPage, teammate);
  await expect(memberPage).toHaveURL(new RegExp(`/w/${slug}/settings/integrations$`));
  await expect(botList(memberPage).getByRole('listitem')).toHaveCount(2);
  await expect(botRow(memberPage, feishuAgent).getByText(t.lark.region.feishu, { exact: true })).toBeVisible();
  await expect(botRow(memberPage, larkAgent).getByText(t.lark.region.lark, { exact: true })).toBeVisible();
  await expect(botRow(memberPage, feishuAgent).getByRole('link', { name: t.lark.manage })).toBeVisible();
  await expect(memberPage.getByRole('button', { name: new RegExp(t.lark.integrations.disconnect) })).toHaveCount(0);

  // The admin disconnects the Feishu bot, after confirming.
  await page.goto(`/w/${slug}/settings/integrations`);
  await botRow(page, feishuAgent).getByRole('button', { name: fill(t.lark.integrations.disconnectLabel, { name: feishuAgent }) }).click();
  const confirm = page.getByRole('alertdialog', { name: fill(t.lark.integrations.disconnectTitle, { name: feishuAgent }) });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: t.lark.integrations.disconnectConfirm, exact: true }).click();
  await expect(confirm).toBeHidden();
  await expect(botRow(page, feishuAgent).getByText(t.lark.revoked, { exact: true })).toBeVisible();
  await expect(botRow(page, feishuAgent).getByRole('button', { name: new RegExp(t.lark.integrations.disconnect) })).toHaveCount(0);
  await expect(botRow(page, larkAgent).getByText(t.lark.revoked, { exact: true })).toHaveCount(0);

  // The worker drops the bot's connection at once; the other bot stays connected.
  await expect.poll(async () => (await control.app(feishuApp)).connections, { timeout: 5_000 }).toBe(0);
  expect((await control.app(larkApp)).connections).toBeGreaterThan(0);

  // The member's open page follows along without a reload.
  await expect(botRow(memberPage, feishuAgent).getByText(t.lark.revoked, { exact: true })).toBeVisible();

  // The agent can be bound again now.
  await page.goto(feishuAgentPath);
  await expect(page.getByRole('heading', { name: feishuAgent, level: 1 })).toBeVisible();
  await expect(page.locator('[data-integration="lark"]').getByRole('button', { name: t.lark.bindToLark, exact: true })).toBeVisible();

  await memberContext.close();
  await adminContext.close();
});

test('a declined scan says so and can be scanned again', async ({ browser, baseURL, request }) => {
  test.setTimeout(120_000);
  const id = uid();
  const admin = account('admin', id);
  const slug = `lark-deny-${id}`;
  const agentName = `Careful Echo ${id}`;
  const control = sim(request);
  const tenant = await control.tenant('feishu', `Careful Co ${id}`);
  const approver = await control.user(tenant.tenant_key, `Chen ${id}`);

  const context = await newContext(browser, baseURL);
  const page = await context.newPage();
  await signUp(page, admin);
  await createWorkspace(page, { name: `Lark Deny ${id}`, slug, prefix: 'LKD' });
  await createEchoAgent(page, slug, agentName);

  await larkBlock(page).getByRole('button', { name: t.lark.bindToLark, exact: true }).click();
  const dialog = installDialog(page, agentName);
  const declined = await qrUserCode(page, agentName);
  await control.deny(declined);
  await expect(dialog.getByText(t.lark.install.reasons.access_denied)).toBeVisible({ timeout: 30_000 });

  // Scanning again starts a new session with a new code, which then goes through.
  await dialog.getByRole('button', { name: t.lark.install.scanAgain, exact: true }).click();
  const fresh = await qrUserCode(page, agentName);
  expect(fresh).not.toBe(declined);
  await control.approve(fresh, approver.id);
  await expect(dialog).toBeHidden({ timeout: 30_000 });
  await expect(larkBlock(page).getByText(t.lark.connected, { exact: true })).toBeVisible();
  await expect(larkBlock(page).getByText(fill(t.lark.agent.installed, { name: agentName }))).toBeVisible();
  await context.close();
});
