import { el, get } from '/ui/api.js';

// The simulator's stand-in for a bot's page in the developer console (open.feishu.cn/app/<app_id>
// or open.larksuite.com/app/<app_id>), served under each brand root: /feishu/app/<id>, /lark/app/<id>.
const match = /^(?:\/(feishu|lark))?\/app\/([^/]+)\/?$/.exec(location.pathname);
const brand = match?.[1] ?? 'feishu';
const appId = match ? decodeURIComponent(match[2]) : '';
const $ = (id) => document.getElementById(id);

function fact(term, ...value) {
  return [el('dt', {}, term), el('dd', {}, ...value)];
}

async function load() {
  const state = await get('/state');
  const app = state.apps.find((a) => a.app_id === appId);
  // A brand's console knows only its own apps, as on the real platform.
  if (!app || app.brand !== brand) {
    $('bot-name').textContent = 'Bot not found';
    $('bot-summary').textContent = `There is no bot ${appId} on ${brand}.`;
    $('bot-facts').hidden = true;
    return;
  }
  const tenant = state.tenants.find((t) => t.tenant_key === app.tenant_key);
  const owner = state.users.find((u) => u.id === app.owner_user_id);
  const chats = state.chats.filter((c) => c.app_ids.includes(app.app_id));
  const groups = chats.filter((c) => c.type === 'group').map((c) => c.name);
  const direct = chats.filter((c) => c.type === 'p2p').length;
  document.title = `${app.name} · Lark simulator`;
  $('bot-name').textContent = app.name;
  $('bot-summary').textContent = `A bot on ${app.brand}, in the ${tenant?.name ?? app.tenant_key} tenant.`;
  $('bot-facts').replaceChildren(
    ...fact('App ID', el('code', {}, app.app_id)),
    ...fact('Brand', app.brand),
    ...fact('Tenant', tenant ? `${tenant.name} (${tenant.tenant_key})` : app.tenant_key),
    ...fact('Created by', owner?.name ?? '—'),
    ...fact('Event connection', el('span', { class: `dot ${app.connections ? 'on' : 'off'}` }), app.connections ? ` connected (${app.connections})` : ' not connected'),
    ...fact('Group chats', groups.length ? groups.join(', ') : 'none'),
    ...fact('Direct chats', String(direct)),
  );
  $('bot-facts').hidden = false;
}

async function refresh() {
  try {
    await load();
  } catch (error) {
    $('bot-summary').textContent = `offline: ${error.message}`;
  } finally {
    setTimeout(refresh, 2000);
  }
}

refresh();
