// Shapes of the JSON API under /api, as the UI consumes them.
import type { AppLocale } from '@/i18n/locales';

export type Role = 'owner' | 'admin' | 'member';
export const roles: readonly Role[] = ['owner', 'admin', 'member'];

export type Me = { id: string; email: string; name: string; locale: AppLocale | null };

export type WorkspaceSummary = { id: string; name: string; slug: string; issue_prefix: string; role: Role };
export type Workspace = WorkspaceSummary & { created_at?: string };

export type MeResponse = { user: Me; workspaces: WorkspaceSummary[] };

export type Member = { user_id: string; email: string; name: string; role: Role; joined_at: string };

export type Person = { id: string; name: string };

export type AgentRuntime =
  | null
  | { kind: 'echo' }
  | { kind: 'openai'; base_url: string; model: string; stream: boolean; has_api_key: boolean };

export type AgentRuntimeInput =
  | null
  | { kind: 'echo' }
  | { kind: 'openai'; base_url: string; model: string; api_key?: string; stream?: boolean };

export type Agent = {
  id: string;
  name: string;
  avatar_color: string;
  owner: Person;
  runtime: AgentRuntime;
  archived_at: string | null;
  created_at: string;
  can_edit: boolean;
};

export type ChatChannel = 'web' | 'lark';

export type ChatSession = {
  id: string;
  agent_id: string;
  title: string | null;
  channel: ChatChannel;
  creator: Person;
  created_at: string;
  updated_at: string;
};

export type ChatMessage = {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  author: Person | null;
  created_at: string;
};

export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed';

export type AgentTask = {
  id: string;
  status: TaskStatus;
  error: string | null;
  trigger_message_id: string | null;
  created_at: string;
};

export type MessagesResponse = { messages: ChatMessage[]; tasks: AgentTask[] };

export type SendMessageResponse = {
  message: ChatMessage;
  task: { id: string; status: TaskStatus } | null;
  outcome: 'enqueued' | 'agent_offline';
};

export type Issue = {
  id: string;
  identifier: string;
  number: number;
  title: string;
  description: string | null;
  status: string;
  origin_type: 'web' | 'lark_chat';
  creator: Person;
  created_at: string;
};

export type LarkRegion = 'feishu' | 'lark';
export const larkRegions: readonly LarkRegion[] = ['feishu', 'lark'];

export type LarkConnectionState = 'disconnected' | 'connecting' | 'connected' | 'backoff';

export type LarkInstallation = {
  id: string;
  agent_id: string;
  /** `avatar` is the agent's colour, `#RRGGBB`. */
  agent: { name: string; avatar: string };
  app_id: string;
  region: LarkRegion;
  status: 'active' | 'revoked';
  installed_at: string;
  connection: { state: LarkConnectionState; last_event_at: string | null };
  can_manage: boolean;
  /** The latest message Lark refused for this bot; `code` is Lark's error code when it gave one. */
  last_delivery_error: { code: number | null; message: string; at: string } | null;
};

export type LarkInstallationsResponse = {
  configured: boolean;
  install_supported: boolean;
  installations: LarkInstallation[];
};

export const larkDropReasons = [
  'invalid_event',
  'revoked_installation',
  'duplicate',
  'not_addressed_in_group',
  'non_workspace_member',
  'unsupported_event',
] as const;
export type LarkDropReason = (typeof larkDropReasons)[number];

/** An event the bot received and let go. Routing data only: Larkspur keeps no content of it. */
export type LarkInboundDrop = {
  /** One of `larkDropReasons`, or a newer reason this client does not know yet. */
  reason: string;
  chat_id: string | null;
  event_type: string;
  received_at: string;
};

export type LarkInboundDropsResponse = { drops: LarkInboundDrop[] };

export type LarkInstallBegin = {
  session_id: string;
  qr_code_url: string;
  expires_in_seconds: number;
  poll_interval_seconds: number;
};

export const larkInstallErrorReasons = [
  'expired',
  'access_denied',
  'lark_protocol_error',
  'bot_info_failed',
  'installation_conflict',
  'installer_bind_failed',
  'internal_error',
] as const;
export type LarkInstallErrorReason = (typeof larkInstallErrorReasons)[number];

export type LarkInstallStatus = {
  status: 'pending' | 'success' | 'error';
  installation_id?: string;
  /** One of `larkInstallErrorReasons`, or a newer reason this client does not know yet. */
  error_reason?: string;
  error_message?: string;
};

export type LarkBindingRedeemed = {
  workspace: { id: string; name: string; slug: string };
  agent: { id: string; name: string };
};

export type WorkspaceEvent =
  | { type: 'chat.message.created'; session_id: string; message_id: string }
  | { type: 'task.updated'; session_id: string; task_id: string; status: TaskStatus }
  | { type: 'issue.created'; issue_id: string }
  | { type: 'members.changed' }
  | { type: 'agents.changed' }
  | { type: 'lark.installations.changed' }
  | { type: 'lark.registration.changed'; session_id: string };
