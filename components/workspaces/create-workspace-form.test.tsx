// @vitest-environment happy-dom
import { AppRouterContext } from 'next/dist/shared/lib/app-router-context.shared-runtime';
import { act } from 'react';
import { afterEach, describe, expect, test } from 'vitest';
import en from '@/locales/en.json';
import { recordingRouter, render, scriptFetch, settle, waitUntil, type Rendered } from '@/test/dom';
import { CreateWorkspaceForm } from './create-workspace-form';

const t = en.workspaces.create;

let rendered: Rendered | undefined;
let restoreFetch: (() => void) | undefined;
afterEach(async () => {
  await rendered?.unmount();
  restoreFetch?.();
});

async function renderForm() {
  const { router, pushed } = recordingRouter();
  rendered = await render(
    <AppRouterContext value={router}>
      <CreateWorkspaceForm />
    </AppRouterContext>,
  );
  const container = rendered.container;
  const input = (name: string) => container.querySelector<HTMLInputElement>(`input[name="${name}"]`)!;
  return { container, input, pushed };
}

/** Types into a controlled input the way React listens for it. */
async function type(input: HTMLInputElement, value: string) {
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

const submit = async (container: HTMLElement) => act(async () => container.querySelector('form')!.requestSubmit());

describe('creating a workspace', () => {
  test('suggests a slug and prefix from the name and sends the trimmed input', async () => {
    const fetch = scriptFetch(() => ({
      status: 201,
      body: { workspace: { id: 'w1', name: 'Acme Labs', slug: 'acme-labs', issue_prefix: 'AL', role: 'owner', created_at: '2026-01-01T00:00:00.000Z' } },
    }));
    restoreFetch = fetch.restore;
    const { container, input, pushed } = await renderForm();
    await type(input('name'), ' Acme Labs ');
    expect(input('slug').value).toBe('acme-labs');
    expect(input('issue_prefix').value).toBe('AL');
    await submit(container);
    await waitUntil(() => pushed.length > 0, 'the redirect');
    expect(fetch.requests.find((r) => r.method === 'POST')?.body).toEqual({ name: 'Acme Labs', slug: 'acme-labs', issue_prefix: 'AL' });
    expect(pushed).toEqual(['/w/acme-labs/chat']);
  });

  test('explains invalid fields in the current language and sends nothing', async () => {
    const fetch = scriptFetch(() => ({ status: 500 }));
    restoreFetch = fetch.restore;
    const { container, input } = await renderForm();
    await type(input('slug'), 'x');
    await submit(container);
    await settle();
    expect(container.textContent).toContain(t.nameRequired);
    expect(container.textContent).toContain(t.slugInvalid);
    expect(container.textContent).toContain(t.prefixInvalid);
    expect(input('slug').getAttribute('aria-invalid')).toBe('true');
    expect(fetch.requests).toEqual([]);
  });

  test('a taken slug is told once, on the slug field, in the current language', async () => {
    const taken = 'That URL slug is already taken';
    const fetch = scriptFetch(() => ({ status: 409, body: { error: { code: 'conflict', message: taken, fields: { slug: taken } } } }));
    restoreFetch = fetch.restore;
    const { container, input } = await renderForm();
    await type(input('name'), 'Acme');
    await submit(container);
    await waitUntil(() => container.textContent?.includes(t.slugTaken) ?? false, 'the slug error');
    // No summary band above the form repeats it, and the server's English sentence is not shown.
    expect(container.querySelector('[role="alert"]')).toBeNull();
    expect(container.textContent).not.toContain(en.errors.conflict);
    expect(container.textContent!.split('already taken')).toHaveLength(2);
    const slug = input('slug');
    expect(slug.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(slug.getAttribute('aria-describedby') ?? '')?.textContent).toBe(t.slugTaken);
  });

  test('a failure no field can show appears above the form', async () => {
    const fetch = scriptFetch(() => ({ status: 500, body: { error: { code: 'internal', message: 'boom' } } }));
    restoreFetch = fetch.restore;
    const { container, input } = await renderForm();
    await type(input('name'), 'Acme');
    await submit(container);
    await waitUntil(() => container.querySelector('[role="alert"]') !== null, 'the summary');
    expect(container.querySelector('[role="alert"]')?.textContent).toBe(en.errors.internal);
  });
});
