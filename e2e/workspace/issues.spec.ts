import { expect, test, type Page } from '@playwright/test';
import { account, createEchoAgent, createWorkspace, inviteTeammate, nav, newContext, signIn, signUp, t, uid } from '../lark/support';

// Working an issue as a team: the owner files one, edits it, moves it through statuses, hands it to
// a teammate and then to an agent, and filters the list; the teammate, in their own browser, sees
// every change arrive without reloading.

const statusControl = (page: Page) => page.getByLabel(t.issues.fields.status, { exact: true });
const assigneeControl = (page: Page) => page.getByLabel(t.issues.fields.assignee, { exact: true });
const statusFilter = (page: Page) => page.getByRole('search', { name: t.issues.filters.label }).getByLabel(t.issues.filters.status, { exact: true });
const assigneeFilter = (page: Page) => page.getByRole('search', { name: t.issues.filters.label }).getByLabel(t.issues.filters.assignee, { exact: true });
const issueTable = (page: Page) => page.getByRole('table', { name: t.issues.title });

test('file, edit, move, assign and filter an issue while a teammate watches', async ({ browser, baseURL }) => {
  test.setTimeout(180_000);
  const id = uid();
  const owner = account('owner', id);
  const teammate = account('teammate', id);
  const slug = `issues-${id}`;
  const prefix = `I${id.replace(/[^a-z]/gi, '').slice(0, 3).toUpperCase().padEnd(3, 'X')}`;
  const agentName = `Triage ${id}`;
  const firstTitle = `Checkout fails ${id}`;
  const betterTitle = `Checkout fails on Safari ${id}`;
  const secondTitle = `Dark mode ${id}`;

  // The owner's workspace, an agent, and a teammate who joined by invitation.
  const ownerContext = await newContext(browser, baseURL);
  const page = await ownerContext.newPage();
  await signUp(page, owner);
  await createWorkspace(page, { name: `Issues ${id}`, slug, prefix });
  await createEchoAgent(page, slug, agentName);
  await inviteTeammate(page, browser, baseURL, slug, teammate);

  // The teammate signs in in their own browser and opens the issue list.
  const teammateContext = await newContext(browser, baseURL);
  const mate = await teammateContext.newPage();
  await mate.goto('/sign-in');
  await signIn(mate, teammate);
  await expect(mate).toHaveURL(new RegExp(`/w/${slug}/chat$`));
  await nav(mate).getByRole('link', { name: t.shell.nav.issues, exact: true }).click();
  await expect(mate.getByText(t.issues.emptyTitle, { exact: true })).toBeVisible();

  // The owner files an issue.
  await nav(page).getByRole('link', { name: t.shell.nav.issues, exact: true }).click();
  await page.getByRole('button', { name: t.issues.newIssue, exact: true }).first().click();
  const createDialog = page.getByRole('dialog', { name: t.issues.newIssue });
  await createDialog.getByLabel(t.issues.fields.title, { exact: true }).fill(firstTitle);
  await createDialog.getByLabel(t.issues.fields.description, { exact: true }).fill('The pay button spins forever.');
  await createDialog.getByRole('button', { name: t.issues.create, exact: true }).click();
  await expect(createDialog).toHaveCount(0);
  await expect(issueTable(page).getByRole('link', { name: firstTitle })).toBeVisible();

  // It appears on the teammate's list by itself, and they open it.
  await expect(issueTable(mate).getByRole('link', { name: firstTitle })).toBeVisible();
  await issueTable(mate).getByRole('link', { name: firstTitle }).click();
  await expect(mate.getByRole('heading', { name: firstTitle, level: 1 })).toBeVisible();

  // The owner opens it and improves the title and description.
  await issueTable(page).getByRole('link', { name: firstTitle }).click();
  await expect(page.getByRole('heading', { name: firstTitle, level: 1 })).toBeVisible();
  await expect(statusControl(page)).toHaveValue('todo');
  await page.getByRole('button', { name: t.issues.edit, exact: true }).click();
  const editDialog = page.getByRole('dialog');
  const titleField = editDialog.getByLabel(t.issues.fields.title, { exact: true });
  await expect(titleField).toHaveValue(firstTitle);
  await titleField.fill(betterTitle);
  await editDialog.getByLabel(t.issues.fields.description, { exact: true }).fill('The pay button spins forever on Safari 18.');
  await editDialog.getByRole('button', { name: t.issues.save, exact: true }).click();
  await expect(editDialog).toHaveCount(0);
  await expect(page.getByRole('heading', { name: betterTitle, level: 1 })).toBeVisible();
  await expect(page.getByText('The pay button spins forever on Safari 18.')).toBeVisible();

  // The teammate's open page follows.
  await expect(mate.getByRole('heading', { name: betterTitle, level: 1 })).toBeVisible();
  await expect(mate.getByText('The pay button spins forever on Safari 18.')).toBeVisible();

  // Through the statuses, each change reaching the teammate.
  for (const status of ['in_progress', 'done'] as const) {
    await statusControl(page).selectOption({ label: t.issues.status[status] });
    await expect(statusControl(page)).toHaveValue(status);
    await expect(statusControl(mate)).toHaveValue(status);
  }

  // Assigned to the teammate, then to the agent.
  await assigneeControl(page).selectOption({ label: teammate.name });
  await expect(assigneeControl(page)).toHaveValue(/^member:/);
  await expect(assigneeControl(mate)).toHaveValue(/^member:/);
  await expect(assigneeControl(mate).locator('option:checked')).toHaveText(teammate.name);
  await assigneeControl(page).selectOption({ label: agentName });
  await expect(assigneeControl(page)).toHaveValue(/^agent:/);
  await expect(assigneeControl(mate).locator('option:checked')).toHaveText(agentName);

  // A second issue, left as it is filed: to do, unassigned.
  await page.getByRole('navigation', { name: t.issues.breadcrumbs }).getByRole('link', { name: t.issues.title, exact: true }).click();
  await page.getByRole('button', { name: t.issues.newIssue, exact: true }).first().click();
  const secondDialog = page.getByRole('dialog', { name: t.issues.newIssue });
  await secondDialog.getByLabel(t.issues.fields.title, { exact: true }).fill(secondTitle);
  await secondDialog.getByRole('button', { name: t.issues.create, exact: true }).click();
  await expect(issueTable(page).getByRole('link', { name: secondTitle })).toBeVisible();
  const firstRow = issueTable(page).getByRole('row').filter({ hasText: betterTitle });
  await expect(firstRow).toContainText(t.issues.status.done);
  await expect(firstRow).toContainText(agentName);

  // Filters: by status, by assignee, and cleared.
  await statusFilter(page).selectOption({ label: t.issues.status.done });
  await expect(issueTable(page).getByRole('link', { name: betterTitle })).toBeVisible();
  await expect(issueTable(page).getByRole('link', { name: secondTitle })).toHaveCount(0);
  await statusFilter(page).selectOption({ label: t.issues.status.todo });
  await expect(issueTable(page).getByRole('link', { name: secondTitle })).toBeVisible();
  await expect(issueTable(page).getByRole('link', { name: betterTitle })).toHaveCount(0);
  await statusFilter(page).selectOption({ label: t.issues.filters.anyStatus });

  await assigneeFilter(page).selectOption({ label: agentName });
  await expect(issueTable(page).getByRole('link', { name: betterTitle })).toBeVisible();
  await expect(issueTable(page).getByRole('link', { name: secondTitle })).toHaveCount(0);
  await assigneeFilter(page).selectOption({ label: t.issues.filters.unassigned });
  await expect(issueTable(page).getByRole('link', { name: secondTitle })).toBeVisible();
  await expect(issueTable(page).getByRole('link', { name: betterTitle })).toHaveCount(0);
  await assigneeFilter(page).selectOption({ label: t.issues.filters.me });
  await expect(page.getByText(t.issues.filters.noMatchesTitle, { exact: true })).toBeVisible();
  await page.getByRole('button', { name: t.issues.filters.clear, exact: true }).first().click();
  await expect(issueTable(page).getByRole('link', { name: betterTitle })).toBeVisible();
  await expect(issueTable(page).getByRole('link', { name: secondTitle })).toBeVisible();

  // The teammate, back on their list, takes the second issue; the owner's "mine" list stays empty
  // and their list shows the new assignee without a reload.
  await mate.getByRole('navigation', { name: t.issues.breadcrumbs }).getByRole('link', { name: t.issues.title, exact: true }).click();
  await issueTable(mate).getByRole('link', { name: secondTitle }).click();
  await assigneeControl(mate).selectOption({ label: teammate.name });
  await expect(assigneeControl(mate)).toHaveValue(/^member:/);
  await expect(issueTable(page).getByRole('row').filter({ hasText: secondTitle })).toContainText(teammate.name);
  await assigneeFilter(page).selectOption({ label: teammate.name });
  await expect(issueTable(page).getByRole('link', { name: secondTitle })).toBeVisible();
  await expect(issueTable(page).getByRole('link', { name: betterTitle })).toHaveCount(0);

  await teammateContext.close();
  await ownerContext.close();
});
