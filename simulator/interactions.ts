import { isDeepStrictEqual } from 'node:util';
import { buttonAction, cardButtons, checkEntityCard, expireStreaming, isStreaming, type CardRuntime } from './cards';
import type { SimulatorConfig } from './config';
import { ControlError, notFound } from './control-input';
import type { AckPayload, DeliveryEngine } from './delivery';
import { buildBotMembershipEvent, buildCardActionEvent, buildP2pEnteredEvent } from './events';
import { randomHex } from './ids';
import { checkContent } from './im-content';
import { ownMedia } from './media';
import { notifyApps, recallMessage, type Sent } from './notify';
import type { App, Chat, Directory, Message } from './state';

// What Lark users do besides writing messages: recall one, press a card button, add or remove a
// bot, open the DM with a bot. Each is an event to the bots concerned.

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export type InteractionDeps = { dir: Directory; delivery: DeliveryEngine; cards: CardRuntime; config: SimulatorConfig };

const invalid = (message: string) => new ControlError(400, 'invalid_request', message);

function requireMessage(dir: Directory, messageId: string): Message {
  const message = dir.messages.get(messageId);
  if (!message) throw notFound(`message ${messageId}`);
  return message;
}

function requireUser(dir: Directory, userId: string) {
  const user = dir.users.get(userId);
  if (!user) throw notFound(`user ${userId}`);
  return user;
}

/** A user recalls their own message: `im.message.recalled_v1` to every bot of the chat. */
export function recallByUser(deps: InteractionDeps, messageId: string, userId: string) {
  const message = requireMessage(deps.dir, messageId);
  requireUser(deps.dir, userId);
  if (message.sender.type !== 'user' || message.sender.id !== userId) throw invalid('a user can only recall their own messages');
  if (message.recalledAt !== undefined) throw new ControlError(409, 'conflict', `message ${messageId} is already recalled`);
  const deliveries = recallMessage(deps.dir, deps.delivery, message);
  return { message_id: message.messageId, recall_time: message.recalledAt!, deliveries };
}

// --- membership ---------------------------------------------------------------------------

/** The user named as the operator, else the chat's first user; they must be in the chat. */
function operatorOf(chat: Chat, operatorUserId: string | undefined): string {
  const operator = operatorUserId ?? [...chat.userIds][0];
  if (!operator) throw invalid('name an operator_user_id: the chat has no users to add or remove a bot');
  if (!chat.userIds.has(operator)) throw invalid(`operator ${operator} is not in the chat`);
  return operator;
}

/** Adds members; each bot that joins gets `im.chat.member.bot.added_v1`. */
export function addMembers(deps: InteractionDeps, chat: Chat, input: { userIds: string[]; appIds: string[]; operatorUserId?: string }): Sent[] {
  const joining = input.appIds.filter((id) => !chat.appIds.has(id));
  const before = new Set(chat.userIds);
  input.userIds.forEach((u) => chat.userIds.add(u));
  let operator: string;
  try {
    operator = joining.length ? operatorOf(chat, input.operatorUserId) : '';
  } catch (error) {
    // Bad input changes nothing.
    chat.userIds.clear();
    before.forEach((u) => chat.userIds.add(u));
    throw error;
  }
  joining.forEach((a) => chat.appIds.add(a));
  const apps = joining.map((id) => deps.dir.apps.get(id)!);
  return notifyApps(deps.delivery, apps, 'im.chat.member.bot.added_v1', (receiver, eventId) =>
    buildBotMembershipEvent({ dir: deps.dir, receiver, eventId, eventType: 'im.chat.member.bot.added_v1', chat, operatorUserId: operator }),
  );
}

/** Removes members; each bot removed gets `im.chat.member.bot.deleted_v1`. */
export function removeMembers(deps: InteractionDeps, chat: Chat, input: { userIds: string[]; appIds: string[]; operatorUserId?: string }): Sent[] {
  for (const id of input.userIds) if (!chat.userIds.has(id)) throw invalid(`user ${id} is not in the chat`);
  for (const id of input.appIds) if (!chat.appIds.has(id)) throw invalid(`app ${id} is not in the chat`);
  const operator = input.appIds.length ? operatorOf(chat, input.operatorUserId) : '';
  input.userIds.forEach((u) => chat.userIds.delete(u));
  input.appIds.forEach((a) => chat.appIds.delete(a));
  const apps = input.appIds.map((id) => deps.dir.apps.get(id)!);
  return notifyApps(deps.delivery, apps, 'im.chat.member.bot.deleted_v1', (receiver, eventId) =>
    buildBotMembershipEvent({ dir: deps.dir, receiver, eventId, eventType: 'im.chat.member.bot.deleted_v1', chat, operatorUserId: operator }),
  );
}

/** A user opens the DM with a bot (created on first use): `im.chat.access_event.bot_p2p_chat_entered_v1`. */
export function enterP2p(deps: InteractionDeps, app: App, userId: string) {
  const user = requireUser(deps.dir, userId);
  if (user.tenantKey !== app.tenantKey) throw invalid('user and app are in different tenants');
  const chat = deps.dir.p2pChat(app, user);
  const deliveries = notifyApps(deps.delivery, [app], 'im.chat.access_event.bot_p2p_chat_entered_v1', (receiver, eventId) =>
    buildP2pEnteredEvent({ dir: deps.dir, receiver, eventId, chat, userId }),
  );
  return { chat_id: chat.chatId, deliveries };
}

// --- card buttons -------------------------------------------------------------------------

/** The card a message shows now: its card entity's, or its own content. */
export function currentCard(deps: { dir: Directory; config: SimulatorConfig }, message: Message): Json {
  const entity = message.cardId ? deps.dir.cards.get(message.cardId) : undefined;
  if (entity) {
    expireStreaming(entity, deps.config.streamingTimeoutMs);
    return entity.card;
  }
  return JSON.parse(message.content) as Json;
}

export type Toast = { type: 'info' | 'success' | 'warning' | 'error'; content?: string; i18n?: Record<string, string> };

export type ClickResult =
  | { status: 'open_url'; url: string }
  | {
      /** answered: the bot ACKed in time and its answer was applied. */
      status: 'answered' | 'timeout' | 'rejected';
      event_id: string;
      /** What the clicking user sees: the bot's toast, or Lark's own error toast. */
      toast: Toast | null;
      /** The card that replaced the message's card, if the answer held one. */
      card: Json | null;
      /** The decoded `data` of the ACK (the bot's answer as sent). */
      response: unknown;
      error?: string;
    };

const toastTypes = new Set(['info', 'success', 'warning', 'error']);

function readToast(value: unknown): Toast | string {
  if (!isObject(value) || typeof value.type !== 'string' || !toastTypes.has(value.type)) return 'toast.type must be info, success, warning or error';
  const hasContent = typeof value.content === 'string' && value.content !== '';
  const hasI18n = isObject(value.i18n) && Object.values(value.i18n).every((v) => typeof v === 'string');
  if (!hasContent && !hasI18n) return 'a toast needs content or i18n';
  return value as Toast;
}

/**
 * A user presses a button. A link opens (nothing reaches the bot). A callback button sends
 * `card.action.trigger` to the card's bot and waits (the ACK timeout, Lark: 3 s) for the ACK whose
 * `data` is the answer: a toast shown to this user and/or a card replacing the message's card. No
 * answer in time, a non-200 ACK or a malformed answer shows the user an error and changes nothing.
 * While it waits, a card entity shown by the message refuses updates (200810).
 */
export async function clickCardButton(
  deps: InteractionDeps,
  input: { messageId: string; userId: string; index?: number; value?: unknown },
): Promise<ClickResult> {
  const { dir } = deps;
  const message = requireMessage(dir, input.messageId);
  const user = requireUser(dir, input.userId);
  if (message.msgType !== 'interactive') throw invalid(`message ${message.messageId} is not a card`);
  if (message.recalledAt !== undefined) throw invalid(`message ${message.messageId} is recalled`);
  const chat = dir.chats.get(message.chatId)!;
  if (!chat.userIds.has(user.id)) throw invalid(`user ${user.id} is not in chat ${chat.chatId}`);
  const buttons = cardButtons(currentCard(deps, message));
  const button =
    input.index !== undefined
      ? buttons[input.index]
      : buttons.find((b) => {
          const action = buttonAction(b);
          return action.kind === 'callback' && isDeepStrictEqual(action.value, input.value);
        });
  if (!button) throw invalid(input.index !== undefined ? `the card has no button ${input.index} (it has ${buttons.length})` : 'no callback button carries that value');
  const action = buttonAction(button);
  if (action.kind === 'inert') throw invalid('that button does nothing when pressed');
  if (action.kind === 'open_url') return { status: 'open_url', url: action.url };
  if (message.sender.type !== 'app') throw invalid('only a bot’s card can call back');
  const app = dir.apps.get(message.sender.id)!;

  const endInteraction = message.cardId ? deps.cards.beginInteraction(message.cardId) : () => {};
  return new Promise<ClickResult>((resolve) => {
    let eventId = '';
    let settled = false;
    const finish = (result: Omit<Extract<ClickResult, { event_id: string }>, 'event_id'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      endInteraction();
      resolve({ ...result, event_id: eventId });
    };
    const failed = (status: 'timeout' | 'rejected', error: string, response: unknown = null) =>
      finish({ status, toast: { type: 'error', content: error }, card: null, response, error });
    const timer = setTimeout(() => failed('timeout', 'The bot did not answer in time.'), deps.config.ackTimeoutMs);
    const onAck = (ack: AckPayload) => {
      if (ack.code !== 200) return failed('rejected', `The bot answered with code ${String(ack.code)}.`);
      const answer = decodeAnswer(ack.body?.data);
      if ('error' in answer) return failed('rejected', answer.error);
      const applied = applyAnswer(deps, message, answer.value);
      if ('error' in applied) return failed('rejected', applied.error, answer.value);
      finish({ status: 'answered', toast: applied.toast, card: applied.card, response: answer.value });
    };
    const token = `c-${randomHex(40)}`;
    [{ event_id: eventId }] = notifyApps(
      deps.delivery,
      [app],
      'card.action.trigger',
      (receiver, id) => buildCardActionEvent({ dir, receiver, eventId: id, message, userId: user.id, value: action.value, name: action.name, token }),
      { imMessageId: message.messageId, onAck },
    );
  });
}

/** The ACK's `data`: base64 of the JSON answer; absent means an empty answer. */
function decodeAnswer(data: unknown): { value: unknown } | { error: string } {
  if (data === undefined || data === null || data === '') return { value: {} };
  if (typeof data !== 'string') return { error: 'The answer’s data is not a base64 string.' };
  try {
    return { value: JSON.parse(Buffer.from(data, 'base64').toString('utf8')) };
  } catch {
    return { error: 'The answer’s data is not base64 of JSON.' };
  }
}

function applyAnswer(deps: InteractionDeps, message: Message, answer: unknown): { toast: Toast | null; card: Json | null } | { error: string } {
  // An answer that is not an object (e.g. a handler's bare string) changes nothing.
  if (!isObject(answer)) return { toast: null, card: null };
  let toast: Toast | null = null;
  if (answer.toast !== undefined) {
    const read = readToast(answer.toast);
    if (typeof read === 'string') return { error: read };
    toast = read;
  }
  if (answer.card === undefined) return { toast, card: null };
  const card = answer.card;
  if (!isObject(card) || card.type !== 'raw' || !isObject(card.data)) {
    return { error: 'card must be {"type":"raw","data":<card JSON>} (templates are not available here)' };
  }
  const data = card.data;
  // The answer is the card's bot speaking: its images must be that bot's own uploads.
  const media = ownMedia(deps.dir, message.sender.id);
  const entity = message.cardId ? deps.dir.cards.get(message.cardId) : undefined;
  if (entity) {
    if (data.schema !== '2.0') return { error: 'a card entity shows card JSON 2.0 only' };
    const error = checkEntityCard(data, deps.config.cardTableLimit, media);
    if (error) return { error: error.msg };
    const now = Date.now();
    const wasStreaming = isStreaming(entity.card);
    entity.card = data;
    entity.updatedAt = now;
    if (!isStreaming(data)) entity.streamingOpenedAt = undefined;
    else if (!wasStreaming) entity.streamingOpenedAt = now;
    deps.cards.log(entity.cardId, { at: now, kind: 'callback_card', sequence: null, content_length: JSON.stringify(data).length, code: 0 });
  } else {
    const content = JSON.stringify(data);
    const checked = checkContent('interactive', content, { tableLimit: deps.config.cardTableLimit, media });
    if (!checked.ok) return { error: checked.error.msg };
    message.content = content;
    message.updates.push(content);
    message.updateTime = Date.now();
  }
  return { toast, card: data };
}

