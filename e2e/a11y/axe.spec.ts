import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import en from '../../locales/en.json' with { type: 'json' };
import zhHans from '../../locales/zh-Hans.json' with { type: 'json' };
import { localeNames } from '../../i18n/locales';
import {
  account,
  bindLink,
  bindToLark,
  createEchoAgent,
  createWorkspace,
  expectConnected,
  fill,
  fromApp,
  nav,
  newContext,
  signUp,
  sim,
  uid,
  waitForMessage,
} from '../lark/support';

// Every main page, in English and in Chinese, checked by axe: no serious or critical violation.
// The workspace is set up once, in English; each language then visits the same pages.

type Messages = typeof en;
const catalogs: Record<'en' | 'zh-Hans', Messages> = { en, 'zh-Hans': zhHans };

/** Serious and critical violations, each as "rule: target, target" for a readable failure. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Waits for the page to settle (no spinner) and checks it; every page is checked even after a failure. */
async function check(page: Page, what: string) {
  await expect(page.locator('.spinner')).toHaveCount(0);
  const found = await seriousViolations(page);
  expect.soft(found, `axe on ${what}`).toEqual([]);
}

test('main pages have no serious accessibility violations, in en and zh-Hans', async ({ browser, baseURL, request }) => {
  test.setTimeout(300_000);
  const id = uid();
  const owner = account('owner', id);
  const slug = `a11y-${id}`;
  const agentName = `Echo ${id}`;
  const issueTitle = `Accessible issue ${id}`;

  const control = sim(request);
  const tenant = await control.tenant('feishu', `A11y ${id}`);
  const ownerLark = await control.user(tenant.tenant_key, `Olivia ${id}`);
  const strangerLark = await control.user(tenant.tenant_key, `Sam ${id}`);

  const context = await newContext(browser, baseURL);
  const page = await context.newPage();
  await signUp(page, owner);
  await createWorkspace(page, { name: `A11y ${id}`, slug, prefix: 'ACC' });
  await createEchoAgent(page, slug, agentName);
  const appId = await bindToLark(page, request, agentName, ownerLark.id);
  await expectConnected(request, appId);

  // A chat session with a reply, and an issue.
  await page.getByRole('link', { name: en.agents.chatWith, exact: true }).click();
  await page.getByRole('button', { name: en.chat.startChat, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/chat/[0-9a-f-]{36}$`));
  const chatPath = new URL(page.url()).pathname;
  const composer = page.getByRole('textbox', { name: en.chat.messageLabel, exact: true });
  await composer.fill('hello');
  await composer.press('Enter');
  await expect(page.getByRole('article', { name: fill(en.chat.messageFrom, { name: agentName }) })).toContainText('hello', { timeout: 30_000 });

  await nav(page).getByRole('link', { name: en.shell.nav.issues, exact: true }).click();
  await page.getByRole('button', { name: en.issues.newIssue, exact: true }).first().click();
  await page.getByLabel(en.issues.fields.title, { exact: true }).fill(issueTitle);
  await page.getByRole('button', { name: en.issues.create, exact: true }).click();
  await page.getByRole('link', { name: issueTitle }).click();
  await expect(page.getByRole('heading', { name: issueTitle })).toBeVisible();
  const issuePath = new URL(page.url()).pathname;

  // A binding link, as a Lark user who has not linked an account gets it.
  await control.dm(strangerLark.id, appId, 'hi');
  const { chat_id: dmChat } = await control.p2p(appId, strangerLark.id);
  const card = await waitForMessage(request, dmChat, (m) => fromApp(appId)(m) && bindLink.test(JSON.stringify(m.content)));
  const bindUrl = JSON.stringify(card.content).match(bindLink)?.[0] ?? '';
  expect(bindUrl).not.toBe('');

  for (const locale of ['en', 'zh-Hans'] as const) {
    const t = catalogs[locale];
    const base = baseURL ?? 'http://127.0.0.1:3210';
    // A signed-in person's language is their account's: they pick it in the account menu.
    await page.goto(`/w/${slug}/agents`);
    await page.getByRole('button', { name: new RegExp(`^(${en.shell.accountMenu}|${zhHans.shell.accountMenu})$`) }).click();
    await page.getByRole('menuitemradio', { name: localeNames[locale], exact: true }).click();
    await expect(page.locator('html')).toHaveAttribute('lang', locale);

    const signedOut = await browser.newContext({ baseURL: base });
    await signedOut.addCookies([{ name: 'NEXT_LOCALE', value: locale, url: base }]);
    const signIn = await signedOut.newPage();
    await signIn.goto('/sign-in');
    await expect(signIn.getByRole('heading', { name: t.auth.signInTitle })).toBeVisible();
    await check(signIn, `sign-in (${locale})`);
    await signedOut.close();

    const pages: [string, string][] = [
      [`chat (${locale})`, chatPath],
      [`agents (${locale})`, `/w/${slug}/agents`],
      [`issues (${locale})`, `/w/${slug}/issues`],
      [`issue detail (${locale})`, issuePath],
      [`settings, general (${locale})`, `/w/${slug}/settings`],
      [`settings, members (${locale})`, `/w/${slug}/settings/members`],
      [`settings, integrations (${locale})`, `/w/${slug}/settings/integrations`],
      [`guide (${locale})`, `/w/${slug}/guide`],
      [`binding page (${locale})`, new URL(bindUrl).pathname + new URL(bindUrl).search],
    ];
    for (const [what, path] of pages) {
      await page.goto(path);
      await expect(page.locator('html')).toHaveAttribute('lang', locale);
      await expect(page.locator('main').first()).toBeVisible();
      await check(page, what);
    }

    // The agent's page with the QR dialog open (a second bot for the same agent is not offered, so
    // a fresh agent opens it).
    const second = `Second ${id} ${locale}`;
    await page.goto(`/w/${slug}/agents/new`);
    await page.getByLabel(t.agents.form.name, { exact: true }).fill(second);
    await page.getByRole('radio', { name: new RegExp(t.agents.form.runtime_echo) }).check();
    await page.getByRole('button', { name: t.agents.create, exact: true }).click();
    await expect(page.getByRole('heading', { name: second, level: 1 })).toBeVisible();
    await check(page, `agent detail (${locale})`);
    await page.locator('[data-integration="lark"]').getByRole('button', { name: t.lark.bindToLark, exact: true }).click();
    const dialog = page.getByRole('dialog', { name: fill(t.lark.install.title, { name: second }) });
    await expect(dialog.getByRole('img', { name: fill(t.lark.install.qrLabel, { name: second }) })).toBeVisible();
    await check(page, `agent detail with the QR dialog open (${locale})`);
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
  }
  await context.close();
});
