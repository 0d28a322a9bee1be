import { randomBytes } from 'node:crypto';
import { parseJsonObject, type Reply } from './http';
import { larkFail, larkOk } from './lark-errors';
import type { Call } from './rest';
import type { App, Directory, Message, Reaction } from './state';

// Reactions on messages: `/open-apis/im/v1/messages/:message_id/reactions`.

/** Lark's emoji_type values (case-sensitive); anything else answers 231001. */
export const emojiTypes = new Set([
  'OK', 'THUMBSUP', 'THANKS', 'MUSCLE', 'FINGERHEART', 'APPLAUSE', 'FISTBUMP', 'JIAYI', 'DONE', 'SMILE', 'BLUSH',
  'LAUGH', 'SMIRK', 'LOL', 'FACEPALM', 'LOVE', 'WINK', 'PROUD', 'WITTY', 'SMART', 'SCOWL', 'THINKING', 'SOB', 'CRY',
  'ERROR', 'NOSEPICK', 'HAUGHTY', 'SLAP', 'SPITBLOOD', 'TOASTED', 'GLANCE', 'DULL', 'INNOCENTSMILE', 'JOYFUL', 'WOW',
  'TRICK', 'YEAH', 'ENOUGH', 'TEARS', 'EMBARRASSED', 'KISS', 'SMOOCH', 'DROOL', 'OBSESSED', 'MONEY', 'TEASE',
  'SHOWOFF', 'COMFORT', 'CLAP', 'PRAISE', 'STRIVE', 'XBLUSH', 'SILENT', 'WAVE', 'WHAT', 'FROWN', 'SHY', 'DIZZY',
  'LOOKDOWN', 'CHUCKLE', 'WAIL', 'CRAZY', 'WHIMPER', 'HUG', 'BLUBBER', 'WRONGED', 'HUSKY', 'SHHH', 'SMUG', 'ANGRY',
  'HAMMER', 'SHOCKED', 'TERROR', 'PETRIFIED', 'SKULL', 'SWEAT', 'SPEECHLESS', 'SLEEP', 'DROWSY', 'YAWN', 'SICK',
  'PUKE', 'BETRAYED', 'HEADSET', 'EatingFood', 'MeMeMe', 'Sigh', 'Typing', 'Lemon', 'Get', 'LGTM', 'OnIt',
  'OneSecond', 'VRHeadset', 'YouAreTheBest', 'SALUTE', 'SHAKE', 'HIGHFIVE', 'UPPERLEFT', 'ThumbsDown', 'SLIGHT',
  'TONGUE', 'EYESCLOSED', 'RoarForYou', 'CALF', 'BEAR', 'BULL', 'RAINBOWPUKE', 'ROSE', 'HEART', 'PARTY', 'LIPS',
  'BEER', 'CAKE', 'GIFT', 'CUCUMBER', 'Drumstick', 'Pepper', 'CANDIEDHAWS', 'BubbleTea', 'Coffee', 'Yes', 'No',
  'OKR', 'CheckMark', 'CrossMark', 'MinusOne', 'Hundred', 'AWESOMEN', 'Pin', 'Alarm', 'Loudspeaker', 'Trophy',
  'Fire', 'BOMB', 'Music', 'XmasTree', 'Snowman', 'XmasHat', 'FIREWORKS', '2022', 'REDPACKET', 'FORTUNE', 'LUCK',
  'FIRECRACKER', 'StickyRiceBalls', 'HEARTBROKEN', 'POOP', 'StatusFlashOfInspiration', '18X', 'CLEAVER', 'Soccer',
  'Basketball', 'GeneralDoNotDisturb', 'Status_PrivateMessage', 'GeneralInMeetingBusy', 'StatusReading',
  'StatusInFlight', 'GeneralBusinessTrip', 'GeneralWorkFromHome', 'StatusEnjoyLife', 'GeneralTravellingCar',
  'StatusBus', 'GeneralSun', 'GeneralMoonRest', 'PursueUltimate', 'Patient', 'Ambitious', 'CustomerSuccess',
  'Responsible', 'Reliable',
]);

const userIdTypes = ['open_id', 'union_id', 'user_id'] as const;
type UserIdType = (typeof userIdTypes)[number];

const newReactionId = () => randomBytes(48).toString('base64url');

/** The operator as the calling app sees it: an app by app_id, a user by the requested id type. */
function reactionView(dir: Directory, viewer: App, reaction: Reaction, idType: UserIdType = 'open_id') {
  let operatorId = reaction.operator.id;
  if (reaction.operator.type === 'user') {
    const user = dir.users.get(reaction.operator.id)!;
    operatorId = idType === 'open_id' ? dir.userOpenId(viewer.appId, user.id) : idType === 'union_id' ? user.unionId : user.userId;
  }
  return {
    reaction_id: reaction.reactionId,
    operator: { operator_id: operatorId, operator_type: reaction.operator.type },
    action_time: String(reaction.actionTime),
    reaction_type: { emoji_type: reaction.emojiType },
  };
}

/** The message, visible to this app: it exists, is not recalled, and the bot is in its chat. */
function visibleMessage(call: Call, notMember: 'reaction_no_permission' | 'reaction_no_access'): Message | Reply {
  const { deps, app, params } = call;
  const message = deps.dir.messages.get(params.message_id);
  if (!message || message.recalledAt !== undefined) return larkFail('reaction_message_not_found');
  if (!deps.dir.chats.get(message.chatId)!.appIds.has(app.appId)) return larkFail(notMember);
  return message;
}

const isReply = (value: Message | Reply): value is Reply => 'status' in value;

export function addReaction(call: Call): Reply {
  const { deps, req, app } = call;
  const body = parseJsonObject(req.body);
  if (!body) return larkFail('bad_json');
  const reactionType = body.reaction_type as { emoji_type?: unknown } | undefined;
  const emojiType = reactionType && typeof reactionType === 'object' ? reactionType.emoji_type : undefined;
  if (typeof emojiType !== 'string' || emojiType === '') return larkFail('field_validation', 'reaction_type.emoji_type is required');
  const message = visibleMessage(call, 'reaction_no_permission');
  if (isReply(message)) return message;
  if (!emojiTypes.has(emojiType)) return larkFail('reaction_type_invalid');
  // The same reaction twice from the same bot is refused (unverified on Lark; the stricter choice).
  const mine = (r: Reaction) => r.operator.type === 'app' && r.operator.id === app.appId && r.emojiType === emojiType;
  if (message.reactions.some(mine)) return larkFail('reaction_repeated');
  const reaction: Reaction = { reactionId: newReactionId(), emojiType, operator: { type: 'app', id: app.appId }, actionTime: Date.now() };
  message.reactions.push(reaction);
  message.reactionsAdded = (message.reactionsAdded ?? 0) + 1;
  return larkOk({ data: reactionView(deps.dir, app, reaction) });
}

export function deleteReaction(call: Call): Reply {
  const { deps, app, params } = call;
  const message = visibleMessage(call, 'reaction_no_access');
  if (isReply(message)) return message;
  const reaction = message.reactions.find((r) => r.reactionId === params.reaction_id);
  if (!reaction) {
    const elsewhere = [...deps.dir.messages.values()].some((m) => m.reactions.some((r) => r.reactionId === params.reaction_id));
    return larkFail(elsewhere ? 'reaction_wrong_message' : 'reaction_id_invalid');
  }
  if (reaction.operator.type !== 'app' || reaction.operator.id !== app.appId) return larkFail('reaction_not_owner');
  message.reactions = message.reactions.filter((r) => r !== reaction);
  return larkOk({ data: reactionView(deps.dir, app, reaction) });
}

type PageToken = { m: string; o: number };

export function listReactions(call: Call): Reply {
  const { deps, req, app } = call;
  const idType = req.query.get('user_id_type') ?? 'open_id';
  if (!(userIdTypes as readonly string[]).includes(idType)) return larkFail('reaction_user_id_type_invalid');
  const rawSize = req.query.get('page_size');
  const pageSize = rawSize === null ? 20 : Number(rawSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 50) return larkFail('field_validation', 'page_size must be 1 to 50');
  const message = visibleMessage(call, 'reaction_no_access');
  if (isReply(message)) return message;
  let offset = 0;
  const token = req.query.get('page_token');
  if (token) {
    let parsed: Partial<PageToken> | undefined;
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<PageToken>;
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.m !== message.messageId || !Number.isInteger(parsed.o) || parsed.o! < 0) {
      return larkFail('reaction_page_token_invalid');
    }
    offset = parsed.o!;
  }
  const filter = req.query.get('reaction_type');
  const all = message.reactions.filter((r) => !filter || r.emojiType === filter);
  const page = all.slice(offset, offset + pageSize);
  const next = offset + page.length;
  const hasMore = next < all.length;
  return larkOk({
    data: {
      items: page.map((r) => reactionView(deps.dir, app, r, idType as UserIdType)),
      has_more: hasMore,
      page_token: hasMore ? Buffer.from(JSON.stringify({ m: message.messageId, o: next } satisfies PageToken)).toString('base64url') : '',
    },
  });
}
