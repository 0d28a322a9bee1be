import { json, type Reply } from './http';

// Codes, HTTP statuses and messages as the Lark Open Platform returns them.
const catalog = {
  token_missing: { code: 99991661, status: 400, msg: 'Missing access token for authorization. Please make a request with token attached.' },
  token_bad_format: { code: 99991671, status: 400, msg: 'Invalid token format: the token must start with "t-" or "u-".' },
  token_invalid: { code: 99991663, status: 400, msg: 'Invalid access token for authorization. Please make a request with token attached.' },
  app_not_found: { code: 10003, status: 400, msg: 'invalid param' },
  app_secret_invalid: { code: 10014, status: 400, msg: 'app secret invalid' },
  rate_limited: { code: 99991400, status: 429, msg: 'request trigger frequency limit' },
  bad_json: { code: 9499, status: 400, msg: 'Bad Request' },
  field_validation: { code: 99992402, status: 400, msg: 'field validation failed' },
  open_id_cross_app: { code: 99992361, status: 400, msg: 'open_id cross app' },
  scope_denied: {
    code: 99991672,
    status: 400,
    msg: 'Access denied. One of the following scopes is required: [contact:user.base:readonly, contact:contact.base:readonly].',
  },
  invalid_param: { code: 230001, status: 400, msg: 'Your request contains an invalid request parameter' },
  bot_not_in_chat: { code: 230002, status: 400, msg: 'The bot can not be outside the group.' },
  no_availability: { code: 230013, status: 400, msg: 'Bot has NO availability to this user.' },
  im_rate_limited: { code: 230020, status: 400, msg: 'This operation triggers the frequency limit.' },
  content_too_long: { code: 230025, status: 400, msg: 'The length of the message content reaches its limit.' },
  no_permission: { code: 230027, status: 400, msg: 'Lack of necessary permissions.' },
  too_old: { code: 230031, status: 400, msg: 'Message can only be modified within 14 days after sending.' },
  card_failed: { code: 230099, status: 400, msg: 'Failed to create card content' },
  card_json_invalid: { code: 200621, status: 400, msg: 'parse card json err, please check whether the card json is correct' },
  message_recalled: { code: 230011, status: 400, msg: 'The message was withdrawn.' },
  recall_expired: { code: 230009, status: 400, msg: 'Message has expired when recall message.' },
  recall_no_permission: { code: 230026, status: 400, msg: 'No permission to recall this message.' },
  user_not_found: { code: 41050, status: 400, msg: 'no user authority error' },
  // CardKit (cardkit/v1)
  cardkit_invalid_param: { code: 10002, status: 400, msg: 'Your request contains an invalid request parameter.' },
  card_not_found: { code: 200740, status: 400, msg: 'The card entity does not exist' },
  card_expired: { code: 200750, status: 400, msg: 'The card entity has expired' },
  card_uuid_conflict: { code: 200770, status: 400, msg: 'UUID conflict' },
  card_in_interaction: { code: 200810, status: 400, msg: 'The card is in an ongoing interaction and cannot be updated' },
  card_streaming_timeout: { code: 200850, status: 400, msg: 'Card streaming timeout' },
  card_too_large: { code: 200860, status: 400, msg: 'Card content exceeds limit.' },
  card_generate_failed: { code: 200220, status: 400, msg: 'Failed to generate card content' },
  card_duplicate_element_id: { code: 300301, status: 400, msg: 'Duplicate element_id in card component.' },
  card_update_multi_false: { code: 300302, status: 400, msg: 'update_multi property is false' },
  card_schema_not_v2: { code: 300303, status: 400, msg: 'Only schema 2.0 is supported' },
  card_too_many_components: { code: 300305, status: 400, msg: 'The number of card components exceeds 200' },
  card_dsl_empty: { code: 300307, status: 400, msg: 'The card DSL is empty' },
  card_streaming_closed: { code: 300309, status: 400, msg: 'Card streaming closed' },
  card_only_text: { code: 300310, status: 400, msg: 'Only update text' },
  card_no_permission: { code: 300311, status: 400, msg: 'The current application does not have permission to update/use this card' },
  card_element_failed: { code: 300313, status: 400, msg: 'Failed to update element properties' },
  card_sequence: { code: 300317, status: 400, msg: 'The sequence number for operating on the card did not increment consecutively' },
  card_settings_failed: { code: 300122, status: 400, msg: 'Failed to update card configuration' },
  // Reactions (im/v1/messages/:id/reactions)
  reaction_type_invalid: { code: 231001, status: 400, msg: 'reaction type is invalid.' },
  reaction_no_permission: { code: 231002, status: 400, msg: 'The operator has no permission to react on the specific message.' },
  reaction_message_not_found: { code: 231003, status: 400, msg: 'The message is not found, maybe not exist or deleted.' },
  reaction_not_owner: { code: 231007, status: 400, msg: 'The operator has no permission to delete this reaction.' },
  reaction_no_access: { code: 231008, status: 400, msg: 'The operator has no access to the message.' },
  reaction_wrong_message: { code: 231010, status: 400, msg: 'The reaction does not belong to the message.' },
  reaction_id_invalid: { code: 231011, status: 400, msg: 'The request has an invalid reaction_id.' },
  reaction_page_token_invalid: { code: 231012, status: 400, msg: 'The request has an invalid pageToken.' },
  reaction_user_id_type_invalid: { code: 231014, status: 400, msg: 'user_id_type is invalid.' },
  reaction_repeated: { code: 231015, status: 400, msg: 'Act on reaction failed, repeated request is processing.' },
  // Images, files and message resources (im/v1/images, im/v1/files, im/v1/messages/:id/resources)
  resource_invalid_param: { code: 234001, status: 400, msg: 'Invalid request param.' },
  resource_not_in_message: { code: 234003, status: 400, msg: 'File not in msg.' },
  resource_app_not_in_chat: { code: 234004, status: 400, msg: 'App not in chat.' },
  resource_size_exceeds: { code: 234006, status: 400, msg: 'The file size exceeds limit.' },
  resource_empty: { code: 234010, status: 400, msg: "File's size can't be 0." },
  image_format_unknown: { code: 234011, status: 400, msg: "Can't recognize the image format." },
  resource_download_too_large: { code: 234037, status: 400, msg: 'Downloaded file size exceeds limit.' },
  resource_unsupported_message: { code: 234043, status: 400, msg: 'Unsupported message type.' },
  // Chats (im/v1/chats)
  chat_invalid_param: { code: 232001, status: 400, msg: 'Your request contains an invalid request parameter.' },
  chat_id_invalid: { code: 232006, status: 400, msg: 'Your request specifies a chat_id which is invalid.' },
  chat_other_tenant: { code: 232010, status: 400, msg: 'Operator and chat can NOT be in different tenants.' },
  chat_not_member: { code: 232011, status: 400, msg: 'Operator can NOT be out of the chat.' },
  not_found: { code: 404, status: 404, msg: '404 page not found' },
} as const;

export type LarkErrorKind = keyof typeof catalog;
export type LarkError = { kind: LarkErrorKind; code: number; status: number; msg: string };

export function larkError(kind: LarkErrorKind, detail?: string): LarkError {
  const entry = catalog[kind];
  return { kind, code: entry.code, status: entry.status, msg: detail ? `${entry.msg}, ext=${detail}` : entry.msg };
}

export function larkErrorReply(error: LarkError, headers?: Record<string, string>): Reply {
  return json(error.status, { code: error.code, msg: error.msg }, headers);
}

export function larkOk(extra: Record<string, unknown>): Reply {
  return json(200, { code: 0, msg: 'success', ...extra });
}

export function larkFail(kind: LarkErrorKind, detail?: string): Reply {
  return larkErrorReply(larkError(kind, detail));
}
