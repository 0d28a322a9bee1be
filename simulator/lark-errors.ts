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
  user_not_found: { code: 41050, status: 400, msg: 'no user authority error' },
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
