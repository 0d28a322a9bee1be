import { expect, test, type Page } from '@playwright/test';
import { account, createWorkspace, fill, newContext, signUp, t, uid } from '../lark/support';

// Two people, two browsers: the owner invites by link from Settings → Members, the invitee opens
// it, creates an account from it and accepts; the owner sees them join. Spent and revoked links
// then explain themselves.

const membersList = (page: Page) => page.getByRole('list', { name: t.settings.members.title, exact: true });
const pendingList = (page: Page) => page.getByRole('list', { name: t.settings.members.pendingTitle, exact: true });

test('invite a teammate by link: create, open, sign up, accept, and see them join', async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const id = uid();
  const owner = account('owner', id);
  const invitee = account('invitee', id);
  const slug = `inv-${id}`;
  const workspaceName = `Invites ${id}`;

  // The owner signs up and creates a workspace.
  const ownerContext = await newContext(browser, baseURL);
  const page = await ownerContext.newPage();
  await signUp(page, owner);
  await createWorkspace(page, { name: workspaceName, slug, prefix: 'INV' });

  // Settings → Members: an invitation for the invitee's email, as an admin.
  await page.getByRole('navigation', { name: t.shell.mainNav, exact: true }).getByRole('link', { name: t.shell.nav.settings, exact: true }).click();
  await page.getByRole('navigation', { name: t.settings.tabsLabel }).getByRole('link', { name: t.settings.tabs.members, exact: true }).click();
  await expect(page.getByText(t.settings.members.pendingEmpty)).toBeVisible();
  await page.getByLabel(t.settings.members.inviteEmail, { exact: true }).fill(invitee.email);
  await page.getByLabel(t.settings.members.role, { exact: true }).selectOption('admin');
  await expect(page.getByLabel(t.settings.members.expiresIn, { exact: true })).toHaveValue('7');
  await page.getByRole('button', { name: t.settings.members.createInvite, exact: true }).click();
  await expect(page.getByText(fill(t.settings.members.inviteCreatedFor, { email: invitee.email }))).toBeVisible();
  const linkField = page.getByLabel(t.settings.members.inviteLink, { exact: true });
  await expect(linkField).toHaveValue(/\/invite\/[A-Za-z0-9_-]{43}$/);
  const link = await linkField.inputValue();
  await expect(pendingList(page).getByRole('listitem', { name: invitee.email })).toBeVisible();

  // The invitee opens the link signed out: it says what it is and where it leads.
  const inviteeContext = await newContext(browser, baseURL);
  const invitePage = await inviteeContext.newPage();
  await invitePage.goto(link);
  await expect(invitePage.getByRole('heading', { name: fill(t.invitation.heading, { workspace: workspaceName }) })).toBeVisible();
  await expect(
    invitePage.getByText(fill(t.invitation.body, { inviter: owner.name, workspace: workspaceName, role: t.roles.admin })),
  ).toBeVisible();
  await expect(invitePage.getByText(fill(t.invitation.forEmail, { email: invitee.email }))).toBeVisible();
  await expect(invitePage.getByRole('button', { name: t.invitation.accept })).toHaveCount(0);

  // They create an account from it (the email is the invited one) and come back to accept.
  await invitePage.getByRole('link', { name: t.invitation.createAccount, exact: true }).click();
  await expect(invitePage.getByText(fill(t.auth.signUpInviteSubtitle, { workspace: workspaceName }))).toBeVisible();
  await invitePage.getByLabel(t.auth.name, { exact: true }).fill(invitee.name);
  await expect(invitePage.getByLabel(t.auth.email, { exact: true })).toHaveValue(invitee.email);
  await invitePage.getByLabel(t.auth.password, { exact: true }).fill(invitee.password);
  await invitePage.getByRole('button', { name: t.auth.signUp, exact: true }).click();
  await expect(invitePage).toHaveURL(new RegExp(`/invite/[A-Za-z0-9_-]{43}$`));
  await expect(invitePage.getByText(fill(t.invitation.signedInAs, { email: invitee.email }))).toBeVisible();
  await invitePage.getByRole('button', { name: t.invitation.accept, exact: true }).click();
  await expect(invitePage).toHaveURL(new RegExp(`/w/${slug}/chat$`));
  await expect(invitePage.getByRole('button', { name: fill(t.shell.switchWorkspace, { name: workspaceName }) })).toBeVisible();

  // The owner's open members page updates by itself: a new admin, no pending invitation.
  await expect(membersList(page).getByText(invitee.email)).toBeVisible();
  await expect(page.getByLabel(fill(t.settings.members.roleFor, { name: invitee.name }))).toHaveValue('admin');
  await expect(page.getByText(t.settings.members.pendingEmpty)).toBeVisible();

  // The same link, opened again by someone else: already used.
  const strangerContext = await newContext(browser, baseURL);
  const strangerPage = await strangerContext.newPage();
  await strangerPage.goto(link);
  await expect(strangerPage.getByRole('heading', { name: t.invitation.acceptedTitle })).toBeVisible();

  // A link for anyone, revoked before use, explains that too.
  await page.getByRole('button', { name: t.settings.members.createInvite, exact: true }).click();
  await expect(page.getByText(t.settings.members.inviteCreatedAnyone)).toBeVisible();
  const revokedLink = await linkField.inputValue();
  const row = pendingList(page).getByRole('listitem', { name: t.settings.members.anyoneWithLink });
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: fill(t.settings.members.revokeInvite, { who: t.settings.members.anyoneWithLink }) }).click();
  await expect(page.getByText(t.settings.members.pendingEmpty)).toBeVisible();
  await strangerPage.goto(revokedLink);
  await expect(strangerPage.getByRole('heading', { name: t.invitation.revokedTitle })).toBeVisible();

  await strangerContext.close();
  await inviteeContext.close();
  await ownerContext.close();
});
