import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodePng, samples } from './media-samples';
import { startSimulator, type Simulator } from './server';
import { controlClient, RawEventClient, request, seedTeamChat, tenantToken, waitFor, type Control, type World } from './test-support';

type LarkBody = { code: number; msg: string; data?: Record<string, unknown> };
type Row = {
  message_id: string;
  msg_type: string;
  content: Record<string, unknown>;
  media: Array<{ key: string; type: string; size?: number; file_name?: string | null; owner?: { type: string; id: string } }>;
};

const png = () => samples().screenshot.data;

describe('images and files', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  let token: string;
  let chatId: string;

  const auth = (t = token) => ({ authorization: `Bearer ${t}` });
  const api = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    request<LarkBody>(`${sim.url}/open-apis${path}`, { method: init.method, body: init.body, headers: auth(init.token) });

  async function postForm(path: string, fields: Record<string, string | { data: Uint8Array; name?: string }>, t = token) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, new Blob([new Uint8Array(value.data)]), value.name ?? 'upload.bin');
    }
    const res = await fetch(`${sim.url}/open-apis${path}`, { method: 'POST', body: form, headers: auth(t) });
    return { status: res.status, body: (await res.json()) as LarkBody };
  }
  const uploadImage = (data: Uint8Array, t = token) => postForm('/im/v1/images', { image_type: 'message', image: { data, name: 'a.png' } }, t);
  const uploadFile = (fileType: string, data: Uint8Array, extra: Record<string, string> = {}, t = token) =>
    postForm('/im/v1/files', { file_type: fileType, file_name: extra.file_name ?? 'doc.bin', ...extra, file: { data } }, t);
  const imageKey = async (t = token) => {
    const res = await uploadImage(png(), t);
    expect(res.body.code).toBe(0);
    return res.body.data!.image_key as string;
  };
  const send = (msgType: string, content: unknown, t = token) =>
    api('/im/v1/messages?receive_id_type=chat_id', { body: { receive_id: chatId, msg_type: msgType, content: JSON.stringify(content) }, token: t });
  const rows = async () => (await control.get<{ messages: Row[] }>(`/chats/${chatId}/messages`)).messages;
  const download = (messageId: string, key: string, type: string, t = token) =>
    fetch(`${sim.url}/open-apis/im/v1/messages/${messageId}/resources/${key}?type=${type}`, { headers: auth(t) });
  const userSends = (body: Record<string, unknown>) =>
    control.post<{ message_id: string }>('/messages', { user_id: world.userId, chat_id: chatId, ...body });

  beforeAll(async () => {
    sim = await startSimulator({ rateLimitPerSecond: 1000, chatRateLimitPerSecond: 1000 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    ({ world, token, chatId } = await seedTeamChat(sim.url, control));
  });

  describe('uploads', () => {
    it('takes png, jpeg, gif, webp, bmp, tiff and ico images and answers an img_v3 key the app owns', async () => {
      const heads: Record<string, number[]> = {
        jpeg: [0xff, 0xd8, 0xff, 0xe0, 0, 0x10],
        gif: [...Buffer.from('GIF89a'), 10, 0, 10, 0],
        webp: [...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBPVP8 ')],
        bmp: [...Buffer.from('BM'), ...new Array<number>(30).fill(0)],
        tiff: [0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0],
        ico: [0, 0, 1, 0, 1, 0, 16, 16],
      };
      const keys: string[] = [];
      for (const bytes of [png(), ...Object.values(heads).map((h) => Uint8Array.from([...h, ...new Array<number>(64).fill(1)]))]) {
        const res = await uploadImage(bytes);
        expect([res.status, res.body.code]).toEqual([200, 0]);
        keys.push(res.body.data!.image_key as string);
      }
      expect(keys.every((k) => /^img_v3_/.test(k))).toBe(true);
      const uploads = await control.get<{ uploads: Array<{ key: string; kind: string; size: number; content_type: string }> }>(`/uploads?app_id=${world.app.app_id}`);
      expect(uploads.uploads.map((u) => u.key).sort()).toEqual([...keys].sort());
      expect(uploads.uploads.find((u) => u.key === keys[0])).toEqual(expect.objectContaining({ kind: 'image', size: png().length, content_type: 'image/png' }));
      const bytes = Buffer.from(await (await fetch(`${sim.url}/_control/media/${keys[0]}`)).arrayBuffer());
      expect(bytes.equals(png())).toBe(true);
    });

    it('refuses non-images, empty and oversized images, a wrong image_type and a missing image', async () => {
      expect((await uploadImage(Buffer.from('%PDF-1.4 not an image'))).body.code).toBe(234011);
      expect((await uploadImage(new Uint8Array(0))).body.code).toBe(234010);
      const big = Buffer.concat([png(), Buffer.alloc(10 * 1024 * 1024)]);
      const oversized = await uploadImage(big);
      expect([oversized.status, oversized.body.code]).toEqual([400, 234006]);
      // Just at the limit is fine.
      expect((await uploadImage(Buffer.concat([png(), Buffer.alloc(10 * 1024 * 1024 - png().length)]))).body.code).toBe(0);
      expect((await postForm('/im/v1/images', { image_type: 'avatar', image: { data: png() } })).body.code).toBe(234001);
      expect((await postForm('/im/v1/images', { image_type: 'message' })).body.code).toBe(234001);
      const tooWide = encodePng(12001, 1, () => [0, 0, 0]);
      expect((await uploadImage(tooWide)).body.code).toBe(234001);
      const notMultipart = await api('/im/v1/images', { body: { image_type: 'message' } });
      expect(notMultipart.body.code).toBe(234001);
      expect((await control.get<{ uploads: unknown[] }>(`/uploads?app_id=${world.app.app_id}`)).uploads).toHaveLength(1);
    });

    it('takes files of the listed types up to 30 MB, with name and duration, and refuses the rest', async () => {
      const pdf = samples().pdf.data;
      const ok = await uploadFile('pdf', pdf, { file_name: 'report.pdf' });
      expect(ok.body.code).toBe(0);
      expect(ok.body.data!.file_key).toMatch(/^file_v3_/);
      const voice = await uploadFile('opus', Buffer.from('OggS\0\x02 fake opus page'), { file_name: 'voice.opus', duration: '1500' });
      expect(voice.body.code).toBe(0);
      const uploads = await control.get<{ uploads: Array<{ key: string; file_name: string; file_type: string; duration_ms: number | null; content_type: string }> }>(
        `/uploads?app_id=${world.app.app_id}`,
      );
      expect(uploads.uploads.find((u) => u.key === ok.body.data!.file_key)).toEqual(
        expect.objectContaining({ file_name: 'report.pdf', file_type: 'pdf', content_type: 'application/pdf', duration_ms: null }),
      );
      expect(uploads.uploads.find((u) => u.key === voice.body.data!.file_key)).toEqual(expect.objectContaining({ file_type: 'opus', duration_ms: 1500 }));

      expect((await uploadFile('stream', Buffer.alloc(30 * 1024 * 1024, 1))).body.code).toBe(0);
      const tooBig = await uploadFile('stream', Buffer.alloc(30 * 1024 * 1024 + 1, 1));
      expect([tooBig.status, tooBig.body.code]).toEqual([400, 234006]);
      expect((await uploadFile('stream', new Uint8Array(0))).body.code).toBe(234010);
      expect((await uploadFile('zip', Buffer.from('PK'))).body.code).toBe(234001);
      expect((await uploadFile('stream', Buffer.from('x'), { file_name: '' })).body.code).toBe(234001);
      expect((await uploadFile('pdf', Buffer.from('not a pdf'))).body.code).toBe(234001);
      expect((await uploadFile('mp4', Buffer.from('not a video at all'))).body.code).toBe(234001);
      expect((await uploadFile('stream', Buffer.from('x'), { duration: 'soon' })).body.code).toBe(234001);
    });

    it('answers 234006 for a body far over the limit without reading it into memory, and needs a token', async () => {
      const huge = await uploadFile('stream', Buffer.alloc(70 * 1024 * 1024, 2));
      expect([huge.status, huge.body.code]).toEqual([400, 234006]);
      const res = await fetch(`${sim.url}/open-apis/im/v1/images`, { method: 'POST', body: new FormData() });
      expect((await res.json()) as LarkBody).toEqual(expect.objectContaining({ code: 99991661 }));
    });
  });

  describe('sending media', () => {
    it('sends image, file, audio and media messages with the app’s own keys and stores Lark’s content', async () => {
      const image = await imageKey();
      const file = (await uploadFile('pdf', samples().pdf.data, { file_name: 'report.pdf' })).body.data!.file_key as string;
      const voice = (await uploadFile('opus', Buffer.from('OggS rest of it'), { file_name: 'v.opus', duration: '2100' })).body.data!.file_key as string;
      const video = (await uploadFile('mp4', samples().video.data, { file_name: 'clip.mp4', duration: '4000' })).body.data!.file_key as string;

      const sentImage = await send('image', { image_key: image });
      expect(sentImage.body.code).toBe(0);
      expect(sentImage.body.data).toEqual(expect.objectContaining({ msg_type: 'image', body: { content: JSON.stringify({ image_key: image }) } }));
      expect((await send('file', { file_key: file })).body.code).toBe(0);
      expect((await send('audio', { file_key: voice })).body.code).toBe(0);
      expect((await send('media', { file_key: video, image_key: image })).body.code).toBe(0);
      const sent = (await rows()).filter((r) => r.msg_type !== 'text');
      expect(sent.map((r) => [r.msg_type, r.content])).toEqual([
        ['image', { image_key: image }],
        ['file', { file_key: file, file_name: 'report.pdf' }],
        ['audio', { file_key: voice, duration: 2100 }],
        ['media', { file_key: video, image_key: image, file_name: 'clip.mp4', duration: 4000 }],
      ]);
      expect(sent[1].media).toEqual([expect.objectContaining({ key: file, type: 'file', file_name: 'report.pdf', owner: { type: 'app', id: world.app.app_id } })]);
      expect(sent[3].media.map((m) => [m.key, m.type])).toEqual([
        [video, 'file'],
        [image, 'image'],
      ]);
    });

    it('refuses keys the app did not upload, of the wrong kind, or another app’s', async () => {
      const image = await imageKey();
      const pdf = (await uploadFile('pdf', samples().pdf.data)).body.data!.file_key as string;
      const other = await control.post<{ app_id: string; app_secret: string }>('/apps', { tenant_key: world.tenantKey, name: 'Other' });
      const otherToken = await tenantToken(sim.url, other);
      const othersImage = await imageKey(otherToken);
      const { message_id: userImage } = await userSends({ image: { sample: 'photo' } });
      const usersKey = ((await rows()).find((r) => r.message_id === userImage)!.content.image_key) as string;

      for (const [msgType, content] of [
        ['image', { image_key: 'img_v3_made_up' }],
        ['image', { image_key: othersImage }],
        ['image', { image_key: usersKey }],
        ['image', { image_key: pdf }],
        ['file', { file_key: image }],
        ['audio', { file_key: pdf }],
        ['media', { file_key: pdf, image_key: image }],
        ['sticker', { file_key: pdf }],
      ] as const) {
        const res = await send(msgType, content);
        expect([res.status, res.body.code], `${msgType} ${JSON.stringify(content)}`).toEqual([400, 230001]);
      }
      expect((await rows()).filter((r) => r.message_id !== userImage)).toEqual([]);
    });

    it('checks post images and card images: own keys only, an outside URL fails the whole card', async () => {
      const image = await imageKey();
      const post = (img: string) => ({ zh_cn: { title: 'T', content: [[{ tag: 'text', text: 'look' }, { tag: 'img', image_key: img }]] } });
      expect((await send('post', post(image))).body.code).toBe(0);
      expect((await send('post', post('img_v3_nope'))).body.code).toBe(230001);

      const card = (elements: unknown[]) => ({ schema: '2.0', config: { update_multi: true }, body: { elements } });
      expect((await send('interactive', card([{ tag: 'markdown', content: `Chart:\n![chart](${image})` }]))).body.code).toBe(0);
      expect((await send('interactive', card([{ tag: 'img', img_key: image, alt: { tag: 'plain_text', content: '' } }]))).body.code).toBe(0);
      for (const elements of [
        [{ tag: 'markdown', content: 'see ![x](https://example.com/a.png)' }],
        [{ tag: 'markdown', content: '![x](img_v3_unknown)' }],
        [{ tag: 'img', img_key: 'img_v3_unknown' }],
        [{ tag: 'column_set', columns: [{ tag: 'column', elements: [{ tag: 'markdown', content: `ok ![a](${image}) bad ![b](http://x.test/b.png)` }] }] }],
      ]) {
        const res = await send('interactive', card(elements));
        expect([res.status, res.body.code], JSON.stringify(elements)).toEqual([400, 230099]);
        expect(res.body.msg).toContain('ErrCode: 11310');
      }
      // A CardKit entity and a card patch follow the same rule.
      const entity = await api('/cardkit/v1/cards', { body: { type: 'card_json', data: JSON.stringify(card([{ tag: 'markdown', content: '![x](https://a.test/x.png)' }])) } });
      expect(entity.body.code).toBe(230099);
      const sent = await send('interactive', card([{ tag: 'markdown', content: 'v1' }]));
      const patched = await api(`/im/v1/messages/${sent.body.data!.message_id as string}`, {
        method: 'PATCH',
        body: { content: JSON.stringify(card([{ tag: 'markdown', content: '![x](https://a.test/x.png)' }])) },
      });
      expect(patched.body.code).toBe(230099);
      const cardRow = (await rows()).find((r) => r.msg_type === 'interactive')!;
      expect(cardRow.media).toEqual([expect.objectContaining({ key: image, type: 'image' })]);
    });
  });

  describe('message resources', () => {
    it('serves what users sent: images, files with their name, audio, video and its cover, post images', async () => {
      const { message_id: imageMsg } = await userSends({ image: { sample: 'screenshot' } });
      const { message_id: fileMsg } = await userSends({ file: { sample: 'csv' } });
      const { message_id: audioMsg } = await userSends({ audio: { duration_ms: 2000 } });
      const { message_id: videoMsg } = await userSends({ media: {} });
      const { message_id: postMsg } = await userSends({ post: { title: 'Look', content: [[{ tag: 'text', text: 'see' }, { tag: 'img', sample: 'photo' }]] } });
      const byId = new Map((await rows()).map((r) => [r.message_id, r]));

      const image = byId.get(imageMsg)!.content.image_key as string;
      let res = await download(imageMsg, image, 'image');
      expect([res.status, res.headers.get('content-type'), res.headers.get('content-length')]).toEqual([200, 'image/png', String(png().length)]);
      expect(Buffer.from(await res.arrayBuffer()).equals(png())).toBe(true);

      const file = byId.get(fileMsg)!.content as { file_key: string; file_name: string };
      expect(file.file_name).toBe('orders.csv');
      res = await download(fileMsg, file.file_key, 'file');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      expect(res.headers.get('content-disposition')).toContain('filename="orders.csv"');
      expect(await res.text()).toBe(samples().csv.data.toString('utf8'));

      const audio = byId.get(audioMsg)!.content as { file_key: string; duration: number };
      expect(audio.duration).toBe(2000);
      res = await download(audioMsg, audio.file_key, 'file');
      expect([res.status, res.headers.get('content-type')]).toEqual([200, 'audio/ogg']);
      expect(Buffer.from(await res.arrayBuffer()).subarray(28, 36).toString('latin1')).toBe('OpusHead');
      // Audio is a file, never an image.
      expect(((await (await download(audioMsg, audio.file_key, 'image')).json()) as LarkBody).code).toBe(234003);

      const video = byId.get(videoMsg)!.content as { file_key: string; image_key: string; file_name: string; duration: number };
      expect(video).toEqual(expect.objectContaining({ file_name: 'clip.mp4', duration: 5000 }));
      res = await download(videoMsg, video.file_key, 'file');
      expect(Buffer.from(await res.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
      res = await download(videoMsg, video.image_key, 'image');
      expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/png']);
      await res.arrayBuffer();

      const postImage = ((byId.get(postMsg)!.content.content as Array<Array<{ tag: string; image_key?: string }>>)[0][1]).image_key!;
      expect(postImage).toMatch(/^img_v3_/);
      res = await download(postMsg, postImage, 'image');
      expect(Buffer.from(await res.arrayBuffer()).equals(samples().photo.data)).toBe(true);
    });

    it('refuses a wrong type, keys of other messages, unknown messages, stickers, cards, recalled messages and chats without the bot', async () => {
      const { message_id: imageMsg } = await userSends({ image: {} });
      const { message_id: otherMsg } = await userSends({ image: { sample: 'photo' } });
      const { message_id: stickerMsg } = await userSends({ sticker: {} });
      const byId = new Map((await rows()).map((r) => [r.message_id, r]));
      const image = byId.get(imageMsg)!.content.image_key as string;
      const otherImage = byId.get(otherMsg)!.content.image_key as string;
      const sticker = byId.get(stickerMsg)!.content.file_key as string;
      const code = async (res: Response) => {
        const body = (await res.json()) as LarkBody;
        return [res.status, body.code];
      };

      expect(await code(await download(imageMsg, image, 'file'))).toEqual([400, 234003]);
      expect(await code(await download(imageMsg, image, 'video'))).toEqual([400, 234001]);
      expect(await code(await fetch(`${sim.url}/open-apis/im/v1/messages/${imageMsg}/resources/${image}`, { headers: auth() }))).toEqual([400, 234001]);
      expect(await code(await download(imageMsg, otherImage, 'image'))).toEqual([400, 234003]);
      expect(await code(await download('om_unknown', image, 'image'))).toEqual([400, 234003]);
      expect(await code(await download(stickerMsg, sticker, 'file'))).toEqual([400, 234043]);

      const card = await send('interactive', { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'x' }] } });
      expect(await code(await download(card.body.data!.message_id as string, image, 'image'))).toEqual([400, 234043]);

      // Another bot, not in the chat.
      const other = await control.post<{ app_id: string; app_secret: string }>('/apps', { tenant_key: world.tenantKey, name: 'Outsider' });
      expect(await code(await download(imageMsg, image, 'image', await tenantToken(sim.url, other)))).toEqual([400, 234004]);

      await control.post(`/messages/${imageMsg}/recall`, { user_id: world.userId });
      expect(await code(await download(imageMsg, image, 'image'))).toEqual([400, 234003]);
      // Images stay downloadable through the other message.
      expect((await download(otherMsg, otherImage, 'image')).status).toBe(200);
    });

    it('streams a 100 MB file, refuses a larger one with 234037, and answers injected faults', async () => {
      const exact = 100 * 1024 * 1024;
      const { message_id: big } = await userSends({ file: { size_bytes: exact, file_name: 'big.log' } });
      const { message_id: bigger } = await userSends({ file: { size_bytes: 120 * 1024 * 1024 } });
      const byId = new Map((await rows()).map((r) => [r.message_id, r]));
      const bigKey = byId.get(big)!.content.file_key as string;
      expect(byId.get(big)!.media[0]).toEqual(expect.objectContaining({ size: exact, file_name: 'big.log' }));

      const res = await download(big, bigKey, 'file');
      expect([res.status, res.headers.get('content-length')]).toEqual([200, String(exact)]);
      let received = 0;
      let head = '';
      const reader = res.body!.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        if (received === 0) head = Buffer.from(chunk.value).subarray(0, 26).toString('latin1');
        received += chunk.value.length;
      }
      expect(received).toBe(exact);
      expect(head).toBe('Lark simulator filler line');

      const refused = await download(bigger, byId.get(bigger)!.content.file_key as string, 'file');
      expect([refused.status, ((await refused.json()) as LarkBody).code]).toEqual([400, 234037]);

      await control.post('/faults', { kind: 'rest_error', path: '/resources/', code: 234040, http_status: 500, count: 1 });
      const faulted = await download(big, bigKey, 'file');
      expect([faulted.status, ((await faulted.json()) as LarkBody).code]).toEqual([500, 234040]);
    });

    it('downloads a bot’s own sent image from its message, and another bot in the chat can too', async () => {
      const image = await imageKey();
      const sent = await send('image', { image_key: image });
      const messageId = sent.body.data!.message_id as string;
      expect((await download(messageId, image, 'image')).status).toBe(200);
      const peer = await control.post<{ app_id: string; app_secret: string }>('/apps', { tenant_key: world.tenantKey, name: 'Peer' });
      await control.post(`/chats/${chatId}/members`, { app_ids: [peer.app_id] });
      const peerToken = await tenantToken(sim.url, peer);
      const res = await download(messageId, image, 'image', peerToken);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    });
  });

  describe('control API for media', () => {
    it('validates user media input and changes nothing on bad input', async () => {
      const bad = async (body: Record<string, unknown>) => {
        const res = await request<{ error: { code: string } }>(`${sim.url}/_control/messages`, { body: { user_id: world.userId, chat_id: chatId, ...body } });
        expect(res.status, JSON.stringify(body)).toBe(400);
      };
      await bad({ image: {}, text: 'both' });
      await bad({ image: { sample: 'screenshot', data_base64: png().toString('base64') } });
      await bad({ image: { data_base64: Buffer.from('not an image').toString('base64') } });
      await bad({ file: { sample: 'notes', size_bytes: 10 } });
      await bad({ file: { sample: 'movie' } });
      await bad({ audio: { duration_ms: 1 } });
      await bad({ image: {}, mentions: [{ app_id: world.app.app_id }] });
      await bad({ post: { content: [[{ tag: 'img' }]] } });
      await bad({ text: 'x', root_id: 'om_a', reply_to: 'om_b' });
      await bad({ merge_forward: { message_ids: [] } });
      expect(await rows()).toEqual([]);
      const stored = await request(`${sim.url}/_control/media/img_v3_none`);
      expect(stored.status).toBe(404);
    });

    it('sends an own file and image by base64, and a quote reply with reply_to', async () => {
      const { message_id: first } = await userSends({ text: 'first' });
      const { message_id: own } = await userSends({ file: { data_base64: Buffer.from('hello, file').toString('base64'), file_name: 'hello.txt' }, reply_to: first });
      const { message_id: pic } = await userSends({ image: { data_base64: png().toString('base64') } });
      const all = await control.get<{ messages: Array<Row & { parent_id: string | null; root_id: string | null; thread_id: string | null }> }>(`/chats/${chatId}/messages`);
      const ownRow = all.messages.find((m) => m.message_id === own)!;
      expect([ownRow.parent_id, ownRow.root_id, ownRow.thread_id]).toEqual([first, first, null]);
      expect(ownRow.content.file_name).toBe('hello.txt');
      expect(ownRow.media[0]).toEqual(expect.objectContaining({ size: 11, owner: { type: 'user', id: world.userId } }));
      expect(await (await fetch(`${sim.url}/_control/media/${ownRow.content.file_key as string}`)).text()).toBe('hello, file');
      expect((await download(own, ownRow.content.file_key as string, 'file')).headers.get('content-type')).toContain('text/plain');
      const picRow = all.messages.find((m) => m.message_id === pic)!;
      expect(picRow.media[0]).toEqual(expect.objectContaining({ type: 'image', size: png().length }));
    });

    it('delivers media events with Lark’s content shapes; speech_to_text only when given', async () => {
      const client = await RawEventClient.connect(sim.url, world.app);
      client.autoAck = 200;
      try {
        await userSends({ audio: { duration_ms: 1200 } });
        await userSends({ audio: { duration_ms: 800, speech_to_text: 'hello there' } });
        await userSends({ sticker: {} });
        await userSends({ file: { sample: 'pdf' } });
        await userSends({ media: { duration_ms: 3000 } });
        const events = await waitFor(() => (client.events().length >= 5 ? client.events() : undefined), { what: 'five events' });
        const messages = events.map((e) => (e.body.event as { message: { message_type: string; content: string } }).message);
        const contents = messages.map((m) => [m.message_type, JSON.parse(m.content) as Record<string, unknown>] as const);
        expect(contents.map(([type, c]) => [type, Object.keys(c).sort()])).toEqual([
          ['audio', ['duration', 'file_key']],
          ['audio', ['duration', 'file_key', 'speech_to_text']],
          ['sticker', ['file_key']],
          ['file', ['file_key', 'file_name']],
          ['media', ['duration', 'file_key', 'file_name', 'image_key']],
        ]);
        expect(contents[1][1]).toEqual(expect.objectContaining({ duration: 800, speech_to_text: 'hello there' }));
        expect(contents[3][1].file_name).toBe('report.pdf');
      } finally {
        client.close();
      }
    });
  });
});
