'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ChevronLeft } from 'lucide-react';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { Fragment, useEffect, useRef, useState } from 'react';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useMessages, useSession } from '@/components/api/queries';
import type { Agent } from '@/server/contract/agents';
import { sendMessageInput, sendMessageResponse, type AgentTask, type ChatMessage, type MessagesResponse } from '@/server/contract/chat';
import { useWorkspace } from '@/components/providers/workspace-provider';
import type { StreamingAnswers } from '@/components/providers/use-workspace-events';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { useErrorText } from '@/components/ui/use-error-text';
import { cn } from '@/lib/utils';
import { AgentContextBlock } from './agent-context';
import { Composer } from './composer';
import { MessageAttachments, stripShownAttachmentImages } from './message-attachments';
import { useAgentMap } from './use-agent-map';

export function SessionView({ sessionId }: { sessionId: string }) {
  const t = useTranslations('chat');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace, base } = useWorkspace();
  const session = useSession(workspace.id, sessionId);
  const messages = useMessages(workspace.id, sessionId);
  const streaming = useStreamingAnswers(workspace.id, sessionId);
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
      <div className="flex flex-col gap-3 px-8 py-7 max-[760px]:px-4 max-[760px]:py-[18px]">
        <Alert>{errorText(session.error)}</Alert>
        <p>
          <Link href={`${base}/chat`}>{t('backToChats')}</Link>
        </p>
      </div>
    );
  }

  const agentName = agent?.name ?? (agentsQuery.isPending ? '' : t('unknownAgent'));
  const title = session.data.title || agentName;
  // Field problems show on the composer's field; anything else above it.
  const sendError = send.error && !(isApiError(send.error) && send.error.fields.content) ? errorText(send.error) : null;
  return (
    <section className="flex min-h-0 flex-1 flex-col" aria-labelledby="conversation-title">
      <header className="flex min-h-14 items-center gap-2.5 border-b px-5 py-2.5 max-[760px]:px-3 max-[760px]:py-2">
        <Button variant="ghost" size="icon" asChild className="-ml-2 min-[761px]:hidden">
          <Link href={`${base}/chat`} aria-label={t('backToChats')}>
            <ChevronLeft aria-hidden="true" />
          </Link>
        </Button>
        <Avatar name={agentName || '?'} color={agent?.avatar_color} />
        <div className="min-w-0 flex-1">
          <h2 id="conversation-title" className="truncate text-[15px] font-semibold" title={title}>
            {title}
          </h2>
          <p className="flex min-w-0 items-center gap-1.5 text-[12.5px] text-muted-foreground">
            {agent ? (
              <Link href={`${base}/agents/${agent.id}`} className="min-w-0 truncate text-muted-foreground hover:text-foreground">
                {agent.name}
              </Link>
            ) : null}
            {archived ? <Badge variant="secondary">{t('archivedBadge')}</Badge> : null}
            {!archived && offline ? <Badge variant="warning">{t('offlineBadge')}</Badge> : null}
            {session.data.channel === 'lark' ? <Badge variant="info">{session.data.lark?.topic ? t('larkTopicBadge') : t('channelLark')}</Badge> : null}
            {session.data.lark?.closed ? <Badge variant="secondary">{t('larkEndedBadge')}</Badge> : null}
          </p>
        </div>
      </header>

      <MessageList
        streaming={streaming}
        agent={agent}
        messages={messages.data?.messages}
        tasks={messages.data?.tasks}
        loading={messages.isPending}
        error={messages.error ? errorText(messages.error) : null}
      />

      <div className="mx-auto flex w-full max-w-[820px] flex-col gap-2 px-5 pb-4 max-[760px]:px-3 max-[760px]:pb-3">
        {archived ? (
          <Alert variant="info">{t('archivedNotice')}</Alert>
        ) : session.data.lark?.closed ? (
          // Its Lark chat goes on in a new session: this one takes no more messages.
          <Alert variant="info">{t('larkEndedNotice')}</Alert>
        ) : (
          <>
            {offline || offlineNotice ? <Alert variant="warning">{t('offlineNotice')}</Alert> : null}
            {sendError ? <Alert>{sendError}</Alert> : null}
            <Composer
              disabled={send.isPending}
              onSend={async (content) => {
                await send.mutateAsync(content);
              }}
            />
          </>
        )}
      </div>
    </section>
  );
}

/** Running answers' text so far, as the event stream brings it (nothing to fetch: the stored answer replaces it). */
function useStreamingAnswers(wsId: string, sessionId: string): StreamingAnswers {
  const { data } = useQuery({ queryKey: keys.streaming(wsId, sessionId), queryFn: (): StreamingAnswers => ({}), staleTime: Infinity });
  return data ?? {};
}

type ListProps = {
  streaming?: StreamingAnswers;
  agent: Agent | undefined;
  messages: ChatMessage[] | undefined;
  tasks: AgentTask[] | undefined;
  loading: boolean;
  error: string | null;
};

const rowClassName = 'flex items-start gap-2.5';
/** Lines the agent's avatar up with its bubble, below the name line. */
const bubbleAvatarClassName = 'mt-[18px]';

function MessageList({ agent, messages, tasks, loading, error, streaming }: ListProps) {
  const t = useTranslations('chat');
  const format = useFormatDate();
  const endRef = useRef<HTMLDivElement>(null);
  const pending = (tasks ?? []).filter((task) => task.status === 'queued' || task.status === 'running');
  const growing = (tasks ?? []).filter((task) => task.status === 'running' && streaming?.[task.id]);
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
  const streamedChars = growing.reduce((n, task) => n + (streaming?.[task.id]?.length ?? 0), 0);
  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'end' });
  }, [count, pendingCount, streamedChars]);

  const agentName = agent?.name ?? t('unknownAgent');
  return (
    // The log role sits on this wrapper, not the <ol>, which keeps its list semantics for the items.
    // Focusable, so the transcript scrolls from the keyboard too.
    <div
      role="log"
      aria-live="polite"
      aria-label={t('messagesLabel')}
      tabIndex={0}
      className="min-h-0 flex-1 overflow-y-auto p-5 focus-visible:-outline-offset-2 max-[760px]:px-3 max-[760px]:py-3.5"
    >
      <ol className="mx-auto flex max-w-[780px] flex-col gap-3.5">
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
        {!loading && !error && count === 0 ? <li className="py-8 text-center text-muted-foreground">{t('noMessages', { name: agentName })}</li> : null}
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
        {growing.map((task) => (
          <li key={task.id} className={rowClassName} data-testid="streaming-answer">
            <Avatar name={agentName} color={agent?.avatar_color} size="sm" className={bubbleAvatarClassName} />
            <article className="flex max-w-[min(620px,85%)] min-w-0 flex-col gap-[3px] max-[760px]:max-w-[88%]" aria-label={t('messageFrom', { name: agentName })} aria-busy="true">
              <header className="flex max-w-full min-w-0 items-baseline gap-2 text-xs text-muted-foreground">
                <span className="min-w-0 truncate font-medium">{agentName}</span>
                <span className="shrink-0">{t('writing')}</span>
              </header>
              <div className="rounded-2xl rounded-bl-sm bg-muted px-3 py-2 leading-[1.55] [overflow-wrap:anywhere] whitespace-pre-wrap text-foreground">
                {streaming?.[task.id]}
                <span className="ml-0.5 inline-block h-[1em] w-[2px] animate-pulse bg-muted-foreground align-text-bottom motion-reduce:animate-none" aria-hidden="true" />
              </div>
            </article>
          </li>
        ))}
        {pendingCount > growing.length ? (
          <li className={rowClassName}>
            <Avatar name={agentName} color={agent?.avatar_color} size="sm" className="mt-1.5" />
            <div className="inline-flex items-center gap-2 rounded-2xl bg-muted px-3 py-2 text-[13px] text-muted-foreground" role="status">
              <span className="inline-flex gap-[3px]" aria-hidden="true">
                {[0, 150, 300].map((delay) => (
                  <span
                    key={delay}
                    className="size-[5px] animate-pulse rounded-full bg-muted-foreground motion-reduce:animate-none"
                    style={{ animationDelay: `${delay}ms` }}
                  />
                ))}
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
  // What was recalled in Lark stays out of sight, files and context included.
  const attachments = message.recalled ? [] : (message.attachments ?? []);
  const own = attachments.filter((a) => a.source === 'message' || a.source === 'agent');
  const contextual = attachments.filter((a) => a.source === 'quoted' || a.source === 'forwarded');
  const text = mine ? message.content : stripShownAttachmentImages(message.content, own);
  // A message that is only an image has no text bubble.
  const showBubble = message.recalled || text.trim() !== '' || own.length === 0;
  return (
    <li className={cn(rowClassName, mine && 'justify-end')}>
      {mine ? null : <Avatar name={name} color={agent?.avatar_color} size="sm" className={bubbleAvatarClassName} />}
      <article
        className={cn('flex max-w-[min(620px,85%)] min-w-0 flex-col gap-[3px] max-[760px]:max-w-[88%]', mine && 'items-end')}
        aria-label={t('messageFrom', { name })}
      >
        <header className="flex max-w-full min-w-0 items-baseline gap-2 text-xs text-muted-foreground">
          <span className="min-w-0 truncate font-medium">{name}</span>
          <time className="shrink-0" dateTime={message.created_at} title={fullTime}>
            {time}
          </time>
        </header>
        {showBubble ? (
          <div
            className={cn(
              'rounded-2xl px-3 py-2 leading-[1.55] [overflow-wrap:anywhere] whitespace-pre-wrap',
              mine ? 'rounded-br-sm bg-primary text-primary-foreground' : 'rounded-bl-sm bg-muted text-foreground',
            )}
          >
            {message.recalled ? <em className="opacity-80">{t('recalled')}</em> : text}
          </div>
        ) : null}
        <MessageAttachments attachments={own} align={mine ? 'end' : 'start'} className="mt-1" />
        {message.recalled ? null : <AgentContextBlock context={message.context} attachments={contextual} className="mt-1" />}
        {message.end_reason === 'stopped' ? <span className="text-xs text-muted-foreground">{t('stopped')}</span> : null}
      </article>
    </li>
  );
}

function FailedTask({ task, agent }: { task: AgentTask; agent: Agent | undefined }) {
  const t = useTranslations('chat');
  const name = agent?.name ?? t('unknownAgent');
  return (
    <li className={rowClassName}>
      <Avatar name={name} color={agent?.avatar_color} size="sm" className="mt-1.5" />
      <div
        className="flex max-w-[min(620px,85%)] min-w-0 flex-col gap-0.5 rounded-md bg-destructive-soft px-3 py-2 text-[13px] text-destructive"
        role="alert"
      >
        <strong className="font-semibold">{t('taskFailed')}</strong>
        {task.error ? <span className="[overflow-wrap:anywhere] whitespace-pre-wrap">{task.error}</span> : null}
        <span className="text-muted-foreground">{t('taskReference', { reference: task.reference })}</span>
        {task.error_detail ? (
          <details className="[overflow-wrap:anywhere]">
            <summary className="cursor-pointer">{t('taskDetailForAdmins')}</summary>
            <code className="mt-1 block font-mono text-xs whitespace-pre-wrap">{task.error_detail}</code>
          </details>
        ) : null}
      </div>
    </li>
  );
}
