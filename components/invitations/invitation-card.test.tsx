// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { NextIntlClientProvider } from 'next-intl';
import { act } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, test } from 'vitest';
import en from '@/locales/en.json';
import { click, render, scriptFetch, waitUntil, type Rendered } from '@/test/dom';
import { InvitationCard, type InvitationCardProps } from './invitation-card';

const t = en.invitation;
const token = 'b'.repeat(43);
const base: Omit<InvitationCardProps, 'viewer'> = {
  token,
  workspace: { name: 'Acme', slug: 'acme' },
  inviterName: 'Olivia',
  role: 'admin',
  email: 'ivy@example.test',
  expiresAt: '2026-01-08T00:00:00.000Z',
};

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

const links = (root: ParentNode) => [...root.querySelectorAll('a')].map((a) => ({ name: a.textContent, href: a.getAttribute('href') }));
const button = (root: ParentNode, name: string) => [...root.querySelectorAll('button')].find((b) => b.textContent === name);

describe('the invitation card', () => {
  test('signed out: sign in or create an account, each coming back to the link; no accept button', async () => {
    rendered = await render(<InvitationCard {...base} viewer={null} />);
    const { container } = rendered;
    expect(links(container)).toEqual([
      { name: t.signIn, href: `/sign-in?next=${encodeURIComponent(`/invite/${token}`)}` },
      { name: t.createAccount, href: `/sign-up?next=${encodeURIComponent(`/invite/${token}`)}` },
    ]);
    expect(button(container, t.accept)).toBeUndefined();
    expect(container.textContent).toContain(t.forEmail.replace('{email}', 'ivy@example.test'));
  });

  test('signed in as the invited email: accepting posts the token', async () => {
    const fake = scriptFetch(() => ({ status: 409, body: { error: { code: 'conflict', message: 'You are already a member of this workspace' } } }));
    restoreFetch = fake.restore;
    rendered = await render(<InvitationCard {...base} viewer={{ email: 'Ivy@Example.test' }} />);
    const { container } = rendered;
    await click(button(container, t.accept));
    await waitUntil(() => fake.requests.length > 0, 'the accept request');
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/api/invitations/accept', body: { token } });
    // Already a member (joined in another tab): a way into the workspace instead.
    await waitUntil(() => links(container).some((l) => l.href === '/w/acme/chat'), 'the workspace link');
  });

  test('signed in as someone else: says so, and offers only another account', async () => {
    rendered = await render(<InvitationCard {...base} viewer={{ email: 'sam@example.test' }} />);
    const { container } = rendered;
    expect(container.querySelector('[role="status"]')?.textContent).toBe(
      t.wrongAccount.replace('{email}', 'ivy@example.test').replace('{current}', 'sam@example.test'),
    );
    expect(button(container, t.accept)).toBeUndefined();
    expect(button(container, t.switchAccount)).toBeDefined();
  });

  test('nothing moves when the page comes alive: the expiry line is held in the server HTML and filled in on hydration', async () => {
    const ui = (
      <QueryClientProvider client={new QueryClient()}>
        <NextIntlClientProvider locale="en" messages={en} timeZone="UTC">
          <InvitationCard {...base} viewer={null} />
        </NextIntlClientProvider>
      </QueryClientProvider>
    );
    const container = document.createElement('div');
    container.innerHTML = renderToString(ui);
    document.body.append(container);
    const layout = () => [...container.firstElementChild!.children].map((el) => el.tagName);
    const before = layout();
    const expires = () => container.querySelector('[data-testid="invitation-expires"]')?.textContent;
    expect(expires()).toBe('\u00a0');
    let root: ReturnType<typeof hydrateRoot> | undefined;
    await act(async () => {
      root = hydrateRoot(container, ui);
    });
    expect(layout()).toEqual(before);
    expect(expires()).toContain('2026');
    await act(async () => root?.unmount());
    container.remove();
  });
});
