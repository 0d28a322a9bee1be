import { Marked } from 'marked';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardButtons } from './cards';
import { samples } from './media-samples';
import { startSimulator, type Simulator } from './server';
import { controlClient, seedTeamChat } from './test-support';

type Renderer = { messageBody(message: Record<string, unknown>): string; markdown(text: string): string };

const message = (msgType: string, content: unknown, mentions: unknown[] = []) => ({
  msg_type: msgType,
  content,
  mentions,
  updates: [],
});

describe('web UI', () => {
  let sim: Simulator;
  let render: Renderer;

  beforeAll(async () => {
    sim = await startSimulator();
    // The page's renderer is plain browser JavaScript; it takes marked's class as an argument.
    const modulePath = new URL('./ui/render.js', import.meta.url).href;
    const mod = (await import(modulePath)) as { createRenderer(marked: typeof Marked): Renderer };
    render = mod.createRenderer(Marked);
  });
  afterAll(() => sim.close());

  it('serves the pages, scripts and a local copy of marked (no CDN)', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/approve?user_code=ABCD-EFGH', 'text/html'],
      ['/ui/app.js', 'text/javascript'],
      ['/ui/approve.js', 'text/javascript'],
      ['/ui/render.js', 'text/javascript'],
      ['/ui/api.js', 'text/javascript'],
      ['/ui/style.css', 'text/css'],
      ['/ui/vendor/marked.js', 'text/javascript'],
    ]) {
      const res = await fetch(`${sim.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
      const body = await res.text();
      expect(body, path).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)\./);
    }
    expect((await fetch(`${sim.url}/ui/../server.ts`)).status).toBe(404);
    expect((await fetch(`${sim.url}/ui/nope.js`)).status).toBe(404);
  });

  it('serves a bot console page where open.feishu.cn/app/<id> and open.larksuite.com/app/<id> would be', async () => {
    for (const path of ['/feishu/app/cli_0123456789abcdef', '/lark/app/cli_0123456789abcdef', '/app/cli_0123456789abcdef', '/ui/bot.js']) {
      const res = await fetch(`${sim.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toMatch(path.endsWith('.js') ? /\/_control|get\('\/state'\)/ : /<script type="module" src="\/ui\/bot\.js">/);
    }
    for (const path of ['/feishu/app/cli_0123456789abcdef/secret', '/other/app/cli_0123456789abcdef', '/feishu/app/']) {
      expect((await fetch(`${sim.url}${path}`)).status, path).toBe(404);
    }
  });

  it('opens its chat view where Lark\'s AppLink would open a chat', async () => {
    for (const path of ['/feishu/client/chat/open?openChatId=oc_abc', '/lark/client/chat/open?openChatId=oc_abc']) {
      const res = await fetch(`${sim.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toMatch(/<script type="module" src="\/ui\/app\.js">/);
    }
    expect((await fetch(`${sim.url}/other/client/chat/open?openChatId=oc_abc`)).status).toBe(404);
  });

  it('renders schema 2.0 markdown cards with marked and escapes raw HTML', () => {
    const html = render.messageBody(
      message('interactive', {
        schema: '2.0',
        config: { update_multi: true },
        header: { title: { tag: 'plain_text', content: 'Report <b>' } },
        body: {
          elements: [
            { tag: 'markdown', content: '**done** <script>alert(1)</script> [ok](https://example.com) [bad](javascript:alert(1))' },
          ],
        },
      }),
    );
    expect(html).toContain('<strong>done</strong>');
    expect(html).toContain('Report &lt;b&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('href="https://example.com/"');
    expect(html).not.toContain('javascript:');
  });

  it('renders a link button as a link that opens in a new tab, a callback button as pressable, and others inert', () => {
    const card = (elements: unknown[]) => render.messageBody(message('interactive', { schema: '2.0', body: { elements } }));
    const link = card([
      { tag: 'button', text: { tag: 'plain_text', content: 'Connect account' }, type: 'primary', behaviors: [{ type: 'open_url', default_url: 'http://localhost:3000/lark/bind?token=a&b' }] },
    ]);
    expect(link).toContain(
      '<a class="card-button card-button-primary" data-testid="card-button" data-card-button="0" href="http://localhost:3000/lark/bind?token=a&amp;b" target="_blank" rel="noopener noreferrer">Connect account</a>',
    );
    const desktop = card([{ tag: 'button', text: { tag: 'plain_text', content: 'Open' }, behaviors: [{ type: 'open_url', default_url: 'https://a.example/', pc_url: 'https://pc.example/' }] }]);
    expect(desktop).toContain('href="https://pc.example/"');
    const legacy = render.messageBody(
      message('interactive', { elements: [{ tag: 'action', actions: [{ tag: 'button', text: { tag: 'plain_text', content: 'Docs' }, multi_url: { url: 'https://docs.example/' } }] }] }),
    );
    expect(legacy).toContain('<a class="card-button card-button-default" data-testid="card-button" data-card-button="0" href="https://docs.example/"');
    const callback = card([{ tag: 'button', text: { tag: 'plain_text', content: 'Stop' }, type: 'danger', behaviors: [{ type: 'callback', value: { a: 'stop' } }] }]);
    expect(callback).toContain('<button type="button" class="card-button card-button-danger" data-testid="card-button" data-card-button="0">Stop</button>');
    for (const inert of [
      { tag: 'button', text: { tag: 'plain_text', content: 'Go' }, behaviors: [{ type: 'open_url', default_url: 'javascript:alert(1)' }] },
      { tag: 'button', text: { tag: 'plain_text', content: 'Go' }, disabled: true, behaviors: [{ type: 'callback', value: { a: 1 } }] },
      { tag: 'button', text: { tag: 'plain_text', content: 'Go' }, type: '"><script>' },
    ]) {
      const html = card([inert]);
      expect(html).toContain('<button type="button" class="card-button card-button-default" data-testid="card-button" data-card-button="0" disabled>Go</button>');
      expect(html).not.toContain('javascript:');
    }
  });

  it('numbers card buttons in the order the control API presses them', () => {
    const button = (label: string, behavior: Record<string, unknown> = { type: 'callback', value: { label } }) => ({
      tag: 'button',
      text: { tag: 'plain_text', content: label },
      behaviors: [behavior],
    });
    const card = {
      schema: '2.0',
      body: {
        elements: [
          button('first'),
          { tag: 'column_set', columns: [{ tag: 'column', elements: [button('second'), button('third', { type: 'open_url', default_url: 'https://x.example/' })] }] },
          { tag: 'collapsible_panel', header: { title: { tag: 'plain_text', content: 'More' } }, elements: [button('fourth')] },
          { tag: 'form', name: 'f', elements: [{ tag: 'markdown', content: 'x' }, button('fifth')] },
        ],
      },
    };
    const html = render.messageBody(message('interactive', card));
    const rendered = [...html.matchAll(/data-card-button="(\d+)"[^>]*>([a-z]+)</g)].map((m) => [Number(m[1]), m[2]]);
    const pressed = cardButtons(card).map((b, i) => [i, (b.text as { content: string }).content]);
    expect(rendered).toEqual(pressed);
    expect(pressed.map(([, label]) => label)).toEqual(['first', 'second', 'third', 'fourth', 'fifth']);
  });

  it('marks a streaming card entity as generating, recalled messages as recalled', () => {
    const card = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'partial answer' }] } };
    const streaming = render.messageBody({ ...message('interactive', card), card_entity: { card_id: '7', streaming_mode: true } });
    expect(streaming).toContain('data-testid="card-generating"');
    expect(streaming).toContain('partial answer');
    const done = render.messageBody({ ...message('interactive', card), card_entity: { card_id: '7', streaming_mode: false } });
    expect(done).not.toContain('card-generating');
    const recalled = render.messageBody({ ...message('text', { text: 'secret' }), recalled_at: 1 });
    expect(recalled).toContain('data-testid="recalled"');
    expect(recalled).not.toContain('secret');
  });

  it('ships the page’s controls for recall, threads, toasts and member removal', async () => {
    const page = await (await fetch(`${sim.url}/`)).text();
    for (const id of ['data-testid="toast"', 'id="member-remove-form"', 'name="chat_mode"']) expect(page).toContain(id);
    const app = await (await fetch(`${sim.url}/ui/app.js`)).text();
    for (const marker of ['data-testid="recall-button"', 'data-testid="reply-in-thread"', 'data-testid="reactions"', '/card-action', '/p2p/enter', '/recall']) {
      expect(app).toContain(marker);
    }
  });

  it('renders text mentions longest key first and posts in both forms', () => {
    const mentions = [
      { key: '@_user_1', name: 'Alpha' },
      { key: '@_user_10', name: 'Ten' },
    ];
    const text = render.messageBody(message('text', { text: '@_user_10 and @_user_1 <i>' }, mentions));
    expect(text).toContain('<span class="mention">@Ten</span> and <span class="mention">@Alpha</span> &lt;i&gt;');

    const received = render.messageBody(
      message('post', { title: 'T', content: [[{ tag: 'at', user_id: '@_user_1' }, { tag: 'text', text: ' hi' }]] }, mentions),
    );
    expect(received).toContain('<span class="mention">@Alpha</span> hi');
    const sent = render.messageBody(message('post', { zh_cn: { title: 'Plan', content: [[{ tag: 'code_block', text: '<x>' }]] } }));
    expect(sent).toContain('Plan');
    expect(sent).toContain('<pre><code>&lt;x&gt;</code></pre>');
  });

  it('renders images, post images and card markdown images by image_key as <img>, and files as chips', () => {
    const key = 'img_v3_02ab_0123abcd-ef01-2345-6789-abcdef012345g';
    const image = render.messageBody({ ...message('image', { image_key: key }), media: [{ key, type: 'image', size: 1234 }] });
    expect(image).toContain(`<img class="msg-image" src="/ui/media/${key}"`);
    const post = render.messageBody(message('post', { title: '', content: [[{ tag: 'text', text: 'see' }], [{ tag: 'img', image_key: key }]] }));
    expect(post).toContain(`<img class="post-image" src="/ui/media/${key}"`);
    const card = render.messageBody(
      message('interactive', { schema: '2.0', body: { elements: [{ tag: 'markdown', content: `![chart](${key}) and ![x](https://evil.test/x.png)` }, { tag: 'img', img_key: key }] } }),
    );
    expect(card).toContain(`<img class="md-image" src="/ui/media/${key}" alt="chart"`);
    expect(card).toContain(`<img class="card-image" src="/ui/media/${key}"`);
    expect(card).not.toContain('evil.test');
    const fileKey = 'file_v3_00ab_0123abcd-ef01-2345-6789-abcdef012345g';
    const file = render.messageBody({
      ...message('file', { file_key: fileKey, file_name: 'Q1 <report>.pdf' }),
      media: [{ key: fileKey, type: 'file', size: 2_621_440, file_name: 'Q1 <report>.pdf' }],
    });
    expect(file).toContain('data-testid="sim-file-message"');
    expect(file).toContain('Q1 &lt;report&gt;.pdf');
    expect(file).toContain('2.5 MB');
    expect(file).toContain(`href="/ui/media/${fileKey}"`);
    const forwarded = render.messageBody({
      ...message('merge_forward', 'Merged and Forwarded Message'),
      forwarded: [{ ...message('text', { text: 'inner' }), sender: { name: 'Ada' } }],
    });
    expect(forwarded).toContain('data-testid="sim-merge-forward-message"');
    expect(forwarded).toContain('inner');
    // A key of another shape is never turned into a URL.
    expect(render.messageBody(message('image', { image_key: '../../etc/passwd' }))).not.toContain('<img');
  });

  it('serves stored images and files to the page, and ships the composer’s media controls', async () => {
    const control = controlClient(sim.url);
    const { world, chatId } = await seedTeamChat(sim.url, control);
    await control.post('/messages', { user_id: world.userId, chat_id: chatId, image: { sample: 'photo' } });
    await control.post('/messages', { user_id: world.userId, chat_id: chatId, file: { sample: 'json' } });
    const rows = (await control.get<{ messages: Array<{ content: Record<string, string> }> }>(`/chats/${chatId}/messages`)).messages;
    const image = await fetch(`${sim.url}/ui/media/${rows[0].content.image_key}`);
    expect([image.status, image.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(Buffer.from(await image.arrayBuffer()).equals(samples().photo.data)).toBe(true);
    const file = await fetch(`${sim.url}/ui/media/${rows[1].content.file_key}`);
    expect(file.headers.get('content-disposition')).toContain('project.json');
    expect(await file.text()).toBe(samples().json.data.toString('utf8'));
    expect((await fetch(`${sim.url}/ui/media/img_v3_unknown`)).status).toBe(404);

    const page = await (await fetch(`${sim.url}/`)).text();
    for (const id of ['sim-send-image', 'sim-send-file', 'sim-send-audio', 'sim-send-post-image', 'sim-attach-file', 'sim-merge-forward']) {
      expect(page).toContain(`data-testid="${id}"`);
    }
    const app = await (await fetch(`${sim.url}/ui/app.js`)).text();
    for (const marker of ['data-testid="sim-select-message"', 'data-testid="sim-quote"', 'merge_forward', 'reply_to', 'data_base64']) expect(app).toContain(marker);
  });
});
