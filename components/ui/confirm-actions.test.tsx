// @vitest-environment happy-dom
import { act } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import { ConfirmButton, SwitchAccountButton } from './confirm-actions';

// Tells React that updates are wrapped in act(), so it flushes them before the test looks.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// A link's page arrives as server HTML; a click that lands before React attaches its handlers does
// nothing, so the buttons must not look clickable until then.
describe('the confirming buttons', () => {
  test('are disabled in the server HTML and enabled once hydrated', async () => {
    const ui = (
      <div>
        <ConfirmButton pending={false} pendingLabel="Joining…">
          Accept
        </ConfirmButton>
        <SwitchAccountButton path="/invite/x">Switch</SwitchAccountButton>
      </div>
    );
    const html = renderToString(ui);
    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.append(container);
    const buttons = () => [...container.querySelectorAll('button')];
    expect(buttons().map((b) => [b.textContent, b.disabled])).toEqual([
      ['Accept', true],
      ['Switch', true],
    ]);

    let root: ReturnType<typeof hydrateRoot> | undefined;
    await act(async () => {
      root = hydrateRoot(container, ui);
    });
    expect(buttons().map((b) => [b.textContent, b.disabled])).toEqual([
      ['Accept', false],
      ['Switch', false],
    ]);
    await act(async () => root?.unmount());
    container.remove();
  });

  test('a pending confirmation stays disabled after hydration', async () => {
    const ui = (
      <ConfirmButton pending pendingLabel="Joining…">
        Accept
      </ConfirmButton>
    );
    const container = document.createElement('div');
    container.innerHTML = renderToString(ui);
    document.body.append(container);
    let root: ReturnType<typeof hydrateRoot> | undefined;
    await act(async () => {
      root = hydrateRoot(container, ui);
    });
    const button = container.querySelector('button');
    expect([button?.textContent, button?.disabled]).toEqual(['Joining…', true]);
    await act(async () => root?.unmount());
    container.remove();
  });
});
