// @vitest-environment happy-dom
import { AppRouterContext, type AppRouterInstance } from 'next/dist/shared/lib/app-router-context.shared-runtime';
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import en from '@/locales/en.json';
import { click, render, scriptFetch, settle, waitUntil, type Rendered } from '@/test/dom';
import { GeneralSettings } from './general-settings';

const t = en.settings.general;

const viewer = vi.hoisted(() => ({ role: 'admin' as 'owner' | 'admin' | 'member' }));
vi.mock('@/components/providers/workspace-provider', () => ({
  useWorkspace: () => ({
    workspace: { id: 'ws-1', slug: 'acme', name: 'Acme', issue_prefix: 'AC', role: viewer.role },
    user: { id: 'u-1', name: 'Ada', email: 'ada@example.test' },
    role: viewer.role,
    isAdmin: viewer.role !== 'member',
    isOwner: viewer.role === 'owner',
    base: '/w/acme',
  }),
}));

const router: AppRouterInstance = { back: () => {}, forward: () => {}, refresh: () => {}, prefetch: () => {}, replace: () => {}, push: () => {}, bfcacheId: 'test' };

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
beforeEach(() => {
  viewer.role = 'admin';
});
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

async function renderPage(reply: () => { status: number; body?: unknown }) {
  const fake = scriptFetch(reply);
  restoreFetch = fake.restore;
  rendered = await render(
    <AppRouterContext value={router}>
      <GeneralSettings />
    </AppRouterContext>,
  );
  const { container } = rendered;
  const label = [...container.querySelectorAll('label')].find((l) => l.textContent === t.name)!;
  const name = container.querySelector<HTMLInputElement>(`[id="${label.htmlFor}"]`)!;
  const save = () => [...container.querySelectorAll('button')].find((b) => b.textContent === t.save || b.textContent === t.saving);
  return { container, name, save, requests: fake.requests };
}

async function type(input: HTMLInputElement, value: string) {
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

const describedBy = (control: HTMLElement) => document.getElementById(control.getAttribute('aria-describedby') ?? '')?.textContent;

describe('renaming the workspace', () => {
  test('sends the trimmed name; an unchanged name cannot be saved', async () => {
    const { name, save, requests } = await renderPage(() => ({
      status: 200,
      body: { workspace: { id: 'ws-1', name: 'Acme Labs', slug: 'acme', issue_prefix: 'AC', role: 'admin', created_at: '2026-01-01T00:00:00.000Z' } },
    }));
    expect(name.value).toBe('Acme');
    expect(save()?.disabled).toBe(true);
    await type(name, '  Acme Labs ');
    await click(save());
    await waitUntil(() => requests.some((r) => r.method === 'PATCH'), 'the rename');
    expect(requests.find((r) => r.method === 'PATCH')).toMatchObject({ path: '/api/workspaces/ws-1', body: { name: 'Acme Labs' } });
  });

  test('a blank name is explained in the current language and sends nothing; a server field error lands on the field', async () => {
    const { name, save, requests } = await renderPage(() => ({
      status: 422,
      body: { error: { code: 'validation_failed', message: 'Invalid input', fields: { name: 'Name is at most 80 characters' } } },
    }));
    await type(name, '   ');
    await click(save());
    await settle();
    expect(name.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(name)).toBe(t.nameRequired);
    expect(requests).toEqual([]);

    await type(name, 'Acme Labs');
    await click(save());
    await waitUntil(() => describedBy(name) === 'Name is at most 80 characters', 'the server error on the field');
  });

  test('a member sees the name read-only, with no save button', async () => {
    viewer.role = 'member';
    const { container, name, save } = await renderPage(() => ({ status: 500 }));
    expect(container.textContent).toContain(t.readOnly);
    expect(name.readOnly).toBe(true);
    expect(save()).toBeUndefined();
  });
});
