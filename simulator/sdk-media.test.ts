import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samples } from './media-samples';
import type { Simulator } from './server';
import { larkCode, startSdkWorld, type Control, type World } from './test-support';

// The official SDK is the referee for media and history: its uploads (multipart as it builds it),
// its resource download (a stream written to disk) and its message get and list.

describe('official SDK Client: uploads, resources, message get and list', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let client: Client;
  let chatId: string;
  let dir: string;

  beforeAll(async () => {
    ({ sim, control, world, client, chatId } = await startSdkWorld());
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lark-sim-sdk-media-'));
  });
  afterAll(async () => {
    await sim.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('downloads what a user sent with messageResource.get and writes it to disk', async () => {
    const { message_id: imageMessage } = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, image: { sample: 'screenshot' } });
    const { message_id: fileMessage } = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, file: { sample: 'pdf' } });
    const got = await client.im.message.get({ path: { message_id: imageMessage } });
    const imageKey = (JSON.parse(got.data!.items![0].body!.content) as { image_key: string }).image_key;

    const image = await client.im.messageResource.get({ params: { type: 'image' }, path: { message_id: imageMessage, file_key: imageKey } });
    expect(image.headers['content-type']).toBe('image/png');
    const imagePath = path.join(dir, 'screenshot.png');
    await image.writeFile(imagePath);
    expect((await fs.readFile(imagePath)).equals(samples().screenshot.data)).toBe(true);

    const listed = await client.im.message.list({ params: { container_id_type: 'chat', container_id: chatId } });
    const fileItem = listed.data!.items!.find((i) => i.message_id === fileMessage)!;
    const { file_key: fileKey, file_name: fileName } = JSON.parse(fileItem.body!.content) as { file_key: string; file_name: string };
    expect(fileName).toBe('report.pdf');
    const file = await client.im.messageResource.get({ params: { type: 'file' }, path: { message_id: fileMessage, file_key: fileKey } });
    expect(file.headers['content-disposition']).toContain('report.pdf');
    const chunks: Buffer[] = [];
    for await (const chunk of file.getReadableStream()) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(samples().pdf.data)).toBe(true);

    expect(await larkCode(client.im.messageResource.get({ params: { type: 'file' }, path: { message_id: imageMessage, file_key: imageKey } }))).toBe(234003);
  });

  it('uploads an image and a file as the SDK builds them and sends image and file messages', async () => {
    const uploaded = await client.im.image.create({ data: { image_type: 'message', image: samples().photo.data } });
    expect(uploaded?.image_key).toMatch(/^img_v3_/);
    const pdfPath = path.join(dir, 'upload.pdf');
    await fs.writeFile(pdfPath, samples().pdf.data);
    const file = await client.im.file.create({ data: { file_type: 'pdf', file_name: 'quarterly.pdf', file: (await import('node:fs')).createReadStream(pdfPath) } });
    expect(file?.file_key).toMatch(/^file_v3_/);
    const voice = await client.im.file.create({ data: { file_type: 'opus', file_name: 'note.opus', duration: 1800, file: Buffer.from('OggS and the rest') } });
    expect(voice?.file_key).toMatch(/^file_v3_/);

    const image = await client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'image', content: JSON.stringify({ image_key: uploaded!.image_key }) },
    });
    expect(image.code).toBe(0);
    const sentFile = await client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'file', content: JSON.stringify({ file_key: file!.file_key }) },
    });
    expect(sentFile.code).toBe(0);
    const audio = await client.im.message.reply({ path: { message_id: sentFile.data!.message_id! }, data: { msg_type: 'audio', content: JSON.stringify({ file_key: voice!.file_key }) } });
    expect(audio.code).toBe(0);

    const rows = (await control.get<{ messages: Array<{ message_id: string; msg_type: string; content: Record<string, unknown> }> }>(`/chats/${chatId}/messages`)).messages;
    expect(rows.find((r) => r.message_id === image.data!.message_id)!.content).toEqual({ image_key: uploaded!.image_key });
    expect(rows.find((r) => r.message_id === sentFile.data!.message_id)!.content).toEqual({ file_key: file!.file_key, file_name: 'quarterly.pdf' });
    expect(rows.find((r) => r.message_id === audio.data!.message_id)!.content).toEqual({ file_key: voice!.file_key, duration: 1800 });
    const stored = Buffer.from(await (await fetch(`${sim.url}/_control/media/${file!.file_key}`)).arrayBuffer());
    expect(stored.equals(samples().pdf.data)).toBe(true);

    // Refusals reach the SDK as Lark errors.
    expect(await larkCode(client.im.image.create({ data: { image_type: 'message', image: Buffer.from('plain text') } }))).toBe(234011);
    expect(
      await larkCode(
        client.im.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: chatId, msg_type: 'image', content: JSON.stringify({ image_key: 'img_v3_not_mine' }) },
        }),
      ),
    ).toBe(230001);
  });

  it('reads a message, a merge_forward with its children and pages the history with its iterator', async () => {
    const { chat_id: quiet } = await control.post<{ chat_id: string }>('/chats', { tenant_key: world.tenantKey, name: 'Quiet', user_ids: [world.userId], app_ids: [world.app.app_id] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: quiet, text: `note ${i}` })).message_id);
    const { message_id: forward } = await control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: quiet, merge_forward: { message_ids: ids.slice(0, 2) } });

    const got = await client.im.message.get({ path: { message_id: forward } });
    expect(got.data!.items!.map((i) => [i.msg_type, i.upper_message_id])).toEqual([
      ['merge_forward', undefined],
      ['text', forward],
      ['text', forward],
    ]);

    const seen: string[] = [];
    for await (const page of await client.im.message.listWithIterator({ params: { container_id_type: 'chat', container_id: quiet, page_size: 2, sort_type: 'ByCreateTimeDesc' } })) {
      seen.push(...(page?.items ?? []).map((i) => i.message_id!));
    }
    expect(seen).toEqual([forward, ...[...ids].reverse()]);
  });
});
