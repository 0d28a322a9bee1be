import { expect, test } from '@playwright/test';
import { account, createEchoAgent, createWorkspace, signUp, t, uid } from '../lark/support';

// On a phone-sized screen the chat page lists the conversations first; the form to start another
// comes after them, and a long title ends in an ellipsis instead of running under the date.

test('at 400 px the conversation list comes before the new-chat form, and long titles stay on one line', async ({ browser, baseURL }) => {
  const id = uid();
  const owner = account('owner', id);
  const slug = `narrow-${id}`;
  const context = await browser.newContext({ baseURL: baseURL ?? 'http://127.0.0.1:3210', viewport: { width: 400, height: 800 } });
  await context.addCookies([{ name: 'NEXT_LOCALE', value: 'en', url: baseURL ?? 'http://127.0.0.1:3210' }]);
  const page = await context.newPage();
  await signUp(page, owner);
  await createWorkspace(page, { name: `Narrow ${id}`, slug, prefix: 'NAR' });
  await createEchoAgent(page, slug, `Echo ${id}`);

  const longTitle = `A conversation with a title far too long to fit on one line of a phone ${id}`;
  await page.goto(`/w/${slug}/chat`);
  const form = page.getByRole('region', { name: t.chat.newChatTitle, exact: true });
  await form.getByLabel(t.chat.sessionTitle, { exact: true }).fill(longTitle);
  await form.getByRole('button', { name: t.chat.startChat, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/chat/[0-9a-f-]{36}$`));

  await page.goto(`/w/${slug}/chat`);
  const list = page.getByRole('navigation', { name: t.chat.sessionsLabel, exact: true });
  const row = list.getByRole('link', { name: new RegExp(id) });
  await expect(row).toBeVisible();
  await expect(form).toBeVisible();
  const listBox = await list.boundingBox();
  const formBox = await form.boundingBox();
  expect(listBox && formBox && listBox.y + listBox.height <= formBox.y + 1).toBe(true);

  // The title is cut with an ellipsis inside the row and the full text is kept as the row's tooltip.
  await expect(row).toHaveAttribute('title', longTitle);
  const title = row.getByText(longTitle, { exact: true });
  await expect(title).toBeVisible();
  const clipped = await title.evaluate((el) => el.scrollWidth > el.clientWidth && getComputedStyle(el).textOverflow === 'ellipsis');
  expect(clipped).toBe(true);
  const rowBox = await row.boundingBox();
  expect(rowBox && rowBox.x + rowBox.width <= 400).toBe(true);
  await context.close();
});
