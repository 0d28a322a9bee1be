import type { Reply } from './http';
import { larkFail, larkOk } from './lark-errors';
import type { Call } from './rest';

// `GET /open-apis/im/v1/chats/:chat_id`: a chat the bot is in.

export function getChat(call: Call): Reply {
  const { deps, req, app, params } = call;
  const idType = req.query.get('user_id_type') ?? 'open_id';
  if (!['open_id', 'union_id', 'user_id'].includes(idType)) return larkFail('chat_invalid_param', 'user_id_type must be open_id, union_id or user_id');
  const chat = deps.dir.chats.get(params.chat_id);
  if (!chat) return larkFail('chat_id_invalid');
  if (chat.tenantKey !== app.tenantKey) return larkFail('chat_other_tenant');
  if (!chat.appIds.has(app.appId)) return larkFail('chat_not_member');
  const owner = chat.ownerUserId ? deps.dir.users.get(chat.ownerUserId) : undefined;
  const ownerId = owner
    ? idType === 'open_id'
      ? deps.dir.userOpenId(app.appId, owner.id)
      : idType === 'union_id'
        ? owner.unionId
        : owner.userId
    : undefined;
  const group = chat.type === 'group';
  return larkOk({
    data: {
      avatar: '',
      // A p2p chat has no name of its own.
      name: group ? chat.name : '',
      description: '',
      i18n_names: {},
      add_member_permission: 'all_members',
      share_card_permission: 'allowed',
      at_all_permission: 'all_members',
      edit_permission: 'all_members',
      ...(ownerId ? { owner_id_type: idType, owner_id: ownerId } : {}),
      chat_mode: chat.chatMode,
      chat_type: 'private',
      chat_tag: 'inner',
      ...(group ? { group_message_type: chat.groupMessageType } : {}),
      join_message_visibility: 'all_members',
      leave_message_visibility: 'all_members',
      membership_approval: 'no_approval_required',
      moderation_permission: 'all_members',
      external: false,
      tenant_key: chat.tenantKey,
      user_count: String(chat.userIds.size),
      bot_count: String(chat.appIds.size),
      chat_status: 'normal',
    },
  });
}
