'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import type { ReactNode } from 'react';
import { useSessions } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Avatar } from '@/components/ui/avatar';
import { Alert } from '@/components/ui/alert';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { useErrorText } from '@/components/ui/use-error-text';
import { useAgentMap } from './use-agent-map';

export function ChatLayout({ children }: { children: ReactNode }) {
  const params = useParams<{ sessionId?: string }>();
  const activeId = typeof params.sessionId === 'string' ? params.sessionId : undefined;
  return (
    <div className="chat-layout" data-has-session={activeId ? 'true' : 'false'}>
      <SessionsList activeId={activeId} />
      <div className="chat-main">{children}</div>
    </div>
  );
}

function SessionsList({ activeId }: { activeId?: string }) {
  const t = useTranslations('chat');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const sessions = useSessions(workspace.id);
  const { map: agents } = useAgentMap(workspace.id);
  const format = useFormatDate();

  return (
    <section className="chat-sessions" aria-labelledby="chat-sessions-title">
      <div className="pane-header">
        <h1 id="chat-sessions-title" className="pane-title">
          {t('title')}
        </h1>
        <Link href={`${base}/chat`} className="btn btn-primary btn-sm">
          {t('newChat')}
        </Link>
      </div>
      {sessions.isPending ? <Loading /> : null}
      {sessions.error ? <Alert>{errorText(sessions.error)}</Alert> : null}
      {sessions.data && sessions.data.length === 0 ? <p className="muted pane-empty">{t('noSessions')}</p> : null}
      {sessions.data && sessions.data.length > 0 ? (
        <nav aria-label={t('sessionsLabel')}>
          <ul className="session-list">
            {sessions.data.map((s) => {
              const agent = agents.get(s.agent_id);
              const agentName = agent?.name ?? t('unknownAgent');
              return (
                <li key={s.id}>
                  <Link
                    href={`${base}/chat/${s.id}`}
                    className="session-item"
                    aria-current={s.id === activeId ? 'page' : undefined}
                  >
                    <Avatar name={agentName} color={agent?.avatar_color} size="sm" />
                    <span className="session-text">
                      <span className="session-title truncate">{s.title || agentName}</span>
                      <span className="session-meta truncate">
                        {s.title ? `${agentName} · ` : ''}
                        {format.dateTime(s.updated_at)}
                        {s.channel === 'lark' ? <span className="badge badge-lark">{t('channelLark')}</span> : null}
                      </span>
                    </span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
      ) : null}
    </section>
  );
}
