import { Marked } from '/ui/vendor/marked.js';
import { control, el, get, post, userSelect } from '/ui/api.js';
import { createRenderer, escapeHtml } from '/ui/render.js';

const render = createRenderer(Marked);
const $ = (id) => document.getElementById(id);

const ui = {
  state: null,
  userId: localStorage.getItem('sim.userId') ?? '',
  chatId: localStorage.getItem('sim.chatId') ?? '',
  rootId: null,
  // A quote (reply_to): the next message replies to this one outside any thread.
  quoteId: null,
  // Messages ticked for a merge_forward.
  selected: new Set(),
  messages: [],
  // Mentions picked from the list: the "@Name" label in the draft and the token the API expects.
  mentions: [],
  rendered: { sidebar: '', transcript: '', setup: '' },
};

const byId = (list, key, id) => list.find((item) => item[key] === id);

// Opened from a chat link (where Lark's AppLink would open the chat): show that chat once the state
// is in, as the person acting now if they are in it, else as its first member.
let linkedChatId = new URLSearchParams(location.search).get('openChatId');

function openLinkedChat() {
  const chat = byId(ui.state.chats, 'chat_id', linkedChatId);
  linkedChatId = null;
  history.replaceState(null, '', '/');
  if (!chat) {
    $('status').textContent = 'That chat does not exist in this simulator.';
    return;
  }
  if (!chat.user_ids.includes(ui.userId) && chat.user_ids.length > 0) {
    ui.userId = chat.user_ids[0];
    localStorage.setItem('sim.userId', ui.userId);
  }
  ui.chatId = chat.chat_id;
  localStorage.setItem('sim.chatId', ui.chatId);
}
const appName = (id) => byId(ui.state.apps, 'app_id', id)?.name ?? id;
const userName = (id) => byId(ui.state.users, 'id', id)?.name ?? id;
const currentUser = () => byId(ui.state?.users ?? [], 'id', ui.userId);
const currentChat = () => byId(ui.state?.chats ?? [], 'chat_id', ui.chatId);

function chatTitle(chat) {
  if (chat.type === 'p2p') return `${appName(chat.app_ids[0])} (direct)`;
  return chat.chat_mode === 'topic' ? `# ${chat.name} (topics)` : `# ${chat.name}`;
}

function visibleChats() {
  return ui.state.chats.filter(
    (c) => c.user_ids.includes(ui.userId) && (c.type === 'group' || c.message_count > 0 || c.chat_id === ui.chatId),
  );
}

// --- sidebar ------------------------------------------------------------------------------

function renderSidebar() {
  const key = JSON.stringify([ui.state, ui.userId, ui.chatId]);
  if (key === ui.rendered.sidebar) return;
  ui.rendered.sidebar = key;

  const picker = userSelect(ui.state, ui.userId, { id: 'user-select', 'aria-label': 'Acting as' });
  picker.addEventListener('change', () => selectUser(picker.value));
  $('user-picker').replaceChildren(picker);

  const user = currentUser();
  $('chat-list').replaceChildren(
    ...(user ? visibleChats() : []).map((chat) =>
      el(
        'li',
        { class: chat.chat_id === ui.chatId ? 'active' : '', onclick: () => openChat(chat) },
        chatTitle(chat),
        chat.message_count ? el('span', { class: 'count' }, String(chat.message_count)) : '',
      ),
    ),
  );

  const bots = user ? ui.state.apps.filter((a) => a.tenant_key === user.tenant_key) : [];
  $('dm-picker').replaceChildren(
    el('option', { value: '' }, bots.length ? 'Choose a bot…' : 'No bots in this tenant'),
    ...bots.map((b) => el('option', { value: b.app_id }, b.name)),
  );

  $('registrations').replaceChildren(
    ...ui.state.registrations
      .filter((r) => r.status === 'pending')
      .map((r) =>
        el('li', {}, el('a', { href: `/approve?user_code=${encodeURIComponent(r.user_code)}` }, `${r.user_code} (${r.brand})`)),
      ),
  );
  if (!ui.state.registrations.some((r) => r.status === 'pending')) {
    $('registrations').append(el('li', { class: 'muted' }, 'None pending'));
  }
}

function selectUser(userId) {
  ui.userId = userId;
  localStorage.setItem('sim.userId', userId);
  const chat = currentChat();
  if (!chat || !chat.user_ids.includes(userId)) selectChat('');
  refresh();
}

/** Opening a DM tells its bot (im.chat.access_event.bot_p2p_chat_entered_v1), as Lark does. */
async function openChat(chat) {
  if (chat.type === 'p2p' && chat.chat_id !== ui.chatId) {
    try {
      await post('/p2p/enter', { app_id: chat.app_ids[0], user_id: ui.userId });
    } catch (error) {
      $('send-error').textContent = error.message;
    }
  }
  selectChat(chat.chat_id);
}

function selectChat(chatId) {
  ui.chatId = chatId;
  ui.rootId = null;
  ui.quoteId = null;
  ui.selected.clear();
  ui.mentions = [];
  ui.messages = [];
  ui.rendered.transcript = '';
  localStorage.setItem('sim.chatId', chatId);
  refresh();
}

$('dm-picker').addEventListener('change', async (event) => {
  const appId = event.target.value;
  if (!appId || !ui.userId) return;
  try {
    const { chat_id: chatId } = await post('/p2p/enter', { app_id: appId, user_id: ui.userId });
    event.target.value = '';
    selectChat(chatId);
  } catch (error) {
    $('send-error').textContent = error.message;
  }
});

// --- transcript -----------------------------------------------------------------------------

function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function excerpt(message) {
  const c = message?.content ?? {};
  const text = c.text ?? c.title ?? c.header?.title?.content ?? message?.msg_type ?? '';
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function reactionsHtml(message) {
  if (!message.reactions?.length || message.recalled_at) return '';
  const groups = new Map();
  for (const r of message.reactions) groups.set(r.emoji_type, [...(groups.get(r.emoji_type) ?? []), r.operator.name]);
  return `<div class="reactions" data-testid="reactions">${[...groups]
    .map(([emoji, names]) => `<span class="reaction" title="${escapeHtml(names.join(', '))}">${escapeHtml(emoji)} ${names.length}</span>`)
    .join('')}</div>`;
}

function messageHtml(message, index) {
  const quoted = message.parent_id && !message.thread_id ? index.get(message.parent_id) : undefined;
  const edited = message.updates.length ? `<span class="badge">updated ${message.updates.length}×</span>` : '';
  const id = escapeHtml(message.message_id);
  const live = !message.recalled_at;
  const mine = live && message.sender.type === 'user' && message.sender.id === ui.userId;
  const selectable = live && message.msg_type !== 'merge_forward';
  return `<article class="msg msg-${message.sender.type}${live ? '' : ' msg-recalled'}" data-message="${id}">
    <div class="meta">${
      selectable
        ? `<input type="checkbox" class="select-message" data-select="${id}" data-testid="sim-select-message" aria-label="Select for forwarding"${ui.selected.has(message.message_id) ? ' checked' : ''}>`
        : ''
    }<strong>${escapeHtml(message.sender.name)}</strong>${message.sender.type === 'app' ? '<span class="badge">bot</span>' : ''}
      <time>${time(message.create_time)}</time>${edited}
      <span class="actions">
        ${live ? `<button type="button" class="link" data-quote="${id}" data-testid="sim-quote">Quote</button>` : ''}
        ${live ? `<button type="button" class="link" data-reply="${id}" data-testid="reply-in-thread">Reply in thread</button>` : ''}
        ${mine ? `<button type="button" class="link" data-recall="${id}" data-testid="recall-button">Recall</button>` : ''}
      </span></div>
    ${quoted ? `<div class="quote">↪ ${escapeHtml(quoted.sender.name)}: ${escapeHtml(excerpt(quoted))}</div>` : ''}
    ${render.messageBody(message)}
    ${reactionsHtml(message)}
  </article>`;
}

function renderTranscript() {
  const chat = currentChat();
  $('chat-header').innerHTML = chat
    ? `<strong>${escapeHtml(chatTitle(chat))}</strong> <span class="muted">${escapeHtml(
        [...chat.user_ids.map(userName), ...chat.app_ids.map((a) => `${appName(a)} (bot)`)].join(', '),
      )}</span>`
    : '<span class="muted">Pick a user and a chat.</span>';
  const enabled = Boolean(chat && currentUser());
  for (const id of ['draft', 'send', 'mention-picker', 'send-image', 'send-file', 'file-sample', 'send-audio', 'send-post-image', 'attach-file', 'forward-target']) {
    $(id).disabled = !enabled;
  }
  renderForwardControls();

  const key = JSON.stringify([ui.chatId, ui.messages]);
  if (key === ui.rendered.transcript) return;
  ui.rendered.transcript = key;

  const box = $('transcript');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const index = new Map(ui.messages.map((m) => [m.message_id, m]));
  const threads = new Map();
  const top = [];
  for (const m of ui.messages) {
    if (m.thread_id && m.root_id && index.has(m.root_id)) {
      if (!threads.has(m.root_id)) threads.set(m.root_id, []);
      threads.get(m.root_id).push(m);
    } else {
      top.push(m);
    }
  }
  box.innerHTML = top.length
    ? top
        .map((m) => {
          const replies = threads.get(m.message_id);
          return `${messageHtml(m, index)}${
            replies ? `<div class="thread"><div class="muted">Thread · ${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}</div>${replies.map((r) => messageHtml(r, index)).join('')}</div>` : ''
          }`;
        })
        .join('')
    : '<p class="muted empty">No messages yet.</p>';
  if (atBottom) box.scrollTop = box.scrollHeight;
  renderMentionPicker();
}

$('transcript').addEventListener('change', (event) => {
  const id = event.target.closest('[data-select]')?.dataset.select;
  if (!id) return;
  if (event.target.checked) ui.selected.add(id);
  else ui.selected.delete(id);
  renderForwardControls();
});

$('transcript').addEventListener('click', async (event) => {
  const reply = event.target.closest('[data-reply]')?.dataset.reply;
  if (reply) {
    ui.rootId = reply;
    ui.quoteId = null;
    renderThreadBanner();
    $('draft').focus();
    return;
  }
  const quote = event.target.closest('[data-quote]')?.dataset.quote;
  if (quote) {
    ui.quoteId = quote;
    ui.rootId = null;
    renderThreadBanner();
    $('draft').focus();
    return;
  }
  const recall = event.target.closest('[data-recall]')?.dataset.recall;
  if (recall) {
    try {
      await post(`/messages/${recall}/recall`, { user_id: ui.userId });
    } catch (error) {
      showToast({ type: 'error', content: error.message });
    }
    refresh();
    return;
  }
  // A callback button: the control API presses it and waits for the bot's answer (a toast, a card).
  const button = event.target.closest('button[data-card-button]');
  const messageId = button?.closest('[data-message]')?.dataset.message;
  if (!button || !messageId) return;
  button.disabled = true;
  try {
    const result = await post(`/messages/${messageId}/card-action`, { user_id: ui.userId, index: Number(button.dataset.cardButton) });
    if (result.toast) showToast(result.toast);
  } catch (error) {
    showToast({ type: 'error', content: error.message });
  } finally {
    button.disabled = false;
  }
  refresh();
});

let toastTimer;
function showToast(toast) {
  const box = $('toast');
  const text = toast.content ?? Object.values(toast.i18n ?? {})[0] ?? '';
  box.className = `toast toast-${/^[a-z]+$/.test(toast.type ?? '') ? toast.type : 'info'}`;
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 4000);
}

function renderThreadBanner() {
  const banner = $('thread-banner');
  const anchor = ui.rootId ?? ui.quoteId;
  const target = ui.messages.find((m) => m.message_id === anchor);
  banner.hidden = !target;
  if (!target) return;
  banner.replaceChildren(
    `${ui.rootId ? 'Replying in thread to' : 'Quoting'} ${target.sender.name}: ${excerpt(target)} `,
    el('button', { type: 'button', class: 'link', onclick: () => ((ui.rootId = null), (ui.quoteId = null), renderThreadBanner()) }, 'cancel'),
  );
}

// --- composer -------------------------------------------------------------------------------

function renderMentionPicker() {
  const chat = currentChat();
  const options = chat
    ? [
        ...chat.app_ids.map((id) => ({ value: `app:${id}`, label: `${appName(id)} (bot)` })),
        ...chat.user_ids.filter((id) => id !== ui.userId).map((id) => ({ value: `user:${id}`, label: userName(id) })),
      ]
    : [];
  $('mention-picker').replaceChildren(
    el('option', { value: '' }, '@ Mention…'),
    ...options.map((o) => el('option', { value: o.value }, o.label)),
  );
}

$('mention-picker').addEventListener('change', (event) => {
  const value = event.target.value;
  event.target.value = '';
  if (!value) return;
  const [type, id] = value.split(/:(.*)/s);
  const label = `@${type === 'app' ? appName(id) : userName(id)}`;
  ui.mentions.push({ label, token: `@{${type}:${id}}` });
  const draft = $('draft');
  const at = draft.selectionStart ?? draft.value.length;
  draft.value = `${draft.value.slice(0, at)}${label} ${draft.value.slice(at)}`;
  draft.focus();
});

function draftWithTokens(text) {
  // Longest label first, so "@Ann" never matches inside "@Anna".
  const mentions = [...ui.mentions].sort((a, b) => b.label.length - a.label.length);
  let out = '';
  let i = 0;
  while (i < text.length) {
    const hit = mentions.find((m) => text.startsWith(m.label, i));
    out += hit ? hit.token : text[i];
    i += hit ? hit.label.length : 1;
  }
  return out;
}

const targetOf = (chat) => (chat.type === 'p2p' ? { app_id: chat.app_ids[0] } : { chat_id: chat.chat_id });

/** Sends one message of any kind as the person acting, in the thread or quote being replied to. */
async function sendMessage(body) {
  const chat = currentChat();
  if (!chat) return false;
  $('send-error').textContent = '';
  try {
    await post('/messages', {
      user_id: ui.userId,
      ...targetOf(chat),
      ...body,
      ...(ui.rootId ? { root_id: ui.rootId } : ui.quoteId ? { reply_to: ui.quoteId } : {}),
    });
    // A quote is for one message; a thread stays open until cancelled.
    ui.quoteId = null;
    renderThreadBanner();
    refresh();
    return true;
  } catch (error) {
    $('send-error').textContent = error.message;
    return false;
  }
}

async function send() {
  const text = $('draft').value;
  if (!text.trim()) return;
  if (await sendMessage({ text: draftWithTokens(text) })) {
    $('draft').value = '';
    ui.mentions = [];
  }
}

$('send-image').addEventListener('click', () => sendMessage({ image: { sample: 'screenshot' } }));
$('send-file').addEventListener('click', () => sendMessage({ file: { sample: $('file-sample').value || 'notes' } }));
$('send-audio').addEventListener('click', () => sendMessage({ audio: { duration_ms: 3000 } }));
$('send-post-image').addEventListener('click', async () => {
  const text = $('draft').value.trim();
  const sent = await sendMessage({
    post: { title: '', content: [[{ tag: 'text', text: text || 'Have a look' }], [{ tag: 'img', sample: 'screenshot' }]] },
  });
  if (sent) $('draft').value = '';
});

const sendableImage = /^image\/(png|jpeg|gif|webp|bmp|tiff|x-icon|vnd\.microsoft\.icon)$/;

/** A file of one's own: images go as image messages, anything else as a file with its name. */
$('attach-file').addEventListener('change', async (event) => {
  const input = event.target;
  const file = input.files?.[0];
  if (!file) return;
  const base64 = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
  if (file.size === 0) {
    $('send-error').textContent = 'That file is empty.';
  } else {
    await sendMessage(sendableImage.test(file.type) ? { image: { data_base64: base64 } } : { file: { data_base64: base64, file_name: file.name } });
  }
  input.value = '';
});

function renderForwardControls() {
  const chat = currentChat();
  const options = currentUser() ? visibleChats() : [];
  const select = $('forward-target');
  const labels = options.map((c) => [c.chat_id, `to ${chatTitle(c)}`]);
  // Rebuilt only when the chats change, so an open list is not closed under the pointer.
  if (select.dataset.options !== JSON.stringify(labels)) {
    const keep = select.value || ui.chatId;
    select.replaceChildren(...labels.map(([value, label]) => el('option', { value }, label)));
    select.dataset.options = JSON.stringify(labels);
    if (options.some((c) => c.chat_id === keep)) select.value = keep;
  }
  // Only messages still in this chat's transcript can be forwarded.
  for (const id of [...ui.selected]) if (!ui.messages.some((m) => m.message_id === id && !m.recalled_at)) ui.selected.delete(id);
  const button = $('merge-forward');
  button.disabled = !chat || ui.selected.size === 0;
  button.textContent = ui.selected.size ? `Forward ${ui.selected.size} selected` : 'Forward selected';
}

$('merge-forward').addEventListener('click', async () => {
  const target = byId(ui.state?.chats ?? [], 'chat_id', $('forward-target').value) ?? currentChat();
  if (!target || ui.selected.size === 0) return;
  $('send-error').textContent = '';
  try {
    // Forwarded in the order they were written, as Lark keeps them.
    const ids = ui.messages.filter((m) => ui.selected.has(m.message_id)).map((m) => m.message_id);
    await post('/messages', { user_id: ui.userId, ...targetOf(target), merge_forward: { message_ids: ids } });
    ui.selected.clear();
    ui.rendered.transcript = '';
    if (target.chat_id !== ui.chatId) selectChat(target.chat_id);
    else refresh();
  } catch (error) {
    $('send-error').textContent = error.message;
  }
});

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
$('draft').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    send();
  }
});

// --- setup panel ----------------------------------------------------------------------------

function fillSelect(select, options, placeholder, { preferFirst = false } = {}) {
  const keep = select.value;
  select.replaceChildren(
    el('option', { value: '' }, placeholder),
    ...options.map((o) => el('option', { value: o.value }, o.label)),
  );
  if (options.some((o) => o.value === keep)) select.value = keep;
  else if (preferFirst && options.length) select.value = options[0].value;
}

function renderChatMemberChecks() {
  const form = $('chat-form');
  const tenantKey = form.elements.tenant_key.value;
  const checked = new Set([...form.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value));
  const users = ui.state.users.filter((u) => u.tenant_key === tenantKey).map((u) => ({ value: `user:${u.id}`, label: u.name }));
  const apps = ui.state.apps.filter((a) => a.tenant_key === tenantKey).map((a) => ({ value: `app:${a.app_id}`, label: `${a.name} (bot)` }));
  $('chat-members').replaceChildren(
    ...[...users, ...apps].map((o) =>
      el('label', {}, el('input', { type: 'checkbox', value: o.value, checked: checked.has(o.value) }), ` ${o.label}`),
    ),
  );
}

function renderSetup() {
  const key = JSON.stringify([ui.state, ui.chatId]);
  if (key === ui.rendered.setup) return;
  ui.rendered.setup = key;
  const tenants = ui.state.tenants.map((t) => ({ value: t.tenant_key, label: `${t.name} (${t.brand})` }));
  document.querySelectorAll('select[data-tenants]').forEach((s) => fillSelect(s, tenants, 'Tenant…', { preferFirst: true }));
  renderChatMemberChecks();

  const chat = currentChat();
  const candidates = chat?.type === 'group'
    ? [
        ...ui.state.users.filter((u) => u.tenant_key === chat.tenant_key && !chat.user_ids.includes(u.id)).map((u) => ({ value: `user:${u.id}`, label: u.name })),
        ...ui.state.apps.filter((a) => a.tenant_key === chat.tenant_key && !chat.app_ids.includes(a.app_id)).map((a) => ({ value: `app:${a.app_id}`, label: `${a.name} (bot)` })),
      ]
    : [];
  fillSelect($('member-picker'), candidates, chat?.type === 'group' ? 'Choose…' : 'Open a group chat first');
  const members = chat?.type === 'group'
    ? [
        ...chat.user_ids.map((id) => ({ value: `user:${id}`, label: userName(id) })),
        ...chat.app_ids.map((id) => ({ value: `app:${id}`, label: `${appName(id)} (bot)` })),
      ]
    : [];
  fillSelect($('member-remove-picker'), members, chat?.type === 'group' ? 'Choose…' : 'Open a group chat first');

  $('bot-list').replaceChildren(
    ...ui.state.apps.map((a) =>
      el(
        'li',
        { title: a.app_id },
        el('span', { class: `dot ${a.connections ? 'on' : 'off'}` }),
        ' ',
        el('a', { class: 'bot-link', href: `/${a.brand}/app/${encodeURIComponent(a.app_id)}` }, a.name),
        ' ',
        el('span', { class: 'muted' }, `${a.brand} · ${a.connections} conn · ${a.app_id}`),
      ),
    ),
  );
}

function onSubmit(id, action) {
  $(id).addEventListener('submit', async (event) => {
    event.preventDefault();
    $('setup-error').textContent = '';
    try {
      await action(event.target);
      refresh();
    } catch (error) {
      $('setup-error').textContent = error.message;
    }
  });
}

onSubmit('tenant-form', async (form) => {
  await post('/tenants', { name: form.elements.name.value, brand: form.elements.brand.value });
  form.reset();
});
onSubmit('user-form', async (form) => {
  const user = await post('/users', { tenant_key: form.elements.tenant_key.value, name: form.elements.name.value });
  form.elements.name.value = '';
  if (!ui.userId) selectUser(user.id);
});
onSubmit('app-form', async (form) => {
  const app = await post('/apps', { tenant_key: form.elements.tenant_key.value, name: form.elements.name.value });
  form.elements.name.value = '';
  $('app-created').textContent = `app_id ${app.app_id}\napp_secret ${app.app_secret}`;
});
onSubmit('chat-form', async (form) => {
  const picked = [...form.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value.split(/:(.*)/s));
  const chat = await post('/chats', {
    tenant_key: form.elements.tenant_key.value,
    name: form.elements.name.value,
    chat_mode: form.elements.chat_mode.value,
    user_ids: picked.filter(([t]) => t === 'user').map(([, id]) => id),
    app_ids: picked.filter(([t]) => t === 'app').map(([, id]) => id),
  });
  form.elements.name.value = '';
  if (picked.some(([t, id]) => t === 'user' && id === ui.userId)) selectChat(chat.chat_id);
});
// The person acting adds or removes (when they are in the chat): bots hear who did it.
const memberChange = (type, id) => ({
  ...(type === 'app' ? { app_ids: [id] } : { user_ids: [id] }),
  ...(currentChat()?.user_ids.includes(ui.userId) ? { operator_user_id: ui.userId } : {}),
});
onSubmit('member-form', async (form) => {
  const [type, id] = form.elements.member.value.split(/:(.*)/s);
  if (!id || !ui.chatId) return;
  await post(`/chats/${ui.chatId}/members`, memberChange(type, id));
});
onSubmit('member-remove-form', async (form) => {
  const [type, id] = form.elements.member.value.split(/:(.*)/s);
  if (!id || !ui.chatId) return;
  await control('DELETE', `/chats/${ui.chatId}/members`, memberChange(type, id));
});
$('chat-form').elements.tenant_key.addEventListener('change', renderChatMemberChecks);

// --- polling --------------------------------------------------------------------------------

let timer;
async function refresh() {
  clearTimeout(timer);
  try {
    ui.state = await get('/state');
    if (linkedChatId) openLinkedChat();
    if (ui.userId && !currentUser()) ui.userId = '';
    if (ui.chatId && !currentChat()) ui.chatId = '';
    ui.messages = ui.chatId ? (await get(`/chats/${ui.chatId}/messages`)).messages : [];
    $('status').textContent = '';
    renderSidebar();
    renderTranscript();
    renderSetup();
  } catch (error) {
    $('status').textContent = `offline: ${error.message}`;
  } finally {
    // A card being streamed is shown as it grows.
    const streaming = ui.messages.some((m) => m.card_entity?.streaming_mode && !m.recalled_at);
    timer = setTimeout(refresh, streaming ? 250 : 1000);
  }
}

$('roots').textContent = `feishu root ${location.origin}/feishu · lark root ${location.origin}/lark · control ${location.origin}/_control`;
refresh();
