import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db, DbOrTx } from '../../db/client';
import { inTransaction } from '../../db/transaction';
import { cancelTask, enqueueAgentTask } from '../../services/tasks';
import { unbindBySelf } from '../binding/unbind';
import { resolveBotLocale } from '../outbound/bot-locale';
import { botText } from '../outbound/bot-text';
import { enqueueOutboxMessage } from '../outbound/outbox';

/** What Lark shows the person who pressed a button: a toast, and/or a card replacing the one pressed. */
export type CardActionResponse = {
  toast?: { type: 'info' | 'success' | 'warning' | 'error'; content: string };
  card?: { type: 'raw'; data: Record<string, unknown> };
};

/** How long a stop waits for the run to hand over what it wrote before it closes the card without it. */
export const STOP_HANDOVER_SECONDS = 5;

type ActionInstallation = { id: string; workspaceId: string };

/** A button press as the long connection delivers it (v2 envelope; older payloads put the context at the top). */
export type CardAction = {
  eventId: string | null;
  operatorOpenId: string;
  operatorName: string | null;
  messageId: string | null;
  value: Record<string, unknown>;
};

type JsonRecord = Record<string, unknown>;
const rec = (v: unknown): JsonRecord => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonRecord) : {});
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function parseCardAction(payload: Uint8Array | string): CardAction | null {
  let root: JsonRecord;
  try {
    root = rec(JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8')));
  } catch {
    return null;
  }
  const event = rec(root.event);
  const operator = rec(event.operator);
  const operatorOpenId = str(operator.open_id);
  if (!operatorOpenId) return null;
  const action = rec(event.action);
  let value: unknown = action.value;
  // Some clients deliver the value as a JSON string.
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      value = {};
    }
  }
  const context = rec(event.context);
  return {
    eventId: str(rec(root.header).event_id),
    operatorOpenId,
    operatorName: str(operator.name),
    messageId: str(context.open_message_id) ?? str(event.open_message_id) ?? str(root.open_message_id),
    value: rec(value),
  };
}

/** A press redelivered by Lark (same message, person and value) is handled once; the key fits the dedup table. */
function pressKey(action: CardAction): string {
  const digest = createHash('sha256')
    .update(`${action.messageId ?? ''}\n${action.operatorOpenId}\n${JSON.stringify(action.value)}`)
    .digest('hex')
    .slice(0, 40);
  return `action:${digest}`;
}

type Presser = { userId: string | null; name: string | null; role: string | null; locale: string; region: 'feishu' | 'lark'; workspaceName: string };

async function presserOf(tx: DbOrTx, installation: ActionInstallation, openId: string): Promise<Presser> {
  const res = await tx.execute<{ user_id: string | null; name: string | null; role: string | null; lark_locale: string; region: 'feishu' | 'lark'; workspace_name: string }>(sql`
    SELECT b.user_id, u.name, m.role, w.lark_locale, i.region, w.name AS workspace_name
    FROM lark_installation i
    JOIN workspace w ON w.id = i.workspace_id
    LEFT JOIN lark_user_binding b ON b.installation_id = i.id AND b.lark_open_id = ${openId}
    LEFT JOIN member m ON m.workspace_id = b.workspace_id AND m.user_id = b.user_id
    LEFT JOIN "user" u ON u.id = b.user_id
    WHERE i.id = ${installation.id}::uuid AND i.workspace_id = ${installation.workspaceId}::uuid`);
  const r = res.rows[0];
  return { userId: r?.user_id ?? null, name: r?.name ?? null, role: r?.role ?? null, locale: r?.lark_locale ?? 'auto', region: r?.region ?? 'lark', workspaceName: r?.workspace_name ?? '' };
}

type RunRow = { id: string; status: string; session_id: string; trigger_message_id: string; sender_open_id: string | null; lark_message_id: string | null; newer: boolean };

async function runOf(tx: DbOrTx, installation: ActionInstallation, taskId: unknown): Promise<RunRow | null> {
  if (typeof taskId !== 'string' || !/^[0-9a-f-]{36}$/i.test(taskId)) return null;
  const res = await tx.execute<RunRow>(sql`
    SELECT t.id, t.status, t.session_id, t.trigger_message_id, m.sender_open_id, m.lark_message_id,
      EXISTS (SELECT 1 FROM agent_task n WHERE n.trigger_message_id = t.trigger_message_id AND n.workspace_id = t.workspace_id AND n.seq > t.seq) AS newer
    FROM agent_task t
    LEFT JOIN lark_inbound_message m ON m.chat_message_id = t.trigger_message_id AND m.workspace_id = t.workspace_id AND m.installation_id = ${installation.id}::uuid
    WHERE t.id = ${taskId}::uuid AND t.workspace_id = ${installation.workspaceId}::uuid
    FOR UPDATE OF t`);
  return res.rows[0] ?? null;
}

/** The asker of a run, or an owner or admin of its workspace linked to this bot. */
const mayControl = (run: RunRow, presser: Presser, openId: string) =>
  (run.sender_open_id !== null && run.sender_open_id === openId) || presser.role === 'owner' || presser.role === 'admin';

/**
 * Answers a card button press within Lark's 3 s: Stop cancels a run, Retry runs a failed question
 * again, Unlink confirms `/unbind`. The press and its effect commit together, so a redelivered
 * press does nothing twice. Whatever is unknown or stale gets a toast, never an error.
 */
export async function handleCardAction(deps: { db: Db; logger: Logger }, installation: ActionInstallation, action: CardAction): Promise<CardActionResponse> {
  return inTransaction(deps.db, async (tx) => {
    const presser = await presserOf(tx, installation, action.operatorOpenId);
    const t = botText(resolveBotLocale(presser.locale, presser.region));
    const first = await tx.execute(sql`
      INSERT INTO lark_inbound_message_dedup (installation_id, message_id, claim_token, processed_at)
      VALUES (${installation.id}::uuid, ${pressKey(action)}, gen_random_uuid(), now())
      ON CONFLICT DO NOTHING RETURNING 1`);
    // Lark redelivered a press already handled: its effect stands; say nothing new.
    if (first.rows.length === 0) return {};
    const invalid: CardActionResponse = { toast: { type: 'info', content: t('toast.invalidButton') } };

    switch (action.value.a) {
      case 'stop': {
        const run = await runOf(tx, installation, action.value.task);
        if (!run) return invalid;
        if (!mayControl(run, presser, action.operatorOpenId)) return { toast: { type: 'warning', content: t('toast.notAllowed') } };
        if (run.status !== 'queued' && run.status !== 'running') return { toast: { type: 'info', content: t('toast.alreadyFinished') } };
        const cancelled = await cancelTask(tx, { workspaceId: installation.workspaceId, taskId: run.id, reason: 'stopped' });
        if (!cancelled) return { toast: { type: 'info', content: t('toast.alreadyFinished') } };
        if (run.lark_message_id) {
          // Closes the card with what the run wrote: the run hands its text over as it stops, else this goes ahead without it.
          await enqueueOutboxMessage(tx, {
            workspaceId: installation.workspaceId,
            installationId: installation.id,
            target: { replyToMessageId: run.lark_message_id, replyInThread: false },
            body: { kind: 'agent_stopped', taskId: run.id, stoppedBy: presser.name ?? action.operatorName },
            taskId: run.id,
            delaySeconds: cancelled.previousStatus === 'running' ? STOP_HANDOVER_SECONDS : 0,
          });
        }
        deps.logger.info({ taskId: run.id }, 'run stopped from lark');
        return { toast: { type: 'info', content: t('toast.stopping') } };
      }
      case 'retry': {
        const run = await runOf(tx, installation, action.value.task);
        if (!run) return invalid;
        if (!mayControl(run, presser, action.operatorOpenId)) return { toast: { type: 'warning', content: t('toast.notAllowed') } };
        if (run.status !== 'failed' || run.newer) return invalid;
        // An agent archived or taken offline since then cannot run it again.
        const queued = await enqueueAgentTask(tx, { workspaceId: installation.workspaceId, sessionId: run.session_id, triggerMessageId: run.trigger_message_id });
        if (queued.outcome !== 'enqueued') return invalid;
        deps.logger.info({ taskId: run.id }, 'failed run retried from lark');
        return { toast: { type: 'success', content: t('toast.retrying') } };
      }
      case 'unbind': {
        const bindingId = action.value.binding;
        if (typeof bindingId !== 'string' || !/^[0-9a-f-]{36}$/i.test(bindingId)) return invalid;
        const result = await unbindBySelf(tx, { installationId: installation.id, larkOpenId: action.operatorOpenId, bindingId });
        if (result.outcome !== 'removed') return invalid;
        return { toast: { type: 'success', content: t('notice.unbound', { workspace: result.workspaceName }) } };
      }
      default:
        return invalid;
    }
  });
}
