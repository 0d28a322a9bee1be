import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeInboundEvent, eventTypeOf, type DecodedEvent, type InboundMessage } from './event-decoder';
import { rewriteMentionsForAgent } from './mentions';

type MessageOverrides = Record<string, unknown>;

// Shaped like real im.message.receive_v1 deliveries (v2 envelope, content as a JSON string).
function envelope(messageType: string, content: unknown, overrides: MessageOverrides = {}, headerOverrides: Record<string, unknown> = {}) {
  return {
    schema: '2.0',
    header: {
      event_id: '5e3702a84e847582be8db7fb73283c02',
      event_type: 'im.message.receive_v1',
      create_time: '1608725989000',
      token: 'rvaYgkR9pVbC9ZJWA7i6tA',
      app_id: 'cli_9f5343c580712544',
      tenant_key: '2ca1d211f64f6438',
      ...headerOverrides,
    },
    event: {
      sender: {
        sender_id: { union_id: 'on_8ed6aa67826108097d9ee143816345', user_id: 'e33ggbyz', open_id: 'ou_84aad35d084aa403a838cf73ee18467' },
        sender_type: 'user',
        tenant_key: '736588c9260f175e',
      },
      message: {
        message_id: 'om_5ce6d572455d361153b7cb51da133945',
        root_id: 'om_5ce6d572455d361153b7cb5xxfsdfsdfdsf',
        parent_id: 'om_5ce6d572455d361153b7cb5xxfsdfsdfdsf',
        create_time: '1609073151345',
        chat_id: 'oc_5ce6d572455d361153b7xx51da133945',
        thread_id: 'omt_d4be107c616',
        chat_type: 'group',
        message_type: messageType,
        content: typeof content === 'string' ? content : JSON.stringify(content),
        mentions: [
          {
            key: '@_user_1',
            id: { union_id: 'on_bot_union', user_id: '', open_id: 'ou_bot_as_seen_in_event' },
            name: 'Larkspur Bot',
            tenant_key: '736588c9260f175e',
          },
          {
            key: '@_user_2',
            id: { union_id: 'on_alice_union', user_id: 'alice01', open_id: 'ou_alice' },
            name: 'Alice',
            tenant_key: '736588c9260f175e',
          },
        ],
        ...overrides,
      },
    },
  };
}

function message(result: DecodedEvent): InboundMessage {
  if (result.kind !== 'message') throw new Error(`expected a message, got ${result.kind === 'ignore' ? `ignore(${result.reason}: ${result.detail ?? ''})` : result.kind}`);
  return result.message;
}

describe('decodeInboundEvent', () => {
  it('decodes a group text message with mentions into the typed shape', () => {
    const decoded = message(decodeInboundEvent(JSON.stringify(envelope('text', { text: '@_user_1 please ask @_user_2 to review' }))));
    expect(decoded).toEqual({
      eventId: '5e3702a84e847582be8db7fb73283c02',
      eventType: 'im.message.receive_v1',
      appId: 'cli_9f5343c580712544',
      tenantKey: '2ca1d211f64f6438',
      messageId: 'om_5ce6d572455d361153b7cb51da133945',
      chatId: 'oc_5ce6d572455d361153b7xx51da133945',
      chatType: 'group',
      rootId: 'om_5ce6d572455d361153b7cb5xxfsdfsdfdsf',
      parentId: 'om_5ce6d572455d361153b7cb5xxfsdfsdfdsf',
      threadId: 'omt_d4be107c616',
      sender: {
        openId: 'ou_84aad35d084aa403a838cf73ee18467',
        unionId: 'on_8ed6aa67826108097d9ee143816345',
        userId: 'e33ggbyz',
        type: 'user',
      },
      mentions: [
        { key: '@_user_1', openId: 'ou_bot_as_seen_in_event', unionId: 'on_bot_union', userId: null, name: 'Larkspur Bot' },
        { key: '@_user_2', openId: 'ou_alice', unionId: 'on_alice_union', userId: 'alice01', name: 'Alice' },
      ],
      messageType: 'text',
      text: '@_user_1 please ask @_user_2 to review',
      attachments: [],
      createTime: 1609073151345,
    });
  });

  it('accepts the payload as bytes or as an already parsed object', () => {
    const raw = envelope('text', { text: 'hi' });
    expect(message(decodeInboundEvent(new TextEncoder().encode(JSON.stringify(raw)))).text).toBe('hi');
    expect(message(decodeInboundEvent(raw)).text).toBe('hi');
  });

  it('decodes a p2p message without thread, root or mentions', () => {
    const decoded = message(
      decodeInboundEvent(envelope('text', { text: 'hello' }, { chat_type: 'p2p', root_id: undefined, parent_id: '', thread_id: undefined, mentions: undefined })),
    );
    expect(decoded.chatType).toBe('p2p');
    expect(decoded.rootId).toBeNull();
    expect(decoded.parentId).toBeNull();
    expect(decoded.threadId).toBeNull();
    expect(decoded.mentions).toEqual([]);
  });

  it('flattens a post: title, paragraphs as lines, links, mentions, fenced code and images', () => {
    const post = {
      title: 'Deploy notes',
      content: [
        [
          { tag: 'at', user_id: '@_user_1', user_name: 'Larkspur Bot' },
          { tag: 'text', text: ' see ' },
          { tag: 'a', href: 'https://example.com/runbook', text: 'the runbook' },
          { tag: 'text', text: ' and ' },
          { tag: 'at', user_id: 'ou_unknown', user_name: 'Bob' },
        ],
        [{ tag: 'code_block', language: 'TypeScript', text: 'const x = 1;\nconsole.log(x);\n' }],
        [{ tag: 'text', text: 'screenshot: ' }, { tag: 'img', image_key: 'img_v2_123' }],
        [{ tag: 'a', href: 'https://example.com', text: '' }, { tag: 'emotion', emoji_type: 'SMILE' }],
        [{ tag: 'text', text: 'before ' }, { tag: 'code_block', language: '', text: 'x' }, { tag: 'text', text: 'after' }],
        [{ tag: 'hr' }, { tag: 'media', file_key: 'f' }],
      ],
    };
    const decoded = message(decodeInboundEvent(envelope('post', post)));
    expect(decoded.text).toBe(
      [
        'Deploy notes',
        '@_user_1 see the runbook (https://example.com/runbook) and @Bob',
        '```typescript',
        'const x = 1;',
        'console.log(x);',
        '```',
        'screenshot: ',
        'https://example.com:SMILE:',
        'before ',
        '```',
        'x',
        '```',
        'after',
        '---',
      ].join('\n'),
    );
    // The post's image and video are its attachments, in order.
    expect(decoded.attachments).toEqual([
      { kind: 'image', key: 'img_v2_123', resourceType: 'image', fileName: null, durationMs: null },
      { kind: 'video', key: 'f', resourceType: 'file', fileName: null, durationMs: null },
    ]);
    // The mention placeholder resolves like in a text message.
    expect(rewriteMentionsForAgent(decoded.text, decoded.mentions, { unionId: 'on_bot_union', openId: 'ou_bot' }).split('\n')[1]).toBe(
      'see the runbook (https://example.com/runbook) and @Bob',
    );
  });

  it('flattens a post that still has a locale wrapper', () => {
    const decoded = message(decodeInboundEvent(envelope('post', { zh_cn: { title: '', content: [[{ tag: 'text', text: '你好' }]] } })));
    expect(decoded.text).toBe('你好');
  });

  it.each([
    ['image', { image_key: 'img_v2_041b28e3' }, '', [{ kind: 'image', key: 'img_v2_041b28e3', resourceType: 'image', fileName: null, durationMs: null }]],
    ['file', { file_key: 'file_v2_9d3', file_name: 'report.pdf' }, '', [{ kind: 'file', key: 'file_v2_9d3', resourceType: 'file', fileName: 'report.pdf', durationMs: null }]],
    ['audio', { file_key: 'file_v2_a1', duration: 2000 }, '', [{ kind: 'audio', key: 'file_v2_a1', resourceType: 'file', fileName: null, durationMs: 2000 }]],
    ['audio', { file_key: 'file_v2_a1', duration: 2000, speech_to_text: ' ship it on Friday ' }, 'ship it on Friday', [{ kind: 'audio', key: 'file_v2_a1', resourceType: 'file', fileName: null, durationMs: 2000 }]],
    ['media', { file_key: 'file_v2_m1', image_key: 'img_v2_m1', file_name: 'clip.mp4', duration: 2000 }, '', [{ kind: 'video', key: 'file_v2_m1', resourceType: 'file', fileName: 'clip.mp4', durationMs: 2000 }]],
    // Stickers cannot be downloaded: no resource type.
    ['sticker', { file_key: 'file_v2_s1' }, '', [{ kind: 'sticker', key: 'file_v2_s1', resourceType: null, fileName: null, durationMs: null }]],
    ['merge_forward', { content: 'Merged and Forwarded Message' }, '', []],
    ['file', { file_name: 'no-key.pdf' }, '', []],
    ['share_chat', { chat_id: 'oc_x' }, '[Unsupported message]', []],
    ['interactive', { elements: [] }, '[Unsupported message]', []],
  ])('reads %s content as its text and attachments', (type, content, text, attachments) => {
    const decoded = message(decodeInboundEvent(envelope(type, content)));
    expect(decoded.text).toBe(text);
    expect(decoded.attachments).toEqual(attachments);
  });

  it('ignores malformed JSON payloads', () => {
    expect(decodeInboundEvent('{"schema":"2.0",')).toEqual({ kind: 'ignore', reason: 'malformed_json' });
    expect(decodeInboundEvent('[1,2]')).toEqual({ kind: 'ignore', reason: 'not_an_object' });
  });

  it('ignores v1 envelopes and unknown event types', () => {
    expect(decodeInboundEvent({ uuid: 'x', event: { type: 'message' } })).toMatchObject({ kind: 'ignore', reason: 'unsupported_schema' });
    expect(decodeInboundEvent(envelope('text', { text: 'x' }, {}, { event_type: 'im.chat.updated_v1' }))).toMatchObject({
      kind: 'ignore',
      reason: 'unsupported_event_type',
      eventType: 'im.chat.updated_v1',
      eventId: '5e3702a84e847582be8db7fb73283c02',
    });
    expect(decodeInboundEvent(envelope('text', { text: 'x' }, {}, { event_type: 'card.action.trigger' }))).toMatchObject({
      kind: 'ignore',
      reason: 'unsupported_event_type',
    });
  });

  it('ignores events with missing required fields, naming the field', () => {
    expect(decodeInboundEvent(envelope('text', { text: 'x' }, { message_id: undefined }))).toMatchObject({
      reason: 'missing_field',
      detail: 'event.message.message_id',
    });
    expect(decodeInboundEvent(envelope('text', { text: 'x' }, { chat_id: '' }))).toMatchObject({ reason: 'missing_field', detail: 'event.message.chat_id' });
    expect(decodeInboundEvent(envelope('text', { text: 'x' }, {}, { event_id: undefined }))).toMatchObject({ reason: 'missing_field', detail: 'header.event_id' });
    const noSender = envelope('text', { text: 'x' }) as { event: Record<string, unknown> };
    delete noSender.event.sender;
    expect(decodeInboundEvent(noSender)).toMatchObject({ reason: 'missing_field', detail: 'event.sender.sender_id.open_id' });
  });

  it('ignores unsupported chat types and unreadable text content', () => {
    expect(decodeInboundEvent(envelope('text', { text: 'x' }, { chat_type: 'topic' }))).toMatchObject({ reason: 'unsupported_chat_type' });
    expect(decodeInboundEvent(envelope('text', 'not json'))).toMatchObject({ reason: 'malformed_content', detail: 'text' });
    expect(decodeInboundEvent(envelope('text', { nottext: 1 }))).toMatchObject({ reason: 'malformed_content' });
    expect(decodeInboundEvent(envelope('post', { title: 'no content' }))).toMatchObject({ reason: 'malformed_content', detail: 'post' });
  });

  it('skips malformed mention entries and falls back to the header create_time', () => {
    const decoded = message(
      decodeInboundEvent(envelope('text', { text: 'hi' }, { mentions: [null, { id: {} }, { key: '@_user_3', id: null }], create_time: 'soon' })),
    );
    expect(decoded.mentions).toEqual([{ key: '@_user_3', openId: null, unionId: null, userId: null, name: '' }]);
    expect(decoded.createTime).toBe(1608725989000);
  });

  it('never throws on arbitrary JSON values or strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.string(), fc.json()), (value) => {
        const result = decodeInboundEvent(value);
        expect(['message', 'ignore']).toContain(result.kind);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on structurally plausible envelopes with random leaves', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.jsonValue());
    const arb = fc.record({
      schema: fc.oneof(fc.constant('2.0'), leaf),
      header: fc.oneof(fc.record({ event_id: leaf, event_type: fc.oneof(fc.constant('im.message.receive_v1'), leaf) }), leaf),
      event: fc.oneof(
        fc.record({
          sender: fc.oneof(fc.record({ sender_id: fc.oneof(fc.record({ open_id: leaf, union_id: leaf }), leaf) }), leaf),
          message: fc.oneof(
            fc.record({
              message_id: leaf,
              chat_id: leaf,
              chat_type: fc.oneof(fc.constantFrom('p2p', 'group'), leaf),
              message_type: fc.oneof(fc.constantFrom('text', 'post', 'file', 'image'), leaf),
              content: fc.oneof(fc.json(), leaf),
              mentions: fc.oneof(fc.array(fc.oneof(fc.record({ key: leaf, id: leaf, name: leaf }), leaf)), leaf),
            }),
            leaf,
          ),
        }),
        leaf,
      ),
    });
    fc.assert(
      fc.property(arb, (value) => {
        const result = decodeInboundEvent(value);
        expect(['message', 'ignore']).toContain(result.kind);
        if (result.kind === 'message') expect(typeof result.message.text).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});

// Shaped like the platform's chat events (v2 envelope; the SDK's generated types list the same fields).
function chatEvent(eventType: string, event: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return {
    schema: '2.0',
    header: { event_id: 'ev_chat_1', event_type: eventType, create_time: '1608725989000', token: 't', app_id: 'cli_9f5343c580712544', tenant_key: '2ca1d211f64f6438', ...header },
    event,
  };
}

const operator = { union_id: 'on_op', user_id: 'op01', open_id: 'ou_op' };

describe('decodeInboundEvent: chat events', () => {
  it('decodes a recall', () => {
    const decoded = decodeInboundEvent(
      JSON.stringify(chatEvent('im.message.recalled_v1', { message_id: 'om_1', chat_id: 'oc_1', recall_time: '1700000000123', recall_type: 'message_owner' })),
    );
    expect(decoded).toEqual({
      kind: 'recall',
      eventId: 'ev_chat_1',
      appId: 'cli_9f5343c580712544',
      messageId: 'om_1',
      chatId: 'oc_1',
      recallTime: 1700000000123,
      recallType: 'message_owner',
    });
    expect(eventTypeOf(decoded as Exclude<DecodedEvent, { kind: 'ignore' }>)).toBe('im.message.recalled_v1');
  });

  it('keeps a recall whose time and type are missing, and refuses one without its message', () => {
    expect(decodeInboundEvent(chatEvent('im.message.recalled_v1', { message_id: 'om_1', chat_id: 'oc_1', recall_time: 'soon' }))).toMatchObject({
      kind: 'recall',
      recallTime: null,
      recallType: null,
    });
    expect(decodeInboundEvent(chatEvent('im.message.recalled_v1', { chat_id: 'oc_1' }))).toMatchObject({
      kind: 'ignore',
      reason: 'missing_field',
      detail: 'event.message_id',
      eventId: 'ev_chat_1',
      eventType: 'im.message.recalled_v1',
    });
  });

  it('decodes the bot joining and leaving a group', () => {
    const event = { chat_id: 'oc_team', operator_id: operator, external: false, operator_tenant_key: 'tk', name: 'Team Rocket', i18n_names: { en_us: 'Team Rocket' } };
    const added = decodeInboundEvent(chatEvent('im.chat.member.bot.added_v1', event));
    expect(added).toEqual({
      kind: 'bot_membership',
      added: true,
      eventId: 'ev_chat_1',
      appId: 'cli_9f5343c580712544',
      chatId: 'oc_team',
      chatName: 'Team Rocket',
      operatorOpenId: 'ou_op',
    });
    const removed = decodeInboundEvent(chatEvent('im.chat.member.bot.deleted_v1', { chat_id: 'oc_team', operator_id: operator }));
    expect(removed).toEqual({ kind: 'bot_membership', added: false, eventId: 'ev_chat_1', appId: 'cli_9f5343c580712544', chatId: 'oc_team', chatName: null, operatorOpenId: 'ou_op' });
    expect(eventTypeOf(added as Exclude<DecodedEvent, { kind: 'ignore' }>)).toBe('im.chat.member.bot.added_v1');
    expect(eventTypeOf(removed as Exclude<DecodedEvent, { kind: 'ignore' }>)).toBe('im.chat.member.bot.deleted_v1');
    expect(decodeInboundEvent(chatEvent('im.chat.member.bot.added_v1', { name: 'No chat' }))).toMatchObject({ kind: 'ignore', reason: 'missing_field', detail: 'event.chat_id' });
  });

  it('decodes a user opening the direct chat', () => {
    expect(decodeInboundEvent(chatEvent('im.chat.access_event.bot_p2p_chat_entered_v1', { chat_id: 'oc_dm', operator_id: operator, last_message_id: 'om_9' }))).toEqual({
      kind: 'p2p_entered',
      eventId: 'ev_chat_1',
      appId: 'cli_9f5343c580712544',
      chatId: 'oc_dm',
      operatorOpenId: 'ou_op',
    });
    expect(decodeInboundEvent(chatEvent('im.chat.access_event.bot_p2p_chat_entered_v1', { chat_id: 'oc_dm', operator_id: { user_id: 'x' } }))).toMatchObject({
      kind: 'ignore',
      reason: 'missing_field',
      detail: 'event.operator_id.open_id',
    });
  });

  it('needs the event id and the event body', () => {
    expect(decodeInboundEvent(chatEvent('im.chat.member.bot.deleted_v1', { chat_id: 'oc_1' }, { event_id: '' }))).toMatchObject({ reason: 'missing_field', detail: 'header.event_id' });
    const noBody = chatEvent('im.message.recalled_v1', {}) as Record<string, unknown>;
    delete noBody.event;
    expect(decodeInboundEvent(noBody)).toMatchObject({ reason: 'missing_field', detail: 'event' });
  });

  it('leaves card actions to the connection: they decode as unsupported here', () => {
    const press = chatEvent('card.action.trigger', { operator: { open_id: 'ou_op' }, action: { value: { a: 'stop' } }, context: { open_message_id: 'om_1', open_chat_id: 'oc_1' } });
    expect(decodeInboundEvent(press)).toMatchObject({ kind: 'ignore', reason: 'unsupported_event_type', eventType: 'card.action.trigger' });
  });

  it('never throws on arbitrary chat-event shapes', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.dictionary(fc.string(), fc.string()));
    const arb = fc.record({
      schema: fc.constant('2.0'),
      header: fc.record({
        event_id: leaf,
        app_id: leaf,
        event_type: fc.constantFrom('im.message.recalled_v1', 'im.chat.member.bot.added_v1', 'im.chat.member.bot.deleted_v1', 'im.chat.access_event.bot_p2p_chat_entered_v1'),
      }),
      event: fc.oneof(
        fc.record({ chat_id: leaf, message_id: leaf, recall_time: leaf, recall_type: leaf, name: leaf, operator_id: fc.oneof(fc.record({ open_id: leaf }), leaf) }),
        leaf,
      ),
    });
    fc.assert(
      fc.property(arb, (value) => {
        const result = decodeInboundEvent(value);
        expect(['recall', 'bot_membership', 'p2p_entered', 'ignore']).toContain(result.kind);
        if (result.kind !== 'ignore' && result.kind !== 'message') expect(typeof result.chatId).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});
