// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, describe, expect, test } from 'vitest';
import en from '@/locales/en.json';
import type { Agent } from '@/server/contract/agents';
import { click, render, waitUntil, type Rendered } from '@/test/dom';
import { AgentForm, type AgentFormValues } from './agent-form';

const t = en.agents.form;

const agent = (overrides: Partial<Agent> = {}): Agent => ({
  id: 'agent-1',
  name: 'Gpt',
  avatar_color: '#5b5bd6',
  owner: { id: 'u-1', name: 'Ada' },
  runtime: { kind: 'openai', base_url: 'https://models.example.com/v1', model: 'm', stream: false, has_api_key: true },
  archived_at: null,
  created_at: '2026-01-01T00:00:00.000Z',
  can_edit: true,
  can_configure_runtime: true,
  ...overrides,
});

let rendered: Rendered | undefined;
afterEach(async () => rendered?.unmount());

async function renderForm(a: Agent, canConfigureRuntime: boolean) {
  const submitted: AgentFormValues[] = [];
  rendered = await render(
    <AgentForm agent={a} canConfigureRuntime={canConfigureRuntime} pending={false} error={null} fields={{}} submitLabel="Save" pendingLabel="Saving" onSubmit={(v) => submitted.push(v)} />,
  );
  return { container: rendered.container, submitted };
}

/** Types into a controlled input the way React listens for it. */
async function type(input: HTMLInputElement, value: string) {
  await act(async () => {
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    setter.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

const submit = async (container: HTMLElement) => act(async () => container.querySelector('form')!.requestSubmit());

describe('the API key field', () => {
  test('is write-only: a saved key shows as set, with a way to replace it, and is never prefilled', async () => {
    const { container, submitted } = await renderForm(agent(), true);
    expect(container.textContent).toContain(t.apiKeySet);
    expect(container.querySelector('input[name="api_key"]')).toBeNull();
    await click([...container.querySelectorAll('button')].find((b) => b.textContent === t.apiKeyReplace));
    const key = container.querySelector<HTMLInputElement>('input[name="api_key"]')!;
    expect(key.type).toBe('password');
    expect(key.value).toBe('');
    // Left blank, the saved key stays: the form sends no key.
    await submit(container);
    expect(submitted.at(-1)?.runtime).toEqual({ kind: 'openai', base_url: 'https://models.example.com/v1', model: 'm', stream: false });
  });

  test('asks for a new key when the base URL moves to another server', async () => {
    const { container, submitted } = await renderForm(agent(), true);
    await type(container.querySelector<HTMLInputElement>('input[name="base_url"]')!, 'https://other.example.com/v1');
    expect(container.querySelector('input[name="api_key"]')).not.toBeNull();
    expect(container.textContent).toContain(t.apiKeyNewServer);
    await submit(container);
    expect(submitted).toHaveLength(0);
  });

  test('refuses a base URL with credentials in it before sending anything', async () => {
    const { container, submitted } = await renderForm(agent(), true);
    await type(container.querySelector<HTMLInputElement>('input[name="base_url"]')!, 'https://bob:secret@models.example.com/v1');
    await submit(container);
    expect(submitted).toHaveLength(0);
    expect(container.textContent).toContain(t.baseUrlCredentials);
  });
});

describe('a member', () => {
  test("sees an agent's model endpoint read-only, and saving leaves it out", async () => {
    const { container, submitted } = await renderForm(agent({ can_configure_runtime: false }), false);
    expect(container.querySelector('input[name="base_url"]')).toBeNull();
    expect(container.textContent).toContain(t.runtimeAdminsOnly);
    await submit(container);
    expect(submitted).toEqual([{ name: 'Gpt', avatar_color: '#5b5bd6' }]);
  });

  test('chooses between no runtime and echo only', async () => {
    const { container } = await renderForm(agent({ runtime: { kind: 'echo' }, can_configure_runtime: false }), false);
    const kinds = [...container.querySelectorAll<HTMLInputElement>('input[name="runtime"]')].map((i) => i.value);
    expect(kinds).toEqual(['none', 'echo']);
  });
});

describe('a new agent', () => {
  async function renderNew(fields: Record<string, string> = {}, error: string | null = null) {
    const submitted: AgentFormValues[] = [];
    rendered = await render(
      <AgentForm canConfigureRuntime pending={false} error={error} fields={fields} submitLabel="Create" pendingLabel="Creating" onSubmit={(v) => submitted.push(v)} />,
    );
    return { container: rendered.container, submitted };
  }

  test('needs a name, said in the UI language, and then goes out as an echo agent by default', async () => {
    const { container, submitted } = await renderNew();
    const echo = container.querySelector<HTMLInputElement>('input[name="runtime"][value="echo"]')!;
    expect(echo.checked).toBe(true);
    await submit(container);
    expect(submitted).toHaveLength(0);
    const name = container.querySelector<HTMLInputElement>('input[name="name"]')!;
    expect(name.getAttribute('aria-invalid')).toBe('true');
    expect(container.textContent).toContain(t.nameRequired);
    await type(name, '  Helper  ');
    await submit(container);
    expect(submitted).toEqual([{ name: 'Helper', avatar_color: '#5b5bd6', runtime: { kind: 'echo' } }]);
  });

  test('an OpenAI-compatible runtime needs a model and a key before anything is sent', async () => {
    const { container, submitted } = await renderNew();
    await type(container.querySelector<HTMLInputElement>('input[name="name"]')!, 'Gpt');
    await act(async () => container.querySelector<HTMLInputElement>('input[name="runtime"][value="openai"]')!.click());
    await submit(container);
    expect(submitted).toHaveLength(0);
    expect(container.textContent).toContain(t.modelRequired);
    expect(container.textContent).toContain(t.apiKeyRequired);
    await type(container.querySelector<HTMLInputElement>('input[name="model"]')!, 'm');
    await type(container.querySelector<HTMLInputElement>('input[name="api_key"]')!, 'sk-test');
    await submit(container);
    expect(submitted).toEqual([
      { name: 'Gpt', avatar_color: '#5b5bd6', runtime: { kind: 'openai', base_url: 'https://api.openai.com/v1', model: 'm', api_key: 'sk-test', stream: false } },
    ]);
  });

  test("shows the server's field messages under their fields, nested ones too, instead of a summary", async () => {
    const { container } = await renderNew({ name: 'That name is taken', 'runtime.kind': 'Not allowed here' }, 'Check the fields');
    await waitUntil(() => container.textContent?.includes('That name is taken') ?? false, 'the server message');
    expect(container.textContent).toContain('Not allowed here');
    expect(container.textContent).not.toContain('Check the fields');
    expect(container.querySelector('input[name="name"]')?.getAttribute('aria-invalid')).toBe('true');
  });

  test('shows the summary when no field can carry the failure', async () => {
    const { container } = await renderNew({}, 'Something went wrong');
    expect(container.querySelector('[role="alert"]')?.textContent).toBe('Something went wrong');
  });
});

