'use client';

import { ChevronRight } from 'lucide-react';
import { useLocale, useTranslations } from 'next-intl';
import { Collapsible } from 'radix-ui';
import { useMemo, type ReactNode } from 'react';
import { useFormatDate } from '@/components/ui/use-format';
import type { AgentContext, AttachmentView, ContextMessage } from '@/server/contract/attachments';
import { cn } from '@/lib/utils';
import { MessageAttachments } from './message-attachments';

type Props = {
  context: AgentContext | null | undefined;
  /** The question's quoted and forwarded attachments: they belong to the context, not the question. */
  attachments: readonly AttachmentView[];
  className?: string;
};

/**
 * What the agent was given around a question (the quoted message, a forwarded bundle, the recent
 * conversation), folded away behind a one-line summary. Nothing given, nothing shown.
 */
export function AgentContextBlock({ context, attachments, className }: Props) {
  const t = useTranslations('chat.context');
  const locale = useLocale();
  const quotedFiles = attachments.filter((a) => a.source === 'quoted');
  const forwardedFiles = attachments.filter((a) => a.source === 'forwarded');
  const quoted = context?.quoted ?? null;
  const forwarded = context?.forwarded ?? [];
  const recent = context?.recent ?? [];
  const unavailable = context?.unavailable ?? [];

  const parts: string[] = [];
  if (quoted || quotedFiles.length > 0) parts.push(t('quotedPart'));
  if (forwarded.length > 0) parts.push(t('forwardedPart', { count: forwarded.length }));
  else if (forwardedFiles.length > 0) parts.push(t('forwardedFilesPart', { count: forwardedFiles.length }));
  if (recent.length > 0) parts.push(t('recentPart', { count: recent.length }));
  const listFormat = useMemo(() => new Intl.ListFormat(locale, { style: 'short', type: 'unit' }), [locale]);

  if (parts.length === 0 && unavailable.length === 0) return null;
  const summary = parts.length > 0 ? t('summary', { parts: listFormat.format(parts) }) : t('summaryUnavailable');
  const recentHeading = context?.recent_scope === 'thread' ? t('recentHeadingThread') : context?.recent_scope === 'chat' ? t('recentHeadingChat') : t('recentHeading');

  return (
    <Collapsible.Root data-testid="agent-context" className={cn('w-full max-w-full min-w-0 rounded-md border bg-card text-[13px] text-card-foreground', className)}>
      <Collapsible.Trigger
        className="group flex w-full cursor-pointer items-center gap-1.5 rounded-md px-2.5 py-1.5 text-left text-muted-foreground hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
      >
        <ChevronRight aria-hidden="true" className="size-4 shrink-0 transition-transform group-data-[state=open]:rotate-90 motion-reduce:transition-none" />
        <span className="min-w-0">{summary}</span>
      </Collapsible.Trigger>
      <Collapsible.Content className="flex flex-col gap-3 border-t px-3 py-2.5">
        {quoted || quotedFiles.length > 0 ? (
          <ContextSection heading={t('quotedHeading')}>
            {quoted ? <ContextMessages messages={[quoted]} /> : null}
            <MessageAttachments attachments={quotedFiles} />
          </ContextSection>
        ) : null}
        {forwarded.length > 0 || forwardedFiles.length > 0 ? (
          <ContextSection heading={t('forwardedHeading')}>
            <ContextMessages messages={forwarded} />
            <MessageAttachments attachments={forwardedFiles} />
          </ContextSection>
        ) : null}
        {recent.length > 0 ? (
          <ContextSection heading={recentHeading}>
            <ContextMessages messages={recent} />
          </ContextSection>
        ) : null}
        {unavailable.length > 0 ? (
          <ul className="flex flex-col gap-0.5 text-muted-foreground" data-testid="agent-context-unavailable">
            {unavailable.map((part) => (
              <li key={part}>{t(`unavailable.${part}`)}</li>
            ))}
          </ul>
        ) : null}
      </Collapsible.Content>
    </Collapsible.Root>
  );
}

function ContextSection({ heading, children }: { heading: string; children: ReactNode }) {
  return (
    <section className="flex min-w-0 flex-col gap-1.5">
      <h3 className="text-xs font-semibold text-muted-foreground">{heading}</h3>
      {children}
    </section>
  );
}

function ContextMessages({ messages }: { messages: readonly ContextMessage[] }) {
  const t = useTranslations('chat.context');
  const format = useFormatDate();
  if (messages.length === 0) return null;
  return (
    <ol className="flex min-w-0 flex-col gap-1.5">
      {messages.map((m, i) => (
        <li key={i} className="min-w-0 border-l-2 pl-2">
          <div className="flex min-w-0 items-baseline gap-2 text-xs text-muted-foreground">
            <span className="min-w-0 truncate font-medium text-foreground">{m.sender}</span>
            {m.sent_at ? (
              <time className="shrink-0" dateTime={m.sent_at} title={format.dateTime(m.sent_at)}>
                {format.time(m.sent_at)}
              </time>
            ) : null}
          </div>
          <p className="leading-[1.5] [overflow-wrap:anywhere] whitespace-pre-wrap">{m.text || <em className="text-muted-foreground">{t('noText')}</em>}</p>
        </li>
      ))}
    </ol>
  );
}
