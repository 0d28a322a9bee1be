// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, describe, expect, test } from 'vitest';
import { ApiError } from '@/components/api/client';
import en from '@/locales/en.json';
import { render, waitUntil, type Rendered } from '@/test/dom';
import { Composer } from './composer';

const t = en.chat;

let rendered: Rendered | undefined;
afterEach(async () => rendered?.unmount());

async function renderComposer(onSend: (content: string) => Promise<void>) {
  rendered = await render(<Composer disabled={false} onSend={onSend} />);
  const container = rendered.container;
  const textarea = container.querySelector('textarea')!;
  const label = container.querySelector(`label[for="${textarea.id}"]`);
  return { container, textarea, label };
}

async function type(textarea: HTMLTextAreaElement, value: string) {
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(textarea, value);
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function press(textarea: HTMLTextAreaElement, init: KeyboardEventInit) {
  await act(async () => {
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, ...init }));
  });
}

describe('the composer', () => {
  test('is labelled, sends the trimmed text on Enter and clears; Shift+Enter and an open IME composition never send', async () => {
    const sent: string[] = [];
    const { textarea, label } = await renderComposer(async (content) => void sent.push(content));
    expect(label?.textContent).toBe(t.messageLabel);
    await type(textarea, '  hello  ');
    await press(textarea, { shiftKey: true });
    await press(textarea, { isComposing: true });
    expect(sent).toEqual([]);
    await press(textarea, {});
    await waitUntil(() => sent.length === 1, 'the send');
    expect(sent).toEqual(['hello']);
    await waitUntil(() => textarea.value === '', 'the cleared composer');
  });

  test('Enter on blank text sends nothing and shows no error', async () => {
    const sent: string[] = [];
    const { container, textarea } = await renderComposer(async (content) => void sent.push(content));
    await type(textarea, '   ');
    await press(textarea, {});
    expect(sent).toEqual([]);
    expect(textarea.getAttribute('aria-invalid')).toBeNull();
    expect(container.querySelector<HTMLButtonElement>('button[type="submit"]')?.disabled).toBe(true);
  });

  test("keeps the text when the server refuses it, with the server's message on the field", async () => {
    const { container, textarea } = await renderComposer(async () => {
      throw new ApiError(400, 'validation', 'Invalid input', { content: 'Message is at most 20,000 characters' });
    });
    await type(textarea, 'too much');
    await act(async () => container.querySelector('form')!.requestSubmit());
    await waitUntil(() => container.textContent?.includes('Message is at most 20,000 characters') ?? false, 'the field message');
    expect(textarea.value).toBe('too much');
    expect(textarea.getAttribute('aria-invalid')).toBe('true');
  });
});
