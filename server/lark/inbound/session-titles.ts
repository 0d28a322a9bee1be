// Titles of the chat sessions Lark conversations feed. They are stored in the session (the web chat
// lists them as they are), so they are rebuilt here when the Lark chat's name becomes known.

/** A chat name's share of a title, so that the topic part always fits in the title's 200 characters. */
const CHAT_NAME_CHARS = 120;
const TOPIC_CHARS = 60;
const TITLE_CHARS = 200;
const TOPIC_PREFIX = 'Topic: ';
const UNNAMED_GROUP_PREFIX = 'Lark group chat with ';
const SEPARATOR = ' · ';

/** Cuts by code points, so an emoji is never split in half. */
function clip(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : points.slice(0, max).join('');
}

/** What a topic is called: the start of its first message, on one line. */
export function topicTitle(firstMessage: string): string {
  return clip(firstMessage.replace(/\s+/g, ' ').trim(), TOPIC_CHARS);
}

export type SessionTitleInput = {
  chatType: 'p2p' | 'group';
  /** The topic's own title (topicTitle), or null for the chat itself. */
  topic: string | null;
  /** The Lark chat's name when known (groups). */
  chatName: string | null;
  senderName: string | null;
  agentName: string;
};

export function larkSessionTitle(input: SessionTitleInput): string {
  const name = input.chatType === 'group' && input.chatName ? clip(input.chatName.trim(), CHAT_NAME_CHARS) : '';
  let title: string;
  if (input.topic !== null) title = name ? `${name}${SEPARATOR}${input.topic || '…'}` : `${TOPIC_PREFIX}${input.topic || '…'}`;
  else if (input.chatType === 'p2p') title = `Lark: ${input.senderName ?? 'direct message'} and ${input.agentName}`;
  else title = name || `${UNNAMED_GROUP_PREFIX}${input.agentName}`;
  return clip(title, TITLE_CHARS);
}

/**
 * The topic part of a title this file built, given the chat name it was built with (null before the
 * name was known); null when the title is not one of ours.
 */
export function topicFromTitle(title: string, builtWithName: string | null): string | null {
  if (title.startsWith(TOPIC_PREFIX)) return title.slice(TOPIC_PREFIX.length);
  if (builtWithName) {
    const prefix = `${clip(builtWithName.trim(), CHAT_NAME_CHARS)}${SEPARATOR}`;
    if (title.startsWith(prefix)) return title.slice(prefix.length);
  }
  return null;
}

/** Whether a group session's title is one this file built: unnamed, or the chat name it was built with. */
export function isGroupTitle(title: string, builtWithName: string | null): boolean {
  return title.startsWith(UNNAMED_GROUP_PREFIX) || (builtWithName !== null && title === clip(builtWithName.trim(), CHAT_NAME_CHARS));
}
