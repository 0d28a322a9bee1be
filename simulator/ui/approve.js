import { el, get, post, userSelect } from '/ui/api.js';

// The verification page a registration's QR code points at: /approve?user_code=...&name=...
const params = new URLSearchParams(location.search);
const userCode = params.get('user_code') ?? '';
const $ = (id) => document.getElementById(id);
let selectedUser = localStorage.getItem('sim.userId') ?? '';
let decided = false;

$('bot-name').value = params.get('name') ?? '';

async function load() {
  const state = await get('/state');
  const registration = state.registrations.find((r) => r.user_code === userCode);
  if (!registration) {
    $('summary').textContent = userCode ? `No registration with code ${userCode}.` : 'No user_code in the address.';
    $('approve-form').hidden = true;
    return;
  }
  const expires = new Date(registration.expires_at).toLocaleTimeString();
  $('summary').textContent = `Code ${registration.user_code}, begun on the ${registration.brand} accounts host, ${registration.status}${
    registration.status === 'pending' ? ` until ${expires}` : ''
  }. The bot is created in the tenant of the user who approves (and so in that tenant's brand).`;
  const select = userSelect(state, selectedUser, { name: 'user_id', required: true });
  select.addEventListener('change', () => {
    selectedUser = select.value;
  });
  $('user-slot').replaceChildren(select);
  const pending = registration.status === 'pending' && !decided;
  $('approve-form').querySelectorAll('button').forEach((b) => (b.disabled = !pending));
}

$('approve-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('approve-error').textContent = '';
  $('approve-result').textContent = '';
  try {
    if (event.submitter?.value === 'deny') {
      await post(`/registrations/${encodeURIComponent(userCode)}/deny`);
      $('approve-result').textContent = 'Denied. The waiting client is told access_denied.';
    } else {
      if (!selectedUser) throw new Error('Choose the user who approves.');
      const result = await post(`/registrations/${encodeURIComponent(userCode)}/approve`, {
        user_id: selectedUser,
        name: $('bot-name').value,
      });
      // Approving as someone is not switching to them: "Acting as" in the main page stays as it was.
      $('approve-result').replaceChildren(
        'Approved: bot ',
        el('a', { href: `/${result.brand}/app/${encodeURIComponent(result.app_id)}` }, result.app_id),
        ` created on ${result.brand}. The waiting client picks it up on its next poll.`,
      );
    }
    decided = true;
  } catch (error) {
    $('approve-error').textContent = error.message;
  }
  load();
});

$('quick-user').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const tenant = await post('/tenants', { name: form.elements.tenant.value, brand: form.elements.brand.value });
    const user = await post('/users', { tenant_key: tenant.tenant_key, name: form.elements.user.value });
    selectedUser = user.id;
    form.reset();
    load();
  } catch (error) {
    $('approve-error').textContent = error.message;
  }
});

load().catch((error) => {
  $('summary').textContent = error.message;
});
