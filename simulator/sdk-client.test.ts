import type { Client } from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from './server';
import { larkCode, startSdkWorld, type Control, type World } from './test-support';

const card = (text: string, updateMulti: boolean | undefined) => ({
  schema: '2.0',
  ...(updateMulti === undefined ? {} : { config: { update_multi: updateMulti } }),
  header: { title: { tag: 'plain_text', content: 'Helper' } },
  body: { elements: [{ tag: 'markdown', content: text }] },
});

type Transcript = { messages: Array<{ message_id: string; msg_type: string; content: unknown; updates: unknown[] }> };

describe('official SDK Client against the simulator', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let client: Client;
  let chatId: string;

  beforeAll(async () => {
    ({ sim, control, world, client, chatId } = await startSdkWorld());
  });
  afterAll(() => sim.close());

  it('sends a text message and an interactive card that show in the transcript', async () => {
    const text = await client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'text', content: JSON.stringify({ text: 'hello from the bot' }) },
    });
    expect(text.code).toBe(0);
    const sentCard = card('**bold** reply', true);
    const interactive = await client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify(sentCard) },
    });
    expect(interactive.code).toBe(0);
    expect(interactive.data?.chat_id).toBe(chatId);

    const { messages } = await control.get<Transcript>(`/chats/${chatId}/messages`);
    expect(messages.map((m) => [m.message_id, m.msg_type])).toEqual([
      [text.data?.message_id, 'text'],
      [interactive.data?.message_id, 'interactive'],
    ]);
    expect(messages[0].content).toEqual({ text: 'hello from the bot' });
    expect(messages[1].content).toEqual(sentCard);
  });

  it('patches a card only when the sent card and the new card both set update_multi', async () => {
    const send = async (updateMulti: boolean | undefined) => {
      const res = await client.im.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify(card('thinking', updateMulti)) },
      });
      return res.data!.message_id!;
    };
    const patch = (messageId: string, updateMulti: boolean | undefined) =>
      client.im.message.patch({
        path: { message_id: messageId },
        data: { content: JSON.stringify(card('done', updateMulti)) },
      });

    const unshared = await send(undefined);
    expect(await larkCode(patch(unshared, true))).toBe(230001);
    const shared = await send(true);
    expect(await larkCode(patch(shared, false))).toBe(230001);
    expect(await larkCode(patch(shared, true))).toBe(0);

    const { messages } = await control.get<Transcript>(`/chats/${chatId}/messages`);
    const byId = new Map(messages.map((m) => [m.message_id, m]));
    expect(byId.get(unshared)?.updates).toEqual([]);
    expect(byId.get(unshared)?.content).toEqual(card('thinking', undefined));
    expect(byId.get(shared)?.updates).toEqual([card('done', true)]);
    expect(byId.get(shared)?.content).toEqual(card('done', true));
  });

  it('reports the bot identity under a top-level bot key', async () => {
    const res = await client.request<{ code: number; bot: { open_id: string; app_name: string } }>({
      method: 'GET',
      url: '/open-apis/bot/v3/info',
    });
    const app = await control.get<{ bot_open_id: string }>(`/apps/${world.app.app_id}`);
    expect(res.code).toBe(0);
    expect(res.bot).toEqual(expect.objectContaining({ open_id: app.bot_open_id, app_name: 'Helper' }));
  });
});
