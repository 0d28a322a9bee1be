import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { AppRouterInstance } from 'next/dist/shared/lib/app-router-context.shared-runtime';
import { NextIntlClientProvider } from 'next-intl';
import { act, StrictMode, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import en from '@/locales/en.json';

// Component tests render into happy-dom with the app's real providers (English messages, a fresh
// query client) and answer the components' fetches from a scripted server.

// Tells React that updates are wrapped in act(), so it flushes them before the test looks.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export type Rendered = { container: HTMLElement; unmount: () => Promise<void> };

export async function render(ui: ReactNode, opts: { strict?: boolean } = {}): Promise<Rendered> {
  const container = document.createElement('div');
  document.body.append(container);
  // Failed requests are the components' business here, not the client's retry policy.
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const tree = (
    <QueryClientProvider client={client}>
      <NextIntlClientProvider locale="en" messages={en} timeZone="UTC">
        {ui}
      </NextIntlClientProvider>
    </QueryClientProvider>
  );
  let root: Root | undefined;
  await act(async () => {
    root = createRoot(container);
    root.render(opts.strict ? <StrictMode>{tree}</StrictMode> : tree);
  });
  return {
    container,
    unmount: async () => {
      await act(async () => root?.unmount());
      client.clear();
      container.remove();
    },
  };
}

/** Lets timers, fetches and React updates run for `ms`. */
export async function settle(ms = 20): Promise<void> {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, ms));
  });
}

export async function waitUntil(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(10);
  }
}

export async function click(element: Element | null | undefined): Promise<void> {
  if (!(element instanceof HTMLElement)) throw new Error('nothing to click');
  await act(async () => element.click());
}

export type ScriptedRequest = { method: string; path: string; query: URLSearchParams; body: unknown };
type Reply = { status: number; body?: unknown };

/**
 * Replaces fetch with `answer`, recording every request. Only same-origin API paths are expected,
 * like the components make.
 */
export function scriptFetch(answer: (req: ScriptedRequest) => Reply | Promise<Reply>) {
  const requests: ScriptedRequest[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://localhost');
    const req = { method: init?.method ?? 'GET', path: url.pathname, query: url.searchParams, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    requests.push(req);
    const reply = await answer(req);
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
  return { requests, restore: () => (globalThis.fetch = original) };
}

/** A Next.js router that records where a component sends the browser, for AppRouterContext. */
export function recordingRouter(): { router: AppRouterInstance; pushed: string[] } {
  const pushed: string[] = [];
  const router: AppRouterInstance = {
    back: () => {},
    forward: () => {},
    refresh: () => {},
    prefetch: () => {},
    replace: (href) => void pushed.push(href),
    push: (href) => void pushed.push(href),
    bfcacheId: 'test',
  };
  return { router, pushed };
}
