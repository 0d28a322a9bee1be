import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import en from '../../locales/en.json' with { type: 'json' };
import zhHans from '../../locales/zh-Hans.json' with { type: 'json' };

// The core workspace journey, once per language: sign up, create a workspace and an echo agent,
// chat with a live reply, file an issue, invite a teammate, and check what a plain member may do.

type Messages = typeof en;
const catalogs: Record<'en' | 'zh-Hans', Messages> = { en, 'zh-Hans': zhHans };

/** Fills `{name}`-style placeholders the way the UI does for simple messages. */
function fill(message: string, values: Record<string, string>): string {
  return message.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}


function uid(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

function randomPrefix(): string {
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
  let out = 'Q';
  for (let i = 0; i < 3; i++) out += letters[Math.floor(Math.random() * letters.length)];
  return out;
}

async function newLocalizedContext(browser: Browser, baseURL: string, locale: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL });
  await context.addCookies([{ name: 'NEXT_LOCALE', value: locale, url: baseURL }]);
  return context;
}

/** The workspace sidebar, where Chat, Agents, Issues and Settings live. */
const nav = (page: Page, t: Messages) => page.getByRole('navigation', { name: t.shell.mainNav, exact: true });

type Account = { name: string; email: string; password: string };

async function signUp(page: Page, t: Messages, account: Account) {
  await page.goto('/sign-up');
  await expect(page.getByRole('heading', { name: t.auth.signUpTitle })).toBeVisible();
  await page.getByLabel(t.auth.name, { exact: true }).fill(account.name);
  await page.getByLabel(t.auth.email, { exact: true }).fill(account.email);
  await page.getByLabel(t.auth.password, { exact: true }).fill(account.password);
  await page.getByRole('button', { name: t.auth.signUp, exact: true }).click();
  await expect(page).toHaveURL(/\/workspaces\/new$/);
}

for (const locale of ['en', 'zh-Hans'] as const) {
  test(`core workspace journey (${locale})`, async ({ browser, baseURL }) => {
    test.setTimeout(120_000);
    const t = catalogs[locale];
    const base = baseURL ?? 'http://localhost:3000';
    const id = uid();
    const owner: Account = { name: `Olivia ${id}`, email: `owner-${id}@example.test`, password: `pw-${id}-owner` };
    const teammate: Account = { name: `Max ${id}`, email: `member-${id}@example.test`, password: `pw-${id}-member` };
    const slug = `e2e-${id}`;
    const prefix = randomPrefix();
    const workspaceName = `E2E ${id}`;
    const agentName = `Echo ${id}`;

    const ownerContext = await newLocalizedContext(browser, base, locale);
    const page = await ownerContext.newPage();

    // Sign up and create a workspace.
    await signUp(page, t, owner);
    await expect(page.locator('html')).toHaveAttribute('lang', locale);
    await page.getByLabel(t.workspaces.create.name, { exact: true }).fill(workspaceName);
    await page.getByLabel(t.workspaces.create.slug, { exact: true }).fill(slug);
    await page.getByLabel(t.workspaces.create.issuePrefix, { exact: true }).fill(prefix);
    await page.getByRole('button', { name: t.workspaces.create.submit, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${slug}/chat$`));

    // Create an echo agent.
    await nav(page, t).getByRole('link', { name: t.shell.nav.agents, exact: true }).click();
    await expect(page.getByRole('heading', { name: t.agents.title, level: 1 })).toBeVisible();
    await page.getByRole('link', { name: t.agents.newAgent, exact: true }).first().click();
    await page.getByLabel(t.agents.form.name, { exact: true }).fill(agentName);
    await page.getByRole('radio', { name: new RegExp(t.agents.form.runtime_echo) }).check();
    await page.getByRole('button', { name: t.agents.create, exact: true }).click();
    await expect(page.getByRole('heading', { name: agentName, level: 1 })).toBeVisible();

    // Start a chat and watch the reply arrive without reloading.
    await page.getByRole('link', { name: t.agents.chatWith, exact: true }).click();
    await expect(page.getByLabel(t.chat.agent, { exact: true })).toHaveValue(/.+/);
    await page.getByRole('button', { name: t.chat.startChat, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${slug}/chat/[0-9a-f-]{36}$`));
    const text = `hello from e2e ${id}`;
    const composer = page.getByRole('textbox', { name: t.chat.messageLabel, exact: true });
    await composer.fill(text);
    await composer.press('Enter');
    await expect(composer).toHaveValue('');
    const mine = page.getByRole('article', { name: fill(t.chat.messageFrom, { name: owner.name }) });
    await expect(mine).toContainText(text);
    const reply = page.getByRole('article', { name: fill(t.chat.messageFrom, { name: agentName }) });
    await expect(reply).toContainText(text, { timeout: 30_000 });

    // File an issue; the workspace counter makes it PREFIX-1.
    await nav(page, t).getByRole('link', { name: t.shell.nav.issues, exact: true }).click();
    await page.getByRole('button', { name: t.issues.newIssue, exact: true }).first().click();
    await page.getByLabel(t.issues.fields.title, { exact: true }).fill(`First issue ${id}`);
    await page.getByLabel(t.issues.fields.description, { exact: true }).fill('Filed from the e2e suite.');
    await page.getByRole('button', { name: t.issues.create, exact: true }).click();
    await expect(page.getByRole('link', { name: `${prefix}-1`, exact: true })).toBeVisible();
    await expect(page.getByRole('link', { name: `First issue ${id}` })).toBeVisible();

    // Invite the teammate: the owner creates a link in Settings → Members.
    await nav(page, t).getByRole('link', { name: t.shell.nav.settings, exact: true }).click();
    await page.getByRole('navigation', { name: t.settings.tabsLabel }).getByRole('link', { name: t.settings.tabs.members, exact: true }).click();
    await page.getByLabel(t.settings.members.inviteEmail, { exact: true }).fill(teammate.email);
    await expect(page.getByLabel(t.settings.members.role, { exact: true })).toHaveValue('member');
    await page.getByRole('button', { name: t.settings.members.createInvite, exact: true }).click();
    const link = await page.getByLabel(t.settings.members.inviteLink, { exact: true }).inputValue();
    expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);

    // The teammate opens it, creates an account from it and accepts.
    const teammateSignUp = await newLocalizedContext(browser, base, locale);
    const invitePage = await teammateSignUp.newPage();
    await invitePage.goto(link);
    await expect(invitePage.getByRole('heading', { name: fill(t.invitation.heading, { workspace: workspaceName }) })).toBeVisible();
    await invitePage.getByRole('link', { name: t.invitation.createAccount, exact: true }).click();
    await invitePage.getByLabel(t.auth.name, { exact: true }).fill(teammate.name);
    await expect(invitePage.getByLabel(t.auth.email, { exact: true })).toHaveValue(teammate.email);
    await invitePage.getByLabel(t.auth.password, { exact: true }).fill(teammate.password);
    await invitePage.getByRole('button', { name: t.auth.signUp, exact: true }).click();
    await invitePage.getByRole('button', { name: t.invitation.accept, exact: true }).click();
    await expect(invitePage).toHaveURL(new RegExp(`/w/${slug}/chat$`));
    await teammateSignUp.close();

    const members = page.getByRole('list', { name: t.settings.members.title, exact: true });
    await expect(members.getByText(teammate.email)).toBeVisible();
    // The owner may change the teammate's role.
    await expect(page.getByLabel(fill(t.settings.members.roleFor, { name: teammate.name }))).toBeEnabled();

    // The teammate signs in and lands in the workspace.
    const memberContext = await newLocalizedContext(browser, base, locale);
    const memberPage = await memberContext.newPage();
    await memberPage.goto(`/w/${slug}/settings/members`);
    await expect(memberPage).toHaveURL(/\/sign-in\?next=/);
    await memberPage.getByLabel(t.auth.email, { exact: true }).fill(teammate.email);
    await memberPage.getByLabel(t.auth.password, { exact: true }).fill(teammate.password);
    await memberPage.getByRole('button', { name: t.auth.signIn, exact: true }).click();
    await expect(memberPage).toHaveURL(new RegExp(`/w/${slug}/settings/members$`));
    await expect(memberPage.getByRole('button', { name: fill(t.shell.switchWorkspace, { name: workspaceName }) })).toBeVisible();

    // A plain member sees everyone but cannot change roles or add people.
    const memberList = memberPage.getByRole('list', { name: t.settings.members.title, exact: true });
    await expect(memberList.getByText(owner.email)).toBeVisible();
    await expect(memberList.getByText(teammate.email)).toBeVisible();
    await expect(memberPage.getByText(t.settings.members.memberNotice)).toBeVisible();
    await expect(memberPage.getByRole('combobox')).toHaveCount(0);
    await expect(memberPage.getByLabel(fill(t.settings.members.roleFor, { name: owner.name }))).toHaveCount(0);
    await expect(memberPage.getByLabel(fill(t.settings.members.roleFor, { name: teammate.name }))).toHaveCount(0);
    await expect(memberPage.getByRole('button', { name: t.settings.members.createInvite, exact: true })).toHaveCount(0);

    // The workspace is the member's home now, and its issues are shared.
    await memberPage.goto('/');
    await expect(memberPage).toHaveURL(new RegExp(`/w/${slug}/chat$`));
    await nav(memberPage, t).getByRole('link', { name: t.shell.nav.issues, exact: true }).click();
    await expect(memberPage.getByRole('link', { name: `${prefix}-1`, exact: true })).toBeVisible();

    await memberContext.close();
    await ownerContext.close();
  });
}
