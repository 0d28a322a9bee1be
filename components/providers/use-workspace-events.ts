'use client';

import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import type { WorkspaceEvent } from '@/server/contract/events';

function parseEvent(data: string): WorkspaceEvent | null {
  try {
    const value = JSON.parse(data) as unknown;
    return value && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string'
      ? (value as WorkspaceEvent)
      : null;
  } catch {
    return null;
  }
}

/** Running answers of a session, by task id: the text so far. */
export type StreamingAnswers = Record<string, string>;

/** Adds a delta to a running answer. A delta that starts past the known text (a missed frame) waits for the next one that fits. */
export function appendDelta(answers: StreamingAnswers, delta: { task_id: string; offset: number; text: string }): StreamingAnswers {
  const known = answers[delta.task_id] ?? '';
  if (delta.offset > known.length) return answers;
  return { ...answers, [delta.task_id]: known.slice(0, delta.offset) + delta.text };
}

export function applyWorkspaceEvent(client: QueryClient, wsId: string, event: WorkspaceEvent) {
  switch (event.type) {
    case 'chat.message.created':
      void client.invalidateQueries({ queryKey: keys.messages(wsId, event.session_id) });
      void client.invalidateQueries({ queryKey: keys.sessions(wsId) });
      break;
    case 'chat.message.updated':
    case 'task.updated':
      void client.invalidateQueries({ queryKey: keys.messages(wsId, event.session_id) });
      break;
    case 'task.delta':
      client.setQueryData<StreamingAnswers>(keys.streaming(wsId, event.session_id), (old) => appendDelta(old ?? {}, event));
      break;
    case 'issue.created':
    case 'issue.updated':
      void client.invalidateQueries({ queryKey: keys.issues(wsId) });
      break;
    case 'members.changed':
      // A member who leaves is un-assigned from their issues by the database.
      void client.invalidateQueries({ queryKey: keys.issues(wsId) });
      void client.invalidateQueries({ queryKey: keys.members(wsId) });
      void client.invalidateQueries({ queryKey: keys.workspaceInfo(wsId) });
      void client.invalidateQueries({ queryKey: keys.me });
      break;
    case 'agents.changed':
      void client.invalidateQueries({ queryKey: keys.agents(wsId) });
      // Issue lists show agent assignees by name and archived state.
      void client.invalidateQueries({ queryKey: keys.issues(wsId) });
      break;
    case 'lark.installations.changed':
      void client.invalidateQueries({ queryKey: keys.larkInstallations(wsId) });
      break;
    case 'lark.registration.changed':
      // The open install dialog learns of a scan at once instead of at its next poll.
      void client.invalidateQueries({ queryKey: keys.larkInstallStatus(wsId, event.session_id) });
      break;
    case 'resync':
      void client.invalidateQueries({ queryKey: keys.workspace(wsId) });
      break;
  }
}

/**
 * One EventSource per open workspace. EventSource reconnects by itself; after a reconnect every
 * query of the workspace is refreshed, since events sent while disconnected are gone.
 */
export function useWorkspaceEvents(wsId: string) {
  const client = useQueryClient();
  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource(paths.events(wsId));
    let opened = false;
    source.onopen = () => {
      if (opened) void client.invalidateQueries({ queryKey: keys.workspace(wsId) });
      opened = true;
    };
    source.onmessage = (message: MessageEvent<string>) => {
      const event = parseEvent(message.data);
      if (event) applyWorkspaceEvent(client, wsId, event);
    };
    return () => source.close();
  }, [client, wsId]);
}
