import type { DeliveryEngine } from './delivery';
import { buildMessageReceiveEvent } from './events';
import { newEventId } from './ids';
import { appendMessage } from './messaging';
import type { App, Chat, Directory, Party, StoredMention, User } from './state';

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
  mentions?: Array<{ app_id?: string; user_id?: string }>;
  rootId?: string;
};

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
function composePost(table: MentionTable, post: NonNullable<UserMessageInput['post']>, leading: Party[]) {
  const atElement = (party: Party) => ({ tag: 'at', user_id: table.keyFor(party), user_name: table.nameOf(party) });
  const content = post.content.map((paragraph) =>
    paragraph.map((element) => {
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

/**
 * A user posts into a chat: the message is recorded and `im.message.receive_v1` goes to the bot of a
 * p2p chat, or to every bot of a group (each with its own event_id and ids scoped to it).
 */
export function postUserMessage(dir: Directory, delivery: DeliveryEngine, input: UserMessageInput) {
  const user = dir.users.get(input.userId);
  if (!user) throw new InputError('not_found', `user ${input.userId} not found`);
  const target = resolveTarget(dir, user, input);
  const replyTo = input.rootId ? dir.messages.get(input.rootId) : undefined;
  if (input.rootId && (!replyTo || replyTo.chatId !== target.existing?.chatId)) {
    throw new InputError('invalid_request', `root_id ${input.rootId} is not a message of this chat`);
  }
  const table = new MentionTable(dir, target, user);
  const leading = (input.mentions ?? []).map(partyOf);
  const [msgType, content] =
    input.text !== undefined
      ? ['text', { text: composeText(table, input.text, leading) }]
      : ['post', composePost(table, input.post!, leading)];

  const chat = target.openChat();
  const message = appendMessage(dir, {
    chat,
    sender: { type: 'user', id: user.id },
    msgType,
    content: JSON.stringify(content),
    mentions: table.mentions,
    ...(replyTo ? { replyTo, inThread: true } : {}),
  });
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
