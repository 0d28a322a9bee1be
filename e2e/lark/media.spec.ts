import { test, expect } from '@playwright/test';
import { larkMessages, larkOpenDm, larkTranscript, openWebConversation, setUpLiveLark, t } from './support';

// An image, as a person sends and sees it: a screenshot sent from the Lark client reaches the agent
// (the echo agent says what it saw), and the web chat shows it as a thumbnail that opens a viewer.

test('a screenshot sent in Lark is described by the agent and shown as a thumbnail in the web chat', async ({ browser, baseURL, request }) => {
  test.setTimeout(180_000);
  const s = await setUpLiveLark(browser, baseURL, request, { prefix: 'IMG' });
  try {
    await larkOpenDm(s.lark, s.botName);
    await s.lark.getByTestId('sim-send-image').click();
    // The image shows in the Lark client as the person sent it.
    await expect(larkMessages(s.lark, 'user').locator('img')).toHaveCount(1, { timeout: 15_000 });
    // The agent was given the picture itself: it names an image of the real type.
    await expect(larkMessages(s.lark, 'app').filter({ hasText: /I see image \(image\/png, [\d.]+ (B|KB)\)/ })).toHaveCount(1, { timeout: 30_000 });
    await expect(larkTranscript(s.lark).getByTestId('card-generating')).toHaveCount(0, { timeout: 30_000 });

    await openWebConversation(s.web, s.slug, s.agent, s.agent, t.chat.channelLark);
    const thumbnail = s.web.getByTestId('attachment-thumbnail');
    await expect(thumbnail).toHaveCount(1, { timeout: 30_000 });
    // The picture really loads through the member-only download route.
    await expect.poll(() => thumbnail.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    await thumbnail.click();
    const viewer = s.web.getByTestId('attachment-viewer');
    await expect(viewer).toBeVisible();
    await expect.poll(() => viewer.locator('img').first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    await s.web.keyboard.press('Escape');
    await expect(viewer).toBeHidden();
  } finally {
    for (const c of s.contexts) await c.close();
  }
});
