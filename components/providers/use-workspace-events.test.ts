import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { keys } from '@/components/api/keys';
import { applyWorkspaceEvent } from './use-workspace-events';

function seeded() {
  const client = new QueryClient();
  const wsId = 'ws-1';
  client.setQueryData(keys.larkInstallations(wsId), { configured: true, install_supported: true, installations: [] });
  client.setQueryData(keys.larkInstallStatus(wsId, 's-1'), { status: 'pending' });
  client.setQueryData(keys.larkInstallStatus(wsId, 's-2'), { status: 'pending' });
  client.setQueryData(keys.members(wsId), []);
  const invalid = (key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated ?? false;
  return { client, wsId, invalid };
}

describe('applyWorkspaceEvent: Lark', () => {
  it('refetches the installations when they change', () => {
    const { client, wsId, invalid } = seeded();
    applyWorkspaceEvent(client, wsId, { type: 'lark.installations.changed' });
    expect(invalid(keys.larkInstallations(wsId))).toBe(true);
    expect(invalid(keys.larkInstallStatus(wsId, 's-1'))).toBe(false);
    expect(invalid(keys.members(wsId))).toBe(false);
  });

  it('refreshes only the install session that changed', () => {
    const { client, wsId, invalid } = seeded();
    applyWorkspaceEvent(client, wsId, { type: 'lark.registration.changed', session_id: 's-1' });
    expect(invalid(keys.larkInstallStatus(wsId, 's-1'))).toBe(true);
    expect(invalid(keys.larkInstallStatus(wsId, 's-2'))).toBe(false);
    expect(invalid(keys.larkInstallations(wsId))).toBe(false);
  });
});

describe('applyWorkspaceEvent: streaming answers', () => {
  it('grows a running answer from its deltas, and waits out a delta that skips ahead', () => {
    const { client, wsId } = seeded();
    const text = () => (client.getQueryData(keys.streaming(wsId, 'chat-1')) as Record<string, string> | undefined)?.['task-1'];
    applyWorkspaceEvent(client, wsId, { type: 'task.delta', session_id: 'chat-1', task_id: 'task-1', offset: 0, text: 'You said' });
    applyWorkspaceEvent(client, wsId, { type: 'task.delta', session_id: 'chat-1', task_id: 'task-1', offset: 8, text: ': "hi"' });
    expect(text()).toBe('You said: "hi"');
    // A frame went missing: this one cannot be placed, so the text stays as it was.
    applyWorkspaceEvent(client, wsId, { type: 'task.delta', session_id: 'chat-1', task_id: 'task-1', offset: 40, text: 'later' });
    expect(text()).toBe('You said: "hi"');
    // A runtime that rewrote its text starts over from an earlier offset.
    applyWorkspaceEvent(client, wsId, { type: 'task.delta', session_id: 'chat-1', task_id: 'task-1', offset: 0, text: 'New' });
    expect(text()).toBe('New');
  });

  it('refetches a session whose message changed in place (a recalled question)', () => {
    const { client, wsId } = seeded();
    client.setQueryData(keys.messages(wsId, 'chat-1'), { messages: [], tasks: [] });
    applyWorkspaceEvent(client, wsId, { type: 'chat.message.updated', session_id: 'chat-1', message_id: 'm-1' });
    expect(client.getQueryState(keys.messages(wsId, 'chat-1'))?.isInvalidated).toBe(true);
  });
});
