// The page talks to the simulator only through its control API.

export async function control(method, path, body) {
  const res = await fetch(`/_control${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(data?.error?.message ?? `${method} ${path} failed (${res.status})`);
  return data;
}

export const get = (path) => control('GET', path);
export const post = (path, body) => control('POST', path, body ?? {});

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

export function usersByTenant(state) {
  return state.tenants.map((tenant) => ({
    tenant,
    users: state.users.filter((u) => u.tenant_key === tenant.tenant_key),
  }));
}

/** A <select> of users grouped by tenant (brand shown), keeping `selected`. */
export function userSelect(state, selected, attrs = {}) {
  return el(
    'select',
    attrs,
    el('option', { value: '' }, 'Choose a user…'),
    usersByTenant(state).map(({ tenant, users }) =>
      el(
        'optgroup',
        { label: `${tenant.name} (${tenant.brand})` },
        users.map((u) => el('option', { value: u.id, selected: u.id === selected }, u.name)),
      ),
    ),
  );
}
