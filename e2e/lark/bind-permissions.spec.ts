import { test, expect } from '@playwright/test';
import { account, createEchoAgent, createWorkspace, installDialog, inviteTeammate, larkBlock, newContext, qrUserCode, signIn, signUp, t, uid } from './support';

// The agent page offers "Bind to Lark" exactly to the people the server lets bind that agent: a
// plain member sees no button on someone else's agent (and the server refuses them), but does on
// their own agent, where the install goes through.

test('a plain member sees "Bind to Lark" only on the agents the server lets them bind', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  const id = uid();
  const owner = account('owner', id);
  const member = account('member', id);
  const slug = `lark-perm-${id}`;
  const ownersAgent = `Owner Echo ${id}`;
  const membersAgent = `Member Echo ${id}`;

  const ownerContext = await newContext(browser, baseURL);
  const ownerPage = await ownerContext.newPage();
  await signUp(ownerPage, owner);
  await createWorkspace(ownerPage, { name: `Lark Permissions ${id}`, slug, prefix: 'LKP' });
  const ownersAgentPath = await createEchoAgent(ownerPage, slug, ownersAgent);
  // The owner may bind their agent.
  await expect(larkBlock(ownerPage).getByRole('button', { name: t.lark.bindToLark, exact: true })).toBeVisible();
  await inviteTeammate(ownerPage, browser, baseURL, slug, member);

  const memberContext = await newContext(browser, baseURL);
  const page = await memberContext.newPage();
  await page.goto(ownersAgentPath);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await signIn(page, member);
  await expect(page.getByRole('heading', { name: ownersAgent, level: 1 })).toBeVisible();
  await expect(larkBlock(page).getByText(t.lark.agent.noPermission)).toBeVisible();
  await expect(larkBlock(page).getByRole('button', { name: t.lark.bindToLark })).toHaveCount(0);

  // The server agrees: the same member, asking directly, is refused.
  const workspace = (await (await page.request.get(`/api/workspaces/by-slug/${slug}`)).json()) as { workspace: { id: string } };
  const ownersAgentId = ownersAgentPath.split('/').pop() ?? '';
  const refused = await page.request.post(`/api/workspaces/${workspace.workspace.id}/lark/install/begin`, { data: { agent_id: ownersAgentId } });
  expect(refused.status()).toBe(403);

  // On their own agent the button is there, and binding starts: the server accepts them.
  await createEchoAgent(page, slug, membersAgent);
  await expect(larkBlock(page).getByText(t.lark.agent.noPermission)).toHaveCount(0);
  await larkBlock(page).getByRole('button', { name: t.lark.bindToLark, exact: true }).click();
  await expect(installDialog(page, membersAgent)).toBeVisible();
  await qrUserCode(page, membersAgent);

  await memberContext.close();
  await ownerContext.close();
});
