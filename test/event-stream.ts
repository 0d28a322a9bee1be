import * as events from '@/app/api/workspaces/[id]/events/route';
import { TEST_APP_URL, type TestUser } from './api';

export type ReceivedEvent = { type: string; session_id?: string; issue_id?: string; [k: string]: unknown };
export type EventStream = { status: number; events: ReceivedEvent[]; closed: Promise<void>; isClosed: () => boolean; stop: () => void };

/** Opens the real workspace event route as `user` and collects the events it sends, in order. */
export async function openEventStream(user: TestUser, workspaceId: string): Promise<EventStream> {
  const abort = new AbortController();
  const req = new Request(`${TEST_APP_URL}/api/workspaces/${workspaceId}/events`, { headers: { authorization: `Bearer ${user.token}` }, signal: abort.signal });
  const res = await events.GET(req, { params: Promise.resolve({ id: workspaceId }) });
  const received: ReceivedEvent[] = [];
  let closed = false;
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let at: number;
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          for (const line of frame.split('\n')) if (line.startsWith('data: ')) received.push(JSON.parse(line.slice(6)) as ReceivedEvent);
        }
      }
    } catch {
      // aborted by the test
    } finally {
      closed = true;
    }
  })();
  return { status: res.status, events: received, closed: done, isClosed: () => closed, stop: () => abort.abort() };
}

/** Polls `check` until it holds, or fails naming `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
