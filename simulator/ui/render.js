// Turns transcript messages (from GET /_control/chats/:id/messages) into HTML strings.
// Pure functions: the page passes marked's `Marked` class in, so this file also runs under Node.

export function escapeHtml(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function safeHref(href) {
  try {
    const url = new URL(String(href), 'http://invalid.local/');
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) && url.host !== 'invalid.local' ? url.href : null;
  } catch {
    return null;
  }
}

/** Where the page loads a stored image or file from; only keys the simulator hands out. */
export function mediaUrl(key) {
  const value = String(key ?? '');
  return /^(img|file)_v\d+_[A-Za-z0-9_-]+$/.test(value) ? `/ui/media/${value}` : null;
}

export function formatSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function imageTag(key, alt, cls = 'msg-image') {
  const src = mediaUrl(key);
  if (!src) return `<span class="placeholder">[image${alt ? `: ${escapeHtml(alt)}` : ''}]</span>`;
  return `<img class="${cls}" src="${escapeHtml(src)}" alt="${escapeHtml(alt ?? '')}" loading="lazy">`;
}

/**
 * What pressing a card button does, as the simulator decides it (simulator/cards.ts buttonAction):
 * a 2.0 `callback` behavior calls back, else a link opens, else a 1.0 `value` calls back.
 */
function buttonKind(button) {
  if (button.disabled === true) return 'inert';
  const behaviors = Array.isArray(button.behaviors) ? button.behaviors : [];
  if (behaviors.some((b) => b?.type === 'callback')) return 'callback';
  if (buttonUrl(button)) return 'link';
  const isObject = button.value !== null && typeof button.value === 'object' && !Array.isArray(button.value);
  return !behaviors.some((b) => b?.type === 'open_url') && isObject ? 'callback' : 'inert';
}

/** Where a card button leads: card 2.0 `behaviors` (open_url), or card 1.0 `multi_url` / `url`. */
function buttonUrl(button) {
  const behavior = (Array.isArray(button.behaviors) ? button.behaviors : []).find((b) => b?.type === 'open_url');
  const candidates = behavior
    ? [behavior.pc_url, behavior.default_url]
    : [button.multi_url?.pc_url, button.multi_url?.url, button.url];
  const href = candidates.find((c) => typeof c === 'string' && c.trim() !== '');
  return href === undefined ? null : safeHref(href);
}

export function createRenderer(Marked) {
  // Raw HTML in markdown is shown as text, links only for http(s)/mailto, images only by image_key
  // (as Lark cards show them), anything else as a placeholder.
  const marked = new Marked({
    gfm: true,
    breaks: true,
    renderer: {
      html({ text }) {
        return escapeHtml(text);
      },
      link({ href, tokens }) {
        const label = this.parser.parseInline(tokens);
        const safe = safeHref(href);
        return safe ? `<a href="${escapeHtml(safe)}" target="_blank" rel="noopener noreferrer">${label}</a>` : label;
      },
      image({ href, text }) {
        return imageTag(href, text, 'md-image');
      },
    },
  });

  const markdown = (text) => `<div class="md">${marked.parse(String(text ?? ''), { async: false })}</div>`;

  function withMentions(text, mentions) {
    // Longest key first in one scan, so @_user_1 never eats the start of @_user_10.
    const keys = [...(mentions ?? [])].sort((a, b) => b.key.length - a.key.length);
    let out = '';
    let i = 0;
    const source = String(text ?? '');
    while (i < source.length) {
      const hit = keys.find((m) => source.startsWith(m.key, i));
      if (hit) {
        out += `<span class="mention">@${escapeHtml(hit.name)}</span>`;
        i += hit.key.length;
      } else {
        out += escapeHtml(source[i]);
        i += 1;
      }
    }
    return out;
  }

  function textOf(node) {
    if (!node || typeof node !== 'object') return '';
    if (node.tag === 'lark_md') return markdown(node.content);
    return escapeHtml(node.content ?? '');
  }

  // Buttons are numbered in document order, as the control API's card-action `index` counts them.
  let buttonIndex = 0;

  function cardElement(el) {
    if (!el || typeof el !== 'object') return '';
    switch (el.tag) {
      case 'markdown':
        return markdown(el.content);
      case 'div':
        return `<div class="card-div">${textOf(el.text)}${(el.fields ?? []).map((f) => `<div>${textOf(f.text)}</div>`).join('')}</div>`;
      case 'hr':
        return '<hr>';
      case 'note':
        return `<div class="card-note">${(el.elements ?? []).map((e) => (e.tag === 'img' ? '' : textOf(e))).join(' ')}</div>`;
      case 'column_set':
        return `<div class="card-columns">${(el.columns ?? [])
          .map((c) => `<div class="card-column">${(c.elements ?? []).map(cardElement).join('')}</div>`)
          .join('')}</div>`;
      case 'collapsible_panel':
        return `<details class="card-panel"><summary>${textOf(el.header?.title)}</summary>${(el.elements ?? []).map(cardElement).join('')}</details>`;
      case 'action':
        return `<div class="card-actions">${(el.actions ?? []).map(cardElement).join('')}</div>`;
      case 'button': {
        // A link button opens its URL in a new tab, as Lark's desktop client does; a callback
        // button asks the page to press it through the control API (data-card-button).
        const index = buttonIndex++;
        const style = /^[a-z_]+$/.test(el.type ?? '') ? el.type : 'default';
        const kind = buttonKind(el);
        const attrs = `class="card-button card-button-${style}" data-testid="card-button" data-card-button="${index}"`;
        if (kind === 'callback') return `<button type="button" ${attrs}>${textOf(el.text)}</button>`;
        const safe = kind === 'link' ? buttonUrl(el) : null;
        return safe
          ? `<a ${attrs} href="${escapeHtml(safe)}" target="_blank" rel="noopener noreferrer">${textOf(el.text)}</a>`
          : `<button type="button" ${attrs} disabled>${textOf(el.text)}</button>`;
      }
      case 'img':
        return imageTag(el.img_key, el.alt?.content, 'card-image');
      default:
        return Array.isArray(el.elements)
          ? el.elements.map(cardElement).join('')
          : `<span class="placeholder">[${escapeHtml(el.tag)}]</span>`;
    }
  }

  function card(content, streaming) {
    buttonIndex = 0;
    const elements = content.schema === '2.0' ? (content.body?.elements ?? []) : (content.elements ?? []);
    const title = content.header?.title;
    const template = /^[a-z-]+$/.test(content.header?.template ?? '') ? content.header.template : 'default';
    // While a card entity streams, Lark shows it as still being written.
    const generating = streaming ? '<div class="generating" data-testid="card-generating">Generating…</div>' : '';
    return `<div class="card${streaming ? ' card-streaming' : ''}">${
      title ? `<div class="card-header card-${template}">${textOf(title)}</div>` : ''
    }<div class="card-body">${elements.map(cardElement).join('')}${generating}</div></div>`;
  }

  function postNode(node, mentions) {
    switch (node.tag) {
      case 'text':
        return escapeHtml(node.text).replaceAll('\n', '<br>');
      case 'a': {
        const safe = safeHref(node.href);
        return safe
          ? `<a href="${escapeHtml(safe)}" target="_blank" rel="noopener noreferrer">${escapeHtml(node.text)}</a>`
          : escapeHtml(node.text);
      }
      case 'at': {
        const known = (mentions ?? []).find((m) => m.key === node.user_id);
        return `<span class="mention">@${escapeHtml(known?.name ?? node.user_name ?? node.user_id)}</span>`;
      }
      case 'code_block':
        return `<pre><code>${escapeHtml(node.text)}</code></pre>`;
      case 'md':
        return markdown(node.text);
      case 'hr':
        return '<hr>';
      case 'emotion':
        return `<span class="placeholder">:${escapeHtml(node.emoji_type)}:</span>`;
      case 'img':
        return imageTag(node.image_key, '', 'post-image');
      case 'media':
        return `${imageTag(node.image_key, 'video', 'post-image')}<span class="placeholder">[video]</span>`;
      default:
        return `<span class="placeholder">[${escapeHtml(node.tag)}]</span>`;
    }
  }

  function post(content, mentions) {
    // Bots send posts keyed by locale; users' posts arrive without the wrapper.
    const body = Array.isArray(content.content) ? content : (Object.values(content)[0] ?? {});
    const paragraphs = (body.content ?? []).map((p) => `<p>${(p ?? []).map((n) => postNode(n, mentions)).join('')}</p>`);
    return `${body.title ? `<div class="post-title">${escapeHtml(body.title)}</div>` : ''}${paragraphs.join('')}`;
  }

  function fileChip(message, key, name, icon, extra = '') {
    const facts = (message.media ?? []).find((m) => m.key === key);
    const size = facts?.size !== undefined ? formatSize(facts.size) : '';
    const href = mediaUrl(key);
    const label = escapeHtml(name || facts?.file_name || key || 'file');
    return `<div class="file-chip" data-testid="sim-file-message"><span class="file-icon">${icon}</span>${
      href ? `<a href="${escapeHtml(href)}" download="${label}">${label}</a>` : label
    }${size ? ` <span class="muted">${escapeHtml(size)}</span>` : ''}${extra}</div>`;
  }

  const seconds = (ms) => `${Math.max(1, Math.round(Number(ms ?? 0) / 1000))} s`;

  /** The body of one transcript message. */
  function messageBody(message) {
    if (message.recalled_at) return '<div class="recalled" data-testid="recalled">This message was recalled.</div>';
    const content = message.content ?? {};
    switch (message.msg_type) {
      case 'image':
        return imageTag(content.image_key, 'image');
      case 'sticker':
        return imageTag(content.file_key, 'sticker', 'msg-sticker');
      case 'file':
        return fileChip(message, content.file_key, content.file_name, '📄');
      case 'audio': {
        const speech = content.speech_to_text ? ` <span class="speech">“${escapeHtml(content.speech_to_text)}”</span>` : '';
        return fileChip(message, content.file_key, `Voice message · ${seconds(content.duration)}`, '🎙', speech);
      }
      case 'media':
        return `${imageTag(content.image_key, 'video cover')}${fileChip(message, content.file_key, content.file_name, '🎬', ` <span class="muted">${seconds(content.duration)}</span>`)}`;
      case 'merge_forward':
        return `<div class="forwarded" data-testid="sim-merge-forward-message"><div class="muted">Forwarded messages</div>${(message.forwarded ?? [])
          .map((child) => `<div class="forwarded-item"><strong>${escapeHtml(child.sender?.name ?? '')}</strong> ${messageBody(child)}</div>`)
          .join('')}</div>`;
      case 'text':
        return `<div class="text">${withMentions(content.text, message.mentions).replaceAll('\n', '<br>')}</div>`;
      case 'post':
        return `<div class="post">${post(content, message.mentions)}</div>`;
      case 'interactive':
        return card(content, Boolean(message.card_entity?.streaming_mode));
      default:
        return `<span class="placeholder">[${escapeHtml(message.msg_type)}]</span>`;
    }
  }

  return { messageBody, markdown };
}
