import type { DeliveryEngine } from './delivery';
import { buildMessageReceiveEvent } from './events';
import { newEventId, newMessageId } from './ids';
import { fileContentType, fillerHead, imageSize, makeBlob, sniffImage, type BlobInput } from './media';
import { opusOgg, samples } from './media-samples';
import { appendMessage } from './messaging';
import type { App, Chat, Directory, MediaBlob, Message, Party, StoredMention, User } from './state';

export class InputError extends Error {
  constructor(
    readonly kind: 'invalid_request' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

export type PostElement = Record<string, unknown> & { tag: string };

export type UserMessageInput = {
  userId: string;
  appId?: string;
  chatId?: string;
  text?: string;
  post?: { title?: string; content: PostElement[][] };
  image?: { sample?: 'screenshot' | 'photo'; data_base64?: string };
  file?: { sample?: 'notes' | 'csv' | 'json' | 'pdf'; data_base64?: string; file_name?: string; size_bytes?: number };
  audio?: { duration_ms?: number; speech_to_text?: string };
  media?: { duration_ms?: number };
  sticker?: Record<string, never>;
  mergeForward?: { message_ids: string[] };
  mentions?: Array<{ app_id?: string; user_id?: string }>;
  /** A reply inside the thread of this message. */
  rootId?: string;
  /** A reply quoting this message (not in a thread). */
  replyTo?: string;
};

/** What Lark shows as a merge_forward's content (plain text, not JSON), in events and history. */
export const mergeForwardContent = 'Merged and Forwarded Message';

const tokenPattern = /@\{(app|user):([^}\s]+)\}/g;

/** Numbers mentions `@_user_1`, `@_user_2`, ... in order of first appearance. */
class MentionTable {
  readonly mentions: StoredMention[] = [];

  constructor(
    private readonly dir: Directory,
    private readonly target: Target,
    private readonly sender: User,
  ) {}

  keyFor(party: Party): string {
    const existing = this.mentions.find((m) => m.type === party.type && m.id === party.id);
    if (existing) return existing.key;
    if (party.type === 'app') {
      if (!this.dir.apps.has(party.id)) throw new InputError('not_found', `app ${party.id} not found`);
      if (!this.target.botIds.has(party.id)) throw new InputError('invalid_request', `bot ${party.id} is not in the chat`);
    } else {
      const user = this.dir.users.get(party.id);
      if (!user) throw new InputError('not_found', `user ${party.id} not found`);
      if (user.tenantKey !== this.sender.tenantKey) {
        throw new InputError('invalid_request', `user ${party.id} is in another tenant`);
      }
    }
    const key = `@_user_${this.mentions.length + 1}`;
    this.mentions.push({ key, ...party });
    return key;
  }

  nameOf(party: Party): string {
    return party.type === 'app' ? this.dir.apps.get(party.id)!.name : this.dir.users.get(party.id)!.name;
  }
}

function partyOf(ref: { app_id?: string; user_id?: string }): Party {
  if (ref.app_id) return { type: 'app', id: ref.app_id };
  if (ref.user_id) return { type: 'user', id: ref.user_id };
  throw new InputError('invalid_request', 'a mention names an app_id or a user_id');
}

function composeText(table: MentionTable, text: string, leading: Party[]): string {
  const prefix = leading.map((p) => `${table.keyFor(p)} `).join('');
  return prefix + text.replace(tokenPattern, (_, type: 'app' | 'user', id: string) => table.keyFor({ type, id }));
}

// The received form of a post: no locale wrapper, @-mentions as `at` elements carrying placeholders.
function composePost(table: MentionTable, post: NonNullable<UserMessageInput['post']>, leading: Party[], image: (sample: string) => string) {
  const atElement = (party: Party) => ({ tag: 'at', user_id: table.keyFor(party), user_name: table.nameOf(party) });
  const content = post.content.map((paragraph) =>
    paragraph.map((element) => {
      if (element.tag === 'img') {
        const sample = element.sample;
        if (sample !== 'screenshot' && sample !== 'photo') throw new InputError('invalid_request', 'an img element names a sample: screenshot or photo');
        return { tag: 'img', image_key: image(sample) };
      }
      if (element.tag === 'media') throw new InputError('invalid_request', 'a post cannot hold a video here; send media instead');
      if (element.tag !== 'at') return element;
      const ref = element as { app_id?: string; user_id?: string };
      return atElement(partyOf(ref));
    }),
  );
  if (leading.length) {
    const first = content[0] ?? [];
    content[0] = [...leading.map(atElement), ...first];
  }
  return { title: post.title ?? '', content };
}

/** Where a message goes, checked before anything is written (a DM's chat is only opened on send). */
type Target = { botIds: Set<string>; existing?: Chat; openChat(): Chat; recipients: App[] };

function resolveTarget(dir: Directory, user: User, input: UserMessageInput): Target {
  if (input.appId) {
    const app = dir.apps.get(input.appId);
    if (!app) throw new InputError('not_found', `app ${input.appId} not found`);
    if (app.tenantKey !== user.tenantKey) {
      throw new InputError('invalid_request', 'a user can only message bots of their own tenant');
    }
    return { botIds: new Set([app.appId]), existing: dir.findP2pChat(app, user), openChat: () => dir.p2pChat(app, user), recipients: [app] };
  }
  const chat = dir.chats.get(input.chatId!);
  if (!chat) throw new InputError('not_found', `chat ${input.chatId} not found`);
  if (!chat.userIds.has(user.id)) throw new InputError('invalid_request', `user ${user.id} is not in chat ${chat.chatId}`);
  return { botIds: chat.appIds, existing: chat, openChat: () => chat, recipients: [...chat.appIds].map((id) => dir.apps.get(id)!) };
}

function decodeBase64(value: string, what: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0) throw new InputError('invalid_request', `${what} is empty`);
  return bytes;
}

/** What a user sends along: stored as theirs, and only once the whole message checks out. */
class Attachments {
  private readonly pending: MediaBlob[] = [];

  constructor(
    private readonly dir: Directory,
    private readonly user: User,
  ) {}

  add(input: Omit<BlobInput, 'owner'>): string {
    const blob = makeBlob({ ...input, owner: { type: 'user', id: this.user.id } });
    this.pending.push(blob);
    return blob.key;
  }

  image(bytes: Buffer, fileName?: string): string {
    const format = sniffImage(bytes);
    if (!format) throw new InputError('invalid_request', 'image.data_base64 is not a png, jpeg, gif, webp, bmp, tiff or ico image');
    return this.add({ kind: 'image', data: bytes, contentType: format.contentType, ...(fileName ? { fileName } : {}), ...imageSize(bytes, format.format) });
  }

  sample(name: 'screenshot' | 'photo'): string {
    const sample = samples()[name];
    return this.image(sample.data, sample.fileName);
  }

  commit(): void {
    for (const blob of this.pending.splice(0)) this.dir.media.set(blob.key, blob);
  }
}

type Composed = { msgType: string; content: string; mentions: StoredMention[] };

/** The message's type and content in the received form; media go to `attachments`. */
function compose(input: UserMessageInput, table: MentionTable, attachments: Attachments): Composed {
  const leading = (input.mentions ?? []).map(partyOf);
  const done = (msgType: string, content: unknown): Composed => ({
    msgType,
    content: typeof content === 'string' ? content : JSON.stringify(content),
    mentions: table.mentions,
  });
  if (input.text !== undefined) return done('text', { text: composeText(table, input.text, leading) });
  if (input.post) return done('post', composePost(table, input.post, leading, (sample) => attachments.sample(sample as 'screenshot' | 'photo')));
  if (input.image) {
    const key = input.image.data_base64 !== undefined ? attachments.image(decodeBase64(input.image.data_base64, 'image.data_base64')) : attachments.sample(input.image.sample ?? 'screenshot');
    return done('image', { image_key: key });
  }
  if (input.file) {
    const { sample, data_base64: base64, size_bytes: size } = input.file;
    let key: string;
    let fileName: string;
    if (size !== undefined) {
      // A filler of exactly that size, generated whenever it is read: large files cost no memory.
      fileName = input.file.file_name ?? `large-${size}.bin`;
      key = attachments.add({ kind: 'file', size, filler: true, fileName, contentType: fileContentType(fillerHead(size), fileName) });
    } else if (base64 !== undefined) {
      const bytes = decodeBase64(base64, 'file.data_base64');
      fileName = input.file.file_name ?? 'file.bin';
      key = attachments.add({ kind: 'file', data: bytes, fileName, contentType: fileContentType(bytes, fileName) });
    } else {
      const chosen = samples()[sample ?? 'notes'];
      fileName = input.file.file_name ?? chosen.fileName;
      key = attachments.add({ kind: 'file', data: chosen.data, fileName, contentType: chosen.contentType });
    }
    return done('file', { file_key: key, file_name: fileName });
  }
  if (input.audio) {
    const duration = input.audio.duration_ms ?? 3000;
    const key = attachments.add({ kind: 'file', data: opusOgg(duration), fileName: 'voice.opus', fileType: 'opus', durationMs: duration, contentType: 'audio/ogg' });
    // Whether Lark sends recognised speech is unverified: it is in the content only when asked for.
    const speech = input.audio.speech_to_text !== undefined ? { speech_to_text: input.audio.speech_to_text } : {};
    return done('audio', { file_key: key, duration, ...speech });
  }
  if (input.media) {
    const duration = input.media.duration_ms ?? 5000;
    const video = samples().video;
    const fileKey = attachments.add({ kind: 'file', data: video.data, fileName: video.fileName, fileType: 'mp4', durationMs: duration, contentType: video.contentType });
    const cover = samples().cover;
    const imageKey = attachments.image(cover.data, cover.fileName);
    return done('media', { file_key: fileKey, image_key: imageKey, file_name: video.fileName, duration });
  }
  if (input.sticker) {
    const sticker = samples().sticker;
    return done('sticker', { file_key: attachments.add({ kind: 'sticker', data: sticker.data, fileName: sticker.fileName, contentType: sticker.contentType }) });
  }
  return done('merge_forward', mergeForwardContent);
}

/** The messages a merge_forward holds: existing messages of one chat the user is in, not recalled. */
function forwardable(dir: Directory, user: User, messageIds: string[]): Message[] {
  const messages = messageIds.map((id) => {
    const message = dir.messages.get(id);
    if (!message) throw new InputError('not_found', `message ${id} not found`);
    if (message.upperMessageId !== undefined) throw new InputError('invalid_request', `message ${id} is inside a merge_forward: forward that one instead`);
    if (message.msgType === 'merge_forward') throw new InputError('invalid_request', `message ${id} is a merge_forward: nesting them is not supported here`);
    if (message.recalledAt !== undefined) throw new InputError('invalid_request', `message ${id} is recalled`);
    return message;
  });
  if (new Set(messageIds).size !== messageIds.length) throw new InputError('invalid_request', 'merge_forward.message_ids repeats a message');
  const chatIds = new Set(messages.map((m) => m.chatId));
  if (chatIds.size > 1) throw new InputError('invalid_request', 'merge_forward takes messages of one chat');
  const source = dir.chats.get(messages[0].chatId)!;
  if (!source.userIds.has(user.id)) throw new InputError('invalid_request', `user ${user.id} is not in chat ${source.chatId}`);
  return [...messages].sort((a, b) => a.createTime - b.createTime);
}

/** Copies of the forwarded messages, held by `parent` (in no chat's list; their chat is where they came from). */
function storeForwarded(dir: Directory, parent: Message, originals: Message[]): void {
  parent.forwardedIds = originals.map((original) => {
    const entity = original.cardId ? dir.cards.get(original.cardId) : undefined;
    const copy: Message = {
      messageId: newMessageId(),
      chatId: original.chatId,
      sender: original.sender,
      msgType: original.msgType,
      content: entity ? JSON.stringify(entity.card) : original.content,
      updates: [],
      createTime: original.createTime,
      updateTime: original.updateTime,
      mentions: original.mentions,
      reactions: [],
      upperMessageId: parent.messageId,
    };
    dir.addMessage(copy);
    return copy.messageId;
  });
}

/**
 * A user posts into a chat: the message is recorded and `im.message.receive_v1` goes to the bot of a
 * p2p chat, or to every bot of a group (each with its own event_id and ids scoped to it). Images
 * and files are stored as the user's; a merge_forward holds copies of the forwarded messages.
 */
export function postUserMessage(dir: Directory, delivery: DeliveryEngine, input: UserMessageInput) {
  const user = dir.users.get(input.userId);
  if (!user) throw new InputError('not_found', `user ${input.userId} not found`);
  const target = resolveTarget(dir, user, input);
  const anchorId = input.rootId ?? input.replyTo;
  const replyTo = anchorId ? dir.messages.get(anchorId) : undefined;
  if (anchorId && (!replyTo || replyTo.upperMessageId !== undefined || replyTo.chatId !== target.existing?.chatId)) {
    throw new InputError('invalid_request', `${input.rootId ? 'root_id' : 'reply_to'} ${anchorId} is not a message of this chat`);
  }
  if (replyTo?.recalledAt !== undefined) throw new InputError('invalid_request', `message ${replyTo.messageId} is recalled`);
  const forwarded = input.mergeForward ? forwardable(dir, user, input.mergeForward.message_ids) : [];
  const table = new MentionTable(dir, target, user);
  const attachments = new Attachments(dir, user);
  const composed = compose(input, table, attachments);

  attachments.commit();
  const chat = target.openChat();
  const message = appendMessage(dir, {
    chat,
    sender: { type: 'user', id: user.id },
    msgType: composed.msgType,
    content: composed.content,
    mentions: composed.mentions,
    ...(replyTo ? { replyTo, inThread: input.rootId !== undefined } : {}),
  });
  if (forwarded.length) storeForwarded(dir, message, forwarded);
  const deliveries = target.recipients.map((receiver) => {
    const eventId = newEventId();
    delivery.deliver({
      appId: receiver.appId,
      eventId,
      eventType: 'im.message.receive_v1',
      imMessageId: message.messageId,
      envelope: buildMessageReceiveEvent({ dir, receiver, chat, message, eventId }),
    });
    return { app_id: receiver.appId, event_id: eventId };
  });
  return { message_id: message.messageId, chat_id: chat.chatId, deliveries };
}
