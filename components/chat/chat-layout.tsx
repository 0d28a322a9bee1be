'use client';

import { useLocale, useTranslations } from 'next-intl';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useMemo, type ReactNode } from 'react';
import type { z } from 'zod';
import { useSessions } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Avatar } from '@/components/ui/avatar';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { useErrorText } from '@/components/ui/use-error-text';
import { cn } from '@/lib/utils';
import type { Agent } from '@/server/contract/agents';
import type { chatSessionSchema } from '@/server/contract/chat';
import { newChatAnchor } from './new-chat';
import { useAgentMap } from './use-agent-map';

type ChatSession = z.infer<typeof chatSessionSchema>;

/**
 * Wide screens: the conversation list beside the open conversation (or the new-chat form).
 * Narrow screens (phones, Lark's webview) show one at a time: the open conversation alone, or the
 * list followed by the new-chat form.
 */
export function ChatLayout({ children }: { children: ReactNode }) {
  const params = useParams<{ sessionId?: string }>();
  const activeId = typeof params.sessionId === 'string' ? params.sessionId : undefined;
  return (
    <div
      className={cn(
        'flex flex-col min-[761px]:grid min-[761px]:h-full min-[761px]:min-h-0 min-[761px]:grid-cols-[240px_minmax(0,1fr)] min-[961px]:grid-cols-[280px_minmax(0,1fr)]',
        activeId ? 'h-full min-h-0' : 'min-h-full',
      )}
      data-has-session={activeId ? 'true' : 'false'}
    >
      <SessionsList activeId={activeId} />
      <div className={cn('flex min-w-0 flex-1 flex-col min-[761px]:min-h-0 min-[761px]:overflow-y-auto', activeId && 'min-h-0')}>
        {children}
      </div>
    </div>
  );
}

/**
 * Short enough to leave the title room: the time for today, the day for this year, a numeric
 * date before that. The full date and time is in the tooltip.
 */
function useShortDate() {
  const locale = useLocale();
  return useMemo(() => {
    const time = new Intl.DateTimeFormat(locale, { timeStyle: 'short' });
    const day = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
    const date = new Intl.DateTimeFormat(locale, { dateStyle: 'short' });
    return (value: string) => {
      const d = new Date(value);
      if (Number.isNaN(d.getTime())) return '';
      const now = new Date();
      if (now.toDateString() === d.toDateString()) return time.format(d);
      return now.getFullYear() === d.getFullYear() ? day.format(d) : date.format(d);
    };
  }, [locale]);
}

function SessionsList({ activeId }: { activeId?: string }) {
  const t = useTranslations('chat');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const sessions = useSessions(workspace.id);
  const { map: agents } = useAgentMap(workspace.id);

  return (
    <section
      className={cn(
        'flex min-h-0 flex-col border-b min-[761px]:overflow-y-auto min-[761px]:border-r min-[761px]:border-b-0',
        activeId && 'max-[760px]:hidden',
      )}
      aria-labelledby="chat-sessions-title"
    >
      <div className="z-[1] flex items-center justify-between gap-2 bg-background px-3.5 pt-3.5 pb-2.5 min-[761px]:sticky min-[761px]:top-0">
        <h1 id="chat-sessions-title" className="text-[15px] font-semibold">
          {t('title')}
        </h1>
        <Button size="sm" asChild>
          {/* Already on the form's page (on a phone, below the list): jump to it. */}
          <Link href={activeId ? `${base}/chat` : `${base}/chat#${newChatAnchor}`}>{t('newChat')}</Link>
        </Button>
      </div>
      {sessions.isPending ? <Loading /> : null}
      {sessions.error ? (
        <div className="px-3.5 pb-3">
          <Alert>{errorText(sessions.error)}</Alert>
        </div>
      ) : null}
      {sessions.data && sessions.data.length === 0 ? <p className="px-4 pt-2 pb-4 text-muted-foreground">{t('noSessions')}</p> : null}
      {sessions.data && sessions.data.length > 0 ? (
        <nav aria-label={t('sessionsLabel')}>
          <ul className="flex flex-col gap-px px-2 pb-3">
            {sessions.data.map((s) => (
              <li key={s.id}>
                <SessionRow session={s} agent={agents.get(s.agent_id)} href={`${base}/chat/${s.id}`} active={s.id === activeId} />
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
    </section>
  );
}

/**
 * Title and date share the first line, the date never shrinking; the agent and the channel badge
 * share the second (a Lark topic is a conversation of its own, and says so; so does one that
 * ended in Lark). Long titles end in an ellipsis, with the whole title in the tooltip.
 */
function SessionRow({ session, agent, href, active }: { session: ChatSession; agent: Agent | undefined; href: string; active: boolean }) {
  const t = useTranslations('chat');
  const format = useFormatDate();
  const shortDate = useShortDate();
  const agentName = agent?.name ?? t('unknownAgent');
  const title = session.title || agentName;
  const lark = session.channel === 'lark';
  return (
    <Link
      href={href}
      title={title}
      aria-current={active ? 'page' : undefined}
      className={cn(
        'flex items-center gap-2.5 rounded-sm p-2 text-foreground hover:bg-accent hover:no-underline',
        active && 'bg-primary-soft hover:bg-primary-soft',
      )}
    >
      <Avatar name={agentName} color={agent?.avatar_color} size="sm" />
      <span className="flex min-w-0 flex-1 flex-col">
        <span className="flex min-w-0 items-baseline gap-2">
          <span className="min-w-0 flex-1 truncate font-medium">{title}</span>
          <time className="shrink-0 text-xs whitespace-nowrap text-muted-foreground tabular-nums" dateTime={session.updated_at} title={format.dateTime(session.updated_at)}>
            {shortDate(session.updated_at)}
          </time>
        </span>
        {session.title || lark ? (
          <span className="flex min-w-0 items-center gap-1.5 text-xs text-muted-foreground">
            {session.title ? <span className="min-w-0 truncate">{agentName}</span> : null}
            {session.lark?.closed ? (
              <Badge variant="secondary" className="ml-auto">
                {t('larkEndedBadge')}
              </Badge>
            ) : null}
            {lark ? (
              <Badge variant="info" className={session.lark?.closed ? undefined : 'ml-auto'}>
                {session.lark?.topic ? t('larkTopicBadge') : t('channelLark')}
              </Badge>
            ) : null}
          </span>
        ) : null}
      </span>
    </Link>
  );
}
