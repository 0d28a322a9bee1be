import type { Call } from './rest';
import { json, type Reply } from './http';
import { larkFail, larkOk } from './lark-errors';

// Identity: the bot itself and the contact directory as one app sees them.

export function botInfo(call: Call): Reply {
  const { deps, app } = call;
  return json(200, {
    code: 0,
    msg: 'ok',
    bot: {
      activate_status: 2,
      app_name: app.name,
      avatar_url: '',
      ip_white_list: [],
      open_id: deps.dir.botSelfOpenId(app.appId),
    },
  });
}

export function contactUser(call: Call): Reply {
  const { deps, req, app, params } = call;
  const idType = req.query.get('user_id_type') ?? 'open_id';
  if (!['open_id', 'union_id', 'user_id'].includes(idType)) {
    return larkFail('field_validation', 'user_id_type must be open_id, union_id or user_id');
  }
  if (deps.faults.contactScopeDenied(app.appId)) return larkFail('scope_denied');
  const { dir } = deps;
  const id = params.user_id;
  const userView = (userId: string) => {
    const user = dir.users.get(userId)!;
    if (user.tenantKey !== app.tenantKey) return larkFail('user_not_found');
    const openId = dir.userOpenId(app.appId, user.id);
    return larkOk({ data: { user: { open_id: openId, union_id: user.unionId, user_id: user.userId, name: user.name, en_name: user.name } } });
  };
  const botView = (botAppId: string, openId: string) => {
    const bot = dir.apps.get(botAppId)!;
    return larkOk({ data: { user: { open_id: openId, union_id: bot.botUnionId, name: bot.name, en_name: bot.name } } });
  };
  if (idType === 'open_id') {
    const subject = dir.resolveOpenId(id);
    if (!subject) return larkFail('user_not_found');
    if (subject.scopeAppId !== app.appId) return larkFail('open_id_cross_app');
    return subject.kind === 'user' ? userView(subject.userId) : botView(subject.appId, id);
  }
  if (idType === 'union_id') {
    const user = dir.userByUnionId(id);
    if (user) return userView(user.id);
    const bot = dir.appByUnionId(id);
    return bot ? botView(bot.appId, dir.botSelfOpenId(bot.appId)) : larkFail('user_not_found');
  }
  const user = dir.userByLarkUserId(app.tenantKey, id);
  return user ? userView(user.id) : larkFail('user_not_found');
}
