'use client';

import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { keys } from './keys';
import type {
  Agent,
  ChatSession,
  Issue,
  Member,
  MeResponse,
  MessagesResponse,
  Workspace,
} from './types';

const ws = (wsId: string) => `/api/workspaces/${encodeURIComponent(wsId)}`;
export const paths = {
  me: '/api/me',
  workspaces: '/api/workspaces',
  workspace: ws,
  members: (wsId: string) => `${ws(wsId)}/members`,
  member: (wsId: string, userId: string) => `${ws(wsId)}/members/${encodeURIComponent(userId)}`,
  agents: (wsId: string) => `${ws(wsId)}/agents`,
  agent: (wsId: string, agentId: string) => `${ws(wsId)}/agents/${encodeURIComponent(agentId)}`,
  sessions: (wsId: string) => `${ws(wsId)}/chat/sessions`,
  session: (wsId: string, sid: string) => `${ws(wsId)}/chat/sessions/${encodeURIComponent(sid)}`,
  messages: (wsId: string, sid: string) => `${ws(wsId)}/chat/sessions/${encodeURIComponent(sid)}/messages`,
  issues: (wsId: string) => `${ws(wsId)}/issues`,
  issue: (wsId: string, issueId: string) => `${ws(wsId)}/issues/${encodeURIComponent(issueId)}`,
  events: (wsId: string) => `${ws(wsId)}/events`,
};

export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: ({ signal }) => api<MeResponse>(paths.me, { signal }) });
}

export function useWorkspaceInfo(wsId: string, initial: Workspace) {
  return useQuery({
    queryKey: keys.workspaceInfo(wsId),
    queryFn: ({ signal }) => api<{ workspace: Workspace }>(paths.workspace(wsId), { signal }).then((r) => r.workspace),
    initialData: initial,
    staleTime: 30_000,
  });
}

export function useMembers(wsId: string) {
  return useQuery({
    queryKey: keys.members(wsId),
    queryFn: ({ signal }) => api<{ members: Member[] }>(paths.members(wsId), { signal }).then((r) => r.members),
  });
}

export function useAgents(wsId: string, includeArchived = false) {
  return useQuery({
    queryKey: keys.agentList(wsId, includeArchived),
    queryFn: ({ signal }) =>
      api<{ agents: Agent[] }>(`${paths.agents(wsId)}${includeArchived ? '?include_archived=1' : ''}`, { signal }).then(
        (r) => r.agents,
      ),
  });
}

export function useAgent(wsId: string, agentId: string) {
  return useQuery({
    queryKey: keys.agent(wsId, agentId),
    queryFn: ({ signal }) => api<{ agent: Agent }>(paths.agent(wsId, agentId), { signal }).then((r) => r.agent),
  });
}

export function useSessions(wsId: string) {
  return useQuery({
    queryKey: keys.sessions(wsId),
    queryFn: ({ signal }) => api<{ sessions: ChatSession[] }>(paths.sessions(wsId), { signal }).then((r) => r.sessions),
  });
}

export function useSession(wsId: string, sessionId: string) {
  return useQuery({
    queryKey: keys.session(wsId, sessionId),
    queryFn: ({ signal }) => api<{ session: ChatSession }>(paths.session(wsId, sessionId), { signal }).then((r) => r.session),
  });
}

/** While a task is queued or running, poll slowly as a safety net under the live event stream. */
const pendingPollMs = 5_000;

export function useMessages(wsId: string, sessionId: string) {
  return useQuery({
    queryKey: keys.messages(wsId, sessionId),
    queryFn: ({ signal }) => api<MessagesResponse>(paths.messages(wsId, sessionId), { signal }),
    refetchInterval: (query) =>
      query.state.data?.tasks.some((t) => t.status === 'queued' || t.status === 'running') ? pendingPollMs : false,
  });
}

export function useIssues(wsId: string) {
  return useQuery({
    queryKey: keys.issueList(wsId),
    queryFn: ({ signal }) => api<{ issues: Issue[] }>(paths.issues(wsId), { signal }).then((r) => r.issues),
  });
}

export function useIssue(wsId: string, issueId: string) {
  return useQuery({
    queryKey: keys.issue(wsId, issueId),
    queryFn: ({ signal }) => api<{ issue: Issue }>(paths.issue(wsId, issueId), { signal }).then((r) => r.issue),
  });
}
