// Query keys: everything of a workspace sits under ['ws', id] so a reconnect can refresh it all.
export const keys = {
  me: ['me'] as const,
  workspace: (wsId: string) => ['ws', wsId] as const,
  workspaceInfo: (wsId: string) => ['ws', wsId, 'info'] as const,
  members: (wsId: string) => ['ws', wsId, 'members'] as const,
  // Under members: a members.changed event refreshes pending invitations too.
  invitations: (wsId: string) => ['ws', wsId, 'members', 'invitations'] as const,
  agents: (wsId: string) => ['ws', wsId, 'agents'] as const,
  agentList: (wsId: string, includeArchived: boolean) => ['ws', wsId, 'agents', 'list', includeArchived] as const,
  agent: (wsId: string, agentId: string) => ['ws', wsId, 'agents', 'detail', agentId] as const,
  chat: (wsId: string) => ['ws', wsId, 'chat'] as const,
  sessions: (wsId: string) => ['ws', wsId, 'chat', 'sessions'] as const,
  session: (wsId: string, sessionId: string) => ['ws', wsId, 'chat', 'session', sessionId] as const,
  messages: (wsId: string, sessionId: string) => ['ws', wsId, 'chat', 'messages', sessionId] as const,
  // Running answers' text so far, by task: fed by task.delta events only, never fetched.
  streaming: (wsId: string, sessionId: string) => ['ws', wsId, 'chat', 'streaming', sessionId] as const,
  issues: (wsId: string) => ['ws', wsId, 'issues'] as const,
  issueList: (wsId: string) => ['ws', wsId, 'issues', 'list'] as const,
  issue: (wsId: string, issueId: string) => ['ws', wsId, 'issues', 'detail', issueId] as const,
  lark: (wsId: string) => ['ws', wsId, 'lark'] as const,
  larkInstallations: (wsId: string) => ['ws', wsId, 'lark', 'installations'] as const,
  larkDrops: (wsId: string, installationId: string) => ['ws', wsId, 'lark', 'drops', installationId] as const,
  larkInstallStatus: (wsId: string, sessionId: string) => ['ws', wsId, 'lark', 'install', sessionId] as const,
  workspaceSettings: (wsId: string) => ['ws', wsId, 'settings'] as const,
  larkLinkedAccounts: (wsId: string) => ['ws', wsId, 'lark', 'linked-accounts'] as const,
  larkMyLinkedAccounts: (wsId: string) => ['ws', wsId, 'lark', 'linked-accounts', 'mine'] as const,
  larkBotLinkedAccounts: (wsId: string, installationId: string) => ['ws', wsId, 'lark', 'linked-accounts', 'bot', installationId] as const,
};
