'use client';

import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, isApiError } from './client';
import { keys } from './keys';
import { agentResponse, agentsResponse } from '@/server/contract/agents';
import { messagesResponse, sessionResponse, sessionsResponse } from '@/server/contract/chat';
import { issueResponse, issuesResponse } from '@/server/contract/issues';
import { larkInboundDropsResponse, larkInstallationsResponse, larkInstallStatusSchema, larkLinkedAccountsResponse } from '@/server/contract/lark';
import { meResponse } from '@/server/contract/me';
import { invitationsResponse } from '@/server/contract/invitations';
import { membersResponse } from '@/server/contract/members';
import { workspaceResponse, type WorkspaceSummary } from '@/server/contract/workspaces';

const ws = (wsId: string) => `/api/workspaces/${encodeURIComponent(wsId)}`;
export const paths = {
  me: '/api/me',
  workspaces: '/api/workspaces',
  workspace: ws,
  members: (wsId: string) => `${ws(wsId)}/members`,
  member: (wsId: string, userId: string) => `${ws(wsId)}/members/${encodeURIComponent(userId)}`,
  invitations: (wsId: string) => `${ws(wsId)}/invitations`,
  invitation: (wsId: string, invitationId: string) => `${ws(wsId)}/invitations/${encodeURIComponent(invitationId)}`,
  acceptInvitation: '/api/invitations/accept',
  agents: (wsId: string) => `${ws(wsId)}/agents`,
  agent: (wsId: string, agentId: string) => `${ws(wsId)}/agents/${encodeURIComponent(agentId)}`,
  sessions: (wsId: string) => `${ws(wsId)}/chat/sessions`,
  session: (wsId: string, sid: string) => `${ws(wsId)}/chat/sessions/${encodeURIComponent(sid)}`,
  messages: (wsId: string, sid: string) => `${ws(wsId)}/chat/sessions/${encodeURIComponent(sid)}/messages`,
  issues: (wsId: string) => `${ws(wsId)}/issues`,
  issue: (wsId: string, issueId: string) => `${ws(wsId)}/issues/${encodeURIComponent(issueId)}`,
  events: (wsId: string) => `${ws(wsId)}/events`,
  larkInstallations: (wsId: string) => `${ws(wsId)}/lark/installations`,
  larkInstallation: (wsId: string, installationId: string) => `${ws(wsId)}/lark/installations/${encodeURIComponent(installationId)}`,
  larkInstallationDrops: (wsId: string, installationId: string) =>
    `${ws(wsId)}/lark/installations/${encodeURIComponent(installationId)}/drops`,
  larkInstallBegin: (wsId: string) => `${ws(wsId)}/lark/install/begin`,
  larkInstallStatus: (wsId: string, sid: string) => `${ws(wsId)}/lark/install/${encodeURIComponent(sid)}/status`,
  larkMyLinkedAccounts: (wsId: string) => `${ws(wsId)}/lark/linked-accounts`,
  larkMyLinkedAccount: (wsId: string, bindingId: string) => `${ws(wsId)}/lark/linked-accounts/${encodeURIComponent(bindingId)}`,
  larkBotLinkedAccounts: (wsId: string, installationId: string) => `${ws(wsId)}/lark/installations/${encodeURIComponent(installationId)}/linked-accounts`,
  larkBotLinkedAccount: (wsId: string, installationId: string, bindingId: string) =>
    `${ws(wsId)}/lark/installations/${encodeURIComponent(installationId)}/linked-accounts/${encodeURIComponent(bindingId)}`,
  larkBindingRedeem: '/api/lark/binding/redeem',
  larkBindingPreview: (token: string) => `/api/lark/binding/preview?token=${encodeURIComponent(token)}`,
};

export function useMe() {
  return useQuery({ queryKey: keys.me, queryFn: ({ signal }) => api(paths.me, { signal, response: meResponse }) });
}

/** Seeded from the page's summary; the fetched workspace carries more than the summary needs. */
export function useWorkspaceInfo(wsId: string, initial: WorkspaceSummary) {
  return useQuery<WorkspaceSummary>({
    queryKey: keys.workspaceInfo(wsId),
    queryFn: ({ signal }) => api(paths.workspace(wsId), { signal, response: workspaceResponse }).then((r) => r.workspace),
    initialData: initial,
    staleTime: 30_000,
  });
}

export function useMembers(wsId: string) {
  return useQuery({
    queryKey: keys.members(wsId),
    queryFn: ({ signal }) => api(paths.members(wsId), { signal, response: membersResponse }).then((r) => r.members),
  });
}

/** Pending invitations; owners and admins only (`enabled` keeps members from asking for a 403). */
export function useInvitations(wsId: string, options: { enabled: boolean }) {
  return useQuery({
    queryKey: keys.invitations(wsId),
    queryFn: ({ signal }) => api(paths.invitations(wsId), { signal, response: invitationsResponse }).then((r) => r.invitations),
    enabled: options.enabled,
  });
}

export function useAgents(wsId: string, includeArchived = false) {
  return useQuery({
    queryKey: keys.agentList(wsId, includeArchived),
    queryFn: ({ signal }) =>
      api(`${paths.agents(wsId)}${includeArchived ? '?include_archived=1' : ''}`, { signal, response: agentsResponse }).then(
        (r) => r.agents,
      ),
  });
}

export function useAgent(wsId: string, agentId: string) {
  return useQuery({
    queryKey: keys.agent(wsId, agentId),
    queryFn: ({ signal }) => api(paths.agent(wsId, agentId), { signal, response: agentResponse }).then((r) => r.agent),
  });
}

export function useSessions(wsId: string) {
  return useQuery({
    queryKey: keys.sessions(wsId),
    queryFn: ({ signal }) => api(paths.sessions(wsId), { signal, response: sessionsResponse }).then((r) => r.sessions),
  });
}

export function useSession(wsId: string, sessionId: string) {
  return useQuery({
    queryKey: keys.session(wsId, sessionId),
    queryFn: ({ signal }) => api(paths.session(wsId, sessionId), { signal, response: sessionResponse }).then((r) => r.session),
  });
}

/** While a task is queued or running, poll slowly as a safety net under the live event stream. */
const pendingPollMs = 5_000;

export function useMessages(wsId: string, sessionId: string) {
  return useQuery({
    queryKey: keys.messages(wsId, sessionId),
    queryFn: ({ signal }) => api(paths.messages(wsId, sessionId), { signal, response: messagesResponse }),
    refetchInterval: (query) =>
      query.state.data?.tasks.some((t) => t.status === 'queued' || t.status === 'running') ? pendingPollMs : false,
  });
}

export function useIssues(wsId: string) {
  return useQuery({
    queryKey: keys.issueList(wsId),
    queryFn: ({ signal }) => api(paths.issues(wsId), { signal, response: issuesResponse }).then((r) => r.issues),
  });
}

export function useIssue(wsId: string, issueId: string) {
  return useQuery({
    queryKey: keys.issue(wsId, issueId),
    queryFn: ({ signal }) => api(paths.issue(wsId, issueId), { signal, response: issueResponse }).then((r) => r.issue),
  });
}

/** The workspace with its settings (the page's summary carries only what every page needs). */
export function useWorkspaceSettings(wsId: string) {
  return useQuery({
    queryKey: keys.workspaceSettings(wsId),
    queryFn: ({ signal }) => api(paths.workspace(wsId), { signal, response: workspaceResponse }).then((r) => r.workspace),
  });
}

/** The Lark accounts the signed-in member linked in this workspace. */
export function useMyLarkAccounts(wsId: string) {
  return useQuery({
    queryKey: keys.larkMyLinkedAccounts(wsId),
    queryFn: ({ signal }) => api(paths.larkMyLinkedAccounts(wsId), { signal, response: larkLinkedAccountsResponse }).then((r) => r.accounts),
  });
}

/** Everyone linked through one bot (owners and admins), fetched while someone looks at them. */
export function useBotLarkAccounts(wsId: string, installationId: string, options: { enabled: boolean }) {
  return useQuery({
    queryKey: keys.larkBotLinkedAccounts(wsId, installationId),
    queryFn: ({ signal }) => api(paths.larkBotLinkedAccounts(wsId, installationId), { signal, response: larkLinkedAccountsResponse }).then((r) => r.accounts),
    enabled: options.enabled,
  });
}

/** Connection state lives on the worker and changes without an event, so the listing polls. */
const larkConnectionPollMs = 10_000;

export function useLarkInstallations(wsId: string, options: { poll?: boolean } = {}) {
  return useQuery({
    queryKey: keys.larkInstallations(wsId),
    queryFn: ({ signal }) => api(paths.larkInstallations(wsId), { signal, response: larkInstallationsResponse }),
    refetchInterval: options.poll ? larkConnectionPollMs : false,
  });
}

/**
 * Dropped events of one bot (owners and admins only), newest first, fetched while someone is
 * looking at them; more pages load on request.
 */
export function useLarkDrops(wsId: string, installationId: string, options: { enabled: boolean }) {
  return useInfiniteQuery({
    queryKey: keys.larkDrops(wsId, installationId),
    queryFn: ({ signal, pageParam }) =>
      api(`${paths.larkInstallationDrops(wsId, installationId)}${pageParam ? `?before=${encodeURIComponent(pageParam)}` : ''}`, {
        signal,
        response: larkInboundDropsResponse,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    enabled: options.enabled,
    staleTime: 0,
    // Drops raise no workspace event, so an open list refreshes itself (every loaded page, in order).
    refetchInterval: options.enabled ? larkConnectionPollMs : false,
  });
}

/**
 * Polls an install session until it settles. 404 and 403 end it (the session is gone or not ours);
 * network and server errors keep polling, since Lark and the worker take their time.
 */
export function useLarkInstallStatus(wsId: string, sessionId: string | null, intervalSeconds: number) {
  return useQuery({
    queryKey: keys.larkInstallStatus(wsId, sessionId ?? ''),
    queryFn: ({ signal }) => api(paths.larkInstallStatus(wsId, sessionId ?? ''), { signal, response: larkInstallStatusSchema }),
    enabled: sessionId !== null,
    retry: false,
    staleTime: 0,
    gcTime: 0,
    refetchIntervalInBackground: true,
    refetchInterval: (query) => {
      if (query.state.data && query.state.data.status !== 'pending') return false;
      const error = query.state.error;
      if (isApiError(error) && (error.status === 403 || error.status === 404 || error.status === 401)) return false;
      return Math.max(1, intervalSeconds) * 1000;
    },
  });
}
