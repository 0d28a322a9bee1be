'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { Fragment, useEffect, useRef, useState } from 'react';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useMessages, useSession } from '@/components/api/queries';
import type { Agent } from '@/server/contract/agents';
import { sendMessageInput, sendMessageResponse, type AgentTask, type ChatMessage, type MessagesResponse } from '@/server/contract/chat';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { useErrorText } from '@/components/ui/use-error-text';
import { Composer } from './composer';
import { useAgentMap } from './use-agent-map';

export function SessionView({ sessionId }: { sessionId: string }) {
  const t = useTranslations('chat');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace, base } = useWorkspace();
  const session = useSession(workspace.id, sessionId);
  const messages = useMessages(workspace.id, sessionId);
  const { map: agents, query: agentsQuery } = useAgentMap(workspace.id);
  const [offlineNotice, setOfflineNotice] = useState(false);

  const agent = session.data ? agents.get(session.data.agent_id) : undefined;
  const archived = Boolean(agent?.archived_at);
  const offline = agent ? agent.runtime === null : false;

  const send = useMutation({
    mutationFn: (content: string) =>
      api(paths.messages(workspace.id, sessionId), { method: 'POST', request: sendMessageInput, body: { content }, response: sendMessageResponse }),
    onSuccess: (result) => {
      setOfflineNotice(result.outcome === 'agent_offline');
      // Show the message and its pending task at once; the event stream brings the reply.
      queryClient.setQueryData<MessagesResponse>(keys.messages(workspace.id, sessionId), (old) => {
        const base: MessagesResponse = old ?? { messages: [], tasks: [] };
        const messagesNext = base.messages.some((m) => m.id === result.message.id) ? base.messages : [...base.messages, result.message];
        const tasksNext =
          result.task && !base.tasks.some((task) => task.id === result.task?.id)
            ? [
                ...base.tasks,
                { ...result.task, error: null, error_detail: null, reference: result.task.id.slice(0, 8), trigger_message_id: result.message.id, created_at: result.message.created_at },
              ]
            : base.tasks;
        return { messages: messagesNext, tasks: tasksNext };
      });
      void queryClient.invalidateQueries({ queryKey: keys.messages(workspace.id, sessionId) });
      void queryClient.invalidateQueries({ queryKey: keys.sessions(workspace.id) });
    },
    onError: (err) => {
      if (isApiError(err) && (err.code === 'agent_archived' || err.code === 'agent_offline')) {
        void queryClient.invalidateQueries({ queryKey: keys.agents(workspace.id) });
      }
    },
  });

  if (session.isPending) return <Loading />;
  if (session.error) {
    return (
      <div className="pane-body">
        <Alert>{errorText(session.error)}</Alert>
        <p>
          <Link href={`${base}/chat`}>{t('backToChats')}</Link>
        </p>
      </div>
    );
  }

  const agentName = agent?.name ?? (agentsQuery.isPending ? '' : t('unknownAgent'));
  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <header className="conversation-header">
        <Link href={`${base}/chat`} className="icon-button conversation-back" aria-label={t('backToChats')}>
          <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <path d="M10 3L5 8l5 5" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
        </Link>
        <Avatar name={agentName || '?'} color={agent?.avatar_color} />
        <div className="conversation-heading">
          <h2 id="conversation-title" className="conversation-title truncate">
            {session.data.title || agentName}
          </h2>
          <p className="conversation-sub truncate">
            {agent ? (
              <Link href={`${base}/agents/${agent.id}`} className="subtle-link">
                {agent.name}
              </Link>
            ) : null}
            {archived ? <span className="badge">{t('archivedBadge')}</span> : null}
            {!archived && offline ? <span className="badge badge-warning">{t('offlineBadge')}</span> : null}
            {session.data.channel === 'lark' ? <span className="badge badge-lark">{t('channelLark')}</span> : null}
          </p>
        </div>
      </header>

      <MessageList
        agent={agent}
        messages={messages.data?.messages}
        tasks={messages.data?.tasks}
        loading={messages.isPending}
        error={messages.error ? errorText(messages.error) : null}
      />

      <div className="conversation-footer">
        {archived ? (
          <Alert tone="info">{t('archivedNotice')}</Alert>
        ) : (
          <>
            {offline || offlineNotice ? <Alert tone="warning">{t('offlineNotice')}</Alert> : null}
            {send.error ? <Alert>{errorText(send.error)}</Alert> : null}
            <Composer
              disabled={send.isPending}
              onSend={async (content) => {
                try {
                  await send.mutateAsync(content);
                  return true;
                } catch {
                  return false;
                }
              }}
            />
          </>
        )}
      </div>
    </section>
  );
}

type ListProps = {
  agent: Agent | undefined;
  messages: ChatMessage[] | undefined;
  tasks: AgentTask[] | undefined;
  loading: boolean;
  error: string | null;
};

function MessageList({ agent, messages, tasks, loading, error }: ListProps) {
  const t = useTranslations('chat');
  const format = useFormatDate();
  const endRef = useRef<HTMLDivElement>(null);
  const pending = (tasks ?? []).filter((task) => task.status === 'queued' || task.status === 'running');
  const failedByTrigger = new Map<string, AgentTask[]>();
  const failedLoose: AgentTask[] = [];
  const ids = new Set((messages ?? []).map((m) => m.id));
  for (const task of tasks ?? []) {
    if (task.status !== 'failed') continue;
    if (task.trigger_message_id && ids.has(task.trigger_message_id)) {
      failedByTrigger.set(task.trigger_message_id, [...(failedByTrigger.get(task.trigger_message_id) ?? []), task]);
    } else {
      failedLoose.push(task);
    }
  }

  const count = messages?.length ?? 0;
  const pendingCount = pending.length;
  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'end' });
  }, [count, pendingCount]);

  const agentName = agent?.name ?? t('unknownAgent');
  return (
    <div className="message-scroll">
      <ol className="message-list" role="log" aria-live="polite" aria-label={t('messagesLabel')}>
        {loading ? (
          <li>
            <Loading />
          </li>
        ) : null}
        {error ? (
          <li>
            <Alert>{error}</Alert>
          </li>
        ) : null}
        {!loading && !error && count === 0 ? <li className="message-empty muted">{t('noMessages', { name: agentName })}</li> : null}
        {(messages ?? []).map((m) => (
          <Fragment key={m.id}>
            <MessageItem message={m} agent={agent} time={format.time(m.created_at)} fullTime={format.dateTime(m.created_at)} />
            {(failedByTrigger.get(m.id) ?? []).map((task) => (
              <FailedTask key={task.id} task={task} agent={agent} />
            ))}
          </Fragment>
        ))}
        {failedLoose.map((task) => (
          <FailedTask key={task.id} task={task} agent={agent} />
        ))}
        {pendingCount > 0 ? (
          <li className="message-row message-row-assistant message-row-plain">
            <Avatar name={agentName} color={agent?.avatar_color} size="sm" />
            <div className="pending" role="status">
              <span className="typing" aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
              <span>{pending.some((task) => task.status === 'running') ? t('agentWorking', { name: agentName }) : t('agentQueued', { name: agentName })}</span>
            </div>
          </li>
        ) : null}
      </ol>
      <div ref={endRef} />
    </div>
  );
}

function MessageItem({ message, agent, time, fullTime }: { message: ChatMessage; agent: Agent | undefined; time: string; fullTime: string }) {
  const t = useTranslations('chat');
  const mine = message.role === 'user';
  const name = mine ? (message.author?.name ?? t('someone')) : (agent?.name ?? t('unknownAgent'));
  return (
    <li className={`message-row ${mine ? 'message-row-user' : 'message-row-assistant'}`}>
      {mine ? null : <Avatar name={name} color={agent?.avatar_color} size="sm" />}
      <article className="message" aria-label={t('messageFrom', { name })}>
        <header className="message-meta">
          <span className="message-author">{name}</span>
          <time dateTime={message.created_at} title={fullTime}>
            {time}
          </time>
        </header>
        <div className={`bubble ${mine ? 'bubble-user' : 'bubble-assistant'}`}>{message.content}</div>
      </article>
    </li>
  );
}

function FailedTask({ task, agent }: { task: AgentTask; agent: Agent | undefined }) {
  const t = useTranslations('chat');
  const name = agent?.name ?? t('unknownAgent');
  return (
    <li className="message-row message-row-assistant message-row-plain">
      <Avatar name={name} color={agent?.avatar_color} size="sm" />
      <div className="task-failed" role="alert">
        <strong>{t('taskFailed')}</strong>
        {task.error ? <span className="task-failed-detail">{task.error}</span> : null}
        <span className="task-failed-detail muted">{t('taskReference', { reference: task.reference })}</span>
        {task.error_detail ? (
          <details className="task-failed-detail">
            <summary>{t('taskDetailForAdmins')}</summary>
            <code>{task.error_detail}</code>
          </details>
        ) : null}
      </div>
    </li>
  );
}
