import { test, expect, type Locator, type Page } from '@playwright/test';
import {
  fill,
  larkActAs,
  larkMessage,
  larkMessageId,
  larkMessages,
  larkOpenDm,
  larkSend,
  larkTranscript,
  setUpLiveLark as setUp,
  openWebConversation,
  sim,
  simUrl,
  t,
  webMessage,
} from './support';

// Conversations that feel alive, as a person sees them: in the Lark client (the simulator's UI) and
// in the web app. Answers stream into cards and into the web chat, Stop stops one, a recalled
// question takes its answer with it, a topic is a conversation of its own, and the binding card's
// button opens the binding page.

/** What a streaming card in the Lark client shows right now: whether it is generating, and its answer text. */
async function cardState(card: Locator): Promise<{ generating: boolean; text: string }> {
  return card.evaluate((el) => ({
    generating: el.querySelector('[data-testid="card-generating"]') !== null,
    text: el.querySelector('.card-body .md')?.textContent?.trim() ?? '',
  }));
}

/** Watches a card in the Lark client until it has shown `count` different lengths of its answer while generating. */
async function watchCardGrow(card: Locator, count: number, timeout: number): Promise<number[]> {
  const lengths = new Set<number>();
  await expect
    .poll(
      async () => {
        const state = await cardState(card);
        if (state.generating && state.text.length > 0) lengths.add(state.text.length);
        return lengths.size;
      },
      { timeout, intervals: [100] },
    )
    .toBeGreaterThanOrEqual(count);
  return [...lengths];
}

/** Waits for the bot's streaming card in the Lark client and returns a locator that stays on that message. */
async function streamingCard(lark: Page): Promise<Locator> {
  const growing = larkMessages(lark, 'app').filter({ has: lark.getByTestId('card-generating') });
  await expect(growing).toHaveCount(1, { timeout: 30_000 });
  return larkMessage(lark, await larkMessageId(growing));
}

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i + 1}`).join(' ');

test('an answer streams into the Lark card and into the web chat, then stays once', async ({ browser, baseURL, request }) => {
  test.setTimeout(240_000);
  const s = await setUp(browser, baseURL, request, { wordDelayMs: 350, prefix: 'STR' });

  // A first message makes the conversation, so the owner can have it open in the web chat.
  await larkOpenDm(s.lark, s.botName);
  const hello = `hello ${s.id}`;
  await larkSend(s.lark, hello);
  await expect(larkMessages(s.lark, 'app').filter({ hasText: `You said: "${hello}"` })).toHaveCount(1, { timeout: 30_000 });
  await expect(larkTranscript(s.lark).getByTestId('card-generating')).toHaveCount(0, { timeout: 30_000 });
  await openWebConversation(s.web, s.slug, s.agent, s.agent, t.chat.channelLark);
  await expect(webMessage(s.web, s.agent).filter({ hasText: `You said: "${hello}"` })).toHaveCount(1);

  const question = `tell me about the garden ${s.id}: ${words(24, 'plant')}`;
  const full = `You said: "${question}"`;
  await larkSend(s.lark, question);

  // Both the card in Lark and the bubble in the web chat grow while the answer is written.
  const watchLark = (async () => {
    const card = await streamingCard(s.lark);
    const lengths = await watchCardGrow(card, 2, 60_000);
    return { card, lengths };
  })();
  const watchWeb = (async () => {
    const bubble = s.web.getByTestId('streaming-answer');
    const seen = new Set<number>();
    await expect
      .poll(
        async () => {
          const text = (await bubble.count()) > 0 ? ((await bubble.first().textContent()) ?? '') : '';
          if (text.includes('You said')) seen.add(text.length);
          return seen.size;
        },
        { timeout: 60_000, intervals: [100] },
      )
      .toBeGreaterThanOrEqual(2);
    return [...seen];
  })();
  const [{ card, lengths }, webLengths] = await Promise.all([watchLark, watchWeb]);
  expect(lengths.length).toBeGreaterThanOrEqual(2);
  expect(webLengths.length).toBeGreaterThanOrEqual(2);

  // Lark: the marker goes away and the whole answer stays on the same card, shown once.
  await expect(card.getByTestId('card-generating')).toHaveCount(0, { timeout: 60_000 });
  await expect(card.locator('.card-body .md').first()).toHaveText(full);
  await expect(larkMessages(s.lark, 'app').filter({ hasText: `plant24"` })).toHaveCount(1);

  // Web: the running bubble gives way to the stored answer, once.
  await expect(s.web.getByTestId('streaming-answer')).toHaveCount(0, { timeout: 30_000 });
  await expect(webMessage(s.web, s.agent).filter({ hasText: full })).toHaveCount(1);
  await expect(webMessage(s.web, s.owner.name).filter({ hasText: question })).toHaveCount(1);
  // A reload shows the same: the stored answer, no running one.
  await s.web.reload();
  await expect(webMessage(s.web, s.agent).filter({ hasText: full })).toHaveCount(1);
  await expect(s.web.getByTestId('streaming-answer')).toHaveCount(0);

  for (const c of s.contexts) await c.close();
});

test('Stop on the streaming card stops the answer in Lark and in the web chat', async ({ browser, baseURL, request }) => {
  test.setTimeout(240_000);
  const s = await setUp(browser, baseURL, request, { wordDelayMs: 500, prefix: 'STP' });

  await larkOpenDm(s.lark, s.botName);
  const hello = `hi ${s.id}`;
  await larkSend(s.lark, hello);
  await expect(larkMessages(s.lark, 'app').filter({ hasText: `You said: "${hello}"` })).toHaveCount(1, { timeout: 30_000 });
  await expect(larkTranscript(s.lark).getByTestId('card-generating')).toHaveCount(0, { timeout: 30_000 });
  await openWebConversation(s.web, s.slug, s.agent, s.agent, t.chat.channelLark);

  const question = `write a long story ${s.id}: ${words(60, 'word')}`;
  const full = `You said: "${question}"`;
  await larkSend(s.lark, question);
  const card = await streamingCard(s.lark);
  await watchCardGrow(card, 2, 60_000);
  await expect(s.web.getByTestId('streaming-answer')).toHaveCount(1, { timeout: 30_000 });

  // The asker presses Stop on the card.
  await card.getByTestId('card-button').filter({ hasText: t.bot.run.stop }).click();
  await expect(s.lark.getByTestId('toast')).toHaveText(t.bot.toast.stopping);

  // The card closes with what was written so far, says who stopped it, and grows no more.
  const stoppedBy = fill(t.bot.run.stoppedBy, { name: s.owner.name });
  await expect(card).toContainText(stoppedBy, { timeout: 30_000 });
  await expect(card.getByTestId('card-generating')).toHaveCount(0);
  await expect(card.getByTestId('card-button').filter({ hasText: t.bot.run.stop })).toHaveCount(0);
  const shown = (await cardState(card)).text;
  expect(shown).toContain('You said');
  expect(shown).not.toContain('word60');

  // The web chat keeps the partial answer, marked Stopped, and shows nothing running.
  await expect(s.web.getByTestId('streaming-answer')).toHaveCount(0, { timeout: 30_000 });
  const stopped = webMessage(s.web, s.agent).filter({ hasText: t.chat.stopped });
  await expect(stopped).toHaveCount(1, { timeout: 30_000 });
  const kept = await stopped.evaluate((el) => el.querySelector('header + div')?.textContent?.trim() ?? '');
  expect(kept).toMatch(/^You said/);
  expect(full.startsWith(kept)).toBe(true);
  expect(kept.length).toBeLessThan(full.length);

  // By now an answer still being written would have grown (two words a second): the card is as it was.
  expect((await cardState(card)).text).toBe(shown);
  await expect(larkMessages(s.lark, 'app').filter({ hasText: 'word60' })).toHaveCount(0);
  await s.web.reload();
  await expect(webMessage(s.web, s.agent).filter({ hasText: t.chat.stopped })).toHaveCount(1);

  for (const c of s.contexts) await c.close();
});

test('recalling a question in Lark takes its answer back and marks it recalled in the web chat', async ({ browser, baseURL, request }) => {
  test.setTimeout(240_000);
  const s = await setUp(browser, baseURL, request, { prefix: 'RCL' });

  await larkOpenDm(s.lark, s.botName);
  const question = `what time is the meeting ${s.id}`;
  await larkSend(s.lark, question);
  const answer = larkMessages(s.lark, 'app').filter({ hasText: `You said: "${question}"` });
  await expect(answer).toHaveCount(1, { timeout: 30_000 });
  const answerId = await larkMessageId(answer);
  await openWebConversation(s.web, s.slug, s.agent, s.agent, t.chat.channelLark);
  await expect(webMessage(s.web, s.owner.name).filter({ hasText: question })).toHaveCount(1);
  await expect(webMessage(s.web, s.agent).filter({ hasText: `You said: "${question}"` })).toHaveCount(1);

  // The asker recalls the question from the Lark client.
  const asked = larkMessages(s.lark, 'user').filter({ hasText: question });
  const questionId = await larkMessageId(asked);
  await asked.getByTestId('recall-button').click();
  await expect(larkMessage(s.lark, questionId).getByTestId('recalled')).toBeVisible();

  // The bot takes its answer back.
  await expect(larkMessage(s.lark, answerId).getByTestId('recalled')).toBeVisible({ timeout: 30_000 });
  await expect(larkTranscript(s.lark)).not.toContainText(`You said: "${question}"`);

  // The web chat shows the question as recalled, its text gone.
  await expect(webMessage(s.web, s.owner.name).filter({ hasText: t.chat.recalled })).toHaveCount(1, { timeout: 30_000 });
  await expect(webMessage(s.web, s.owner.name).filter({ hasText: question })).toHaveCount(0);
  await s.web.reload();
  await expect(webMessage(s.web, s.owner.name).filter({ hasText: t.chat.recalled })).toHaveCount(1);

  for (const c of s.contexts) await c.close();
});

test('a question asked in a topic is answered in the topic and is its own web conversation', async ({ browser, baseURL, request }) => {
  test.setTimeout(240_000);
  const s = await setUp(browser, baseURL, request, { prefix: 'TOP' });
  const groupName = `Launch team ${s.id}`;

  // The owner creates a group with the bot in the Lark client.
  const form = s.lark.locator('#chat-form');
  await form.getByRole('combobox').first().selectOption({ label: `${s.tenantName} (lark)` });
  await form.getByPlaceholder('Chat name').fill(groupName);
  await form.getByLabel(s.ownerLark.name, { exact: true }).check();
  await form.getByLabel(`${s.botName} (bot)`, { exact: true }).check();
  await form.getByRole('button', { name: 'Create group', exact: true }).click();
  await expect(s.lark.locator('#chat-header')).toContainText(`# ${groupName}`);

  // A message to the group, then a question to the bot in its thread.
  const opener = `Launch checklist for ${s.id}`;
  await larkSend(s.lark, opener);
  const root = larkMessages(s.lark, 'user').filter({ hasText: opener });
  await expect(root).toHaveCount(1);
  await root.getByTestId('reply-in-thread').click();
  await expect(s.lark.locator('#thread-banner')).toContainText(opener);
  await s.lark.getByLabel('Mention', { exact: true }).selectOption({ label: `${s.botName} (bot)` });
  const draft = s.lark.getByLabel('Message', { exact: true });
  await expect(draft).toHaveValue(`@${s.botName} `);
  const question = `is topic ${s.id} ready`;
  await larkSend(s.lark, `@${s.botName} ${question}`);

  // The answer arrives inside that thread.
  const thread = larkTranscript(s.lark).locator('.thread').filter({ hasText: question });
  await expect(thread).toHaveCount(1, { timeout: 30_000 });
  await expect(thread.locator('article.msg-app').filter({ hasText: `ready"` })).toHaveCount(1, { timeout: 30_000 });
  await expect(thread.locator('article.msg-app')).toContainText(`You said:`);
  // Nothing from the bot outside the thread.
  await expect(larkTranscript(s.lark).locator(':scope > article.msg-app')).toHaveCount(0);

  // The web app lists the topic as a conversation of its own; it holds the question and the answer.
  await openWebConversation(s.web, s.slug, s.agent, `topic ${s.id} ready`, t.chat.larkTopicBadge);
  await expect(s.web.locator('#conversation-title')).toContainText(`topic ${s.id} ready`);
  await expect(s.web.locator('#conversation-title')).not.toContainText(opener);
  await expect(webMessage(s.web, s.owner.name).filter({ hasText: question })).toHaveCount(1);
  await expect(webMessage(s.web, s.agent).filter({ hasText: 'You said:' }).filter({ hasText: question })).toHaveCount(1);

  for (const c of s.contexts) await c.close();
});

test('the binding card’s Connect account button opens the binding page', async ({ browser, baseURL, request }) => {
  test.setTimeout(240_000);
  const s = await setUp(browser, baseURL, request, { prefix: 'BND' });
  const newcomerName = `Nora ${s.id}`;
  await sim(request).user(s.tenantKey, newcomerName);

  // Someone not linked yet messages the bot.
  await larkActAs(s.lark, newcomerName);
  await larkOpenDm(s.lark, s.botName);
  await larkSend(s.lark, `hello bot ${s.id}`);
  const button = larkMessages(s.lark, 'app').getByTestId('card-button').filter({ hasText: t.bot.bindingPrompt.button });
  await expect(button.first()).toBeVisible({ timeout: 30_000 });
  await expect(larkMessages(s.lark, 'app').first()).toContainText(t.bot.bindingPrompt.title);

  // The button opens the app's binding page in a new tab, as Lark's desktop client does.
  const [tab] = await Promise.all([s.lark.context().waitForEvent('page'), button.last().click()]);
  await tab.waitForLoadState();
  const appOrigin = new URL(baseURL ?? 'http://127.0.0.1:3210').origin;
  expect(new URL(tab.url()).origin).toBe(appOrigin);
  await expect(tab).toHaveURL(/\/lark\/bind\?token=[A-Za-z0-9_\-.~%]+$/);
  expect(new URL(tab.url()).origin).not.toBe(new URL(simUrl).origin);
  // Signed out in this browser, it explains what the link does and asks to sign in first.
  await expect(tab.getByText(t.lark.bind.signedOutBody)).toBeVisible();
  await expect(tab.getByRole('link', { name: t.lark.bind.signInToContinue, exact: true })).toBeVisible();

  for (const c of s.contexts) await c.close();
});
