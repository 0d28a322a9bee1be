'use client';

import { ExternalLink, MessageSquare } from 'lucide-react';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useId, useState, type ReactNode } from 'react';
import { useIssue } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Label } from '@/components/ui/label';
import { Loading } from '@/components/ui/loading';
import { NativeSelect } from '@/components/ui/native-select';
import { useFormatDate } from '@/components/ui/use-format';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { type Issue, type IssueStatus } from '@/server/contract/issues';
import { AssigneeOptions } from './assignee-options';
import { assigneeFromValue, assigneeValue, useUpdateIssue } from './issue-api';
import { StatusOptions, useOriginLabel } from './issue-labels';
import { IssueTextDialog } from './issue-text-dialog';

export function IssueDetail({ issueId }: { issueId: string }) {
  const t = useTranslations('issues');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const issue = useIssue(workspace.id, issueId);

  if (issue.isPending) return <Loading />;
  if (issue.error) {
    return (
      <div className="mx-auto flex w-full max-w-[760px] flex-col gap-[18px] px-8 pt-7 pb-12 max-md:px-4">
        <Alert>{errorText(issue.error)}</Alert>
        <p>
          <Link href={`${base}/issues`}>{t('backToIssues')}</Link>
        </p>
      </div>
    );
  }
  return <IssueView issue={issue.data} />;
}

function IssueView({ issue: i }: { issue: Issue }) {
  const t = useTranslations('issues');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const update = useUpdateIssue(workspace.id, i.id);
  const [editing, setEditing] = useState(false);
  // Failures of the status and assignee controls; the edit dialog shows its own.
  const failure = update.error && !editing ? (fieldErrors(update.error).assignee ?? errorText(update.error)) : null;

  return (
    <div className="mx-auto flex w-full max-w-[960px] flex-col gap-[18px] px-8 pt-7 pb-12 max-md:px-4 max-md:pt-5">
      <nav aria-label={t('breadcrumbs')} className="-mb-1.5 flex min-w-0 items-center gap-1.5 text-[13px] text-muted-foreground">
        <Link href={`${base}/issues`} className="text-muted-foreground hover:text-foreground">
          {t('title')}
        </Link>
        <span aria-hidden="true">/</span>
        <span className="font-mono text-[0.92em]">{i.identifier}</span>
      </nav>
      <article className="flex flex-col gap-[18px]">
        <header className="flex flex-wrap items-start justify-between gap-4">
          <div className="min-w-0">
            <p className="mb-0.5 font-mono text-[0.92em] text-muted-foreground">{i.identifier}</p>
            <h1 className="text-xl font-semibold tracking-tight [overflow-wrap:anywhere]">{i.title}</h1>
          </div>
          <Button type="button" variant="secondary" onClick={() => setEditing(true)}>
            {t('edit')}
          </Button>
        </header>
        <IssueTextDialog
          open={editing}
          onOpenChange={(open) => {
            update.reset();
            setEditing(open);
          }}
          title={t('editTitle', { identifier: i.identifier })}
          description={t('editDescription')}
          initial={{ title: i.title, description: i.description ?? '' }}
          submitLabel={t('save')}
          pendingLabel={t('saving')}
          onSubmit={async (values) => {
            await update.mutateAsync(values);
            setEditing(false);
          }}
        />
        {failure ? <Alert>{failure}</Alert> : null}
        <div className="grid items-start gap-4 md:grid-cols-[minmax(0,1fr)_260px]">
          <section aria-labelledby="issue-description-title" className="flex min-w-0 flex-col gap-2 rounded-lg border bg-card p-5">
            <h2 id="issue-description-title" className="text-sm font-semibold">
              {t('fields.description')}
            </h2>
            {i.description ? (
              <p className="whitespace-pre-wrap [overflow-wrap:anywhere]">{i.description}</p>
            ) : (
              <p className="text-muted-foreground">{t('noDescription')}</p>
            )}
          </section>
          <IssueProperties issue={i} update={update} />
        </div>
      </article>
    </div>
  );
}

function IssueProperties({ issue: i, update }: { issue: Issue; update: ReturnType<typeof useUpdateIssue> }) {
  const t = useTranslations('issues');
  const originLabel = useOriginLabel();
  const format = useFormatDate();
  const { workspace, base } = useWorkspace();
  const statusId = useId();
  const assigneeId = useId();
  const lark = i.origin.lark_chat;

  return (
    <aside aria-label={t('properties')} className="flex flex-col gap-4 rounded-lg border bg-card p-5">
      <div className="flex flex-col gap-1.5">
        <Label htmlFor={statusId}>{t('fields.status')}</Label>
        <NativeSelect
          id={statusId}
          value={(update.isPending && update.variables.status) || i.status}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ status: e.target.value as IssueStatus })}
        >
          <StatusOptions />
        </NativeSelect>
      </div>
      <div className="flex flex-col gap-1.5">
        <Label htmlFor={assigneeId}>{t('fields.assignee')}</Label>
        <NativeSelect
          id={assigneeId}
          value={update.isPending && update.variables.assignee !== undefined ? assigneeValue(update.variables.assignee) : assigneeValue(i.assignee)}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ assignee: assigneeFromValue(e.target.value) })}
        >
          <option value="">{t('assignee.none')}</option>
          <AssigneeOptions wsId={workspace.id} current={i.assignee} />
        </NativeSelect>
      </div>
      <dl className="grid grid-cols-[max-content_minmax(0,1fr)] gap-x-5 gap-y-2 border-t pt-4">
        <Property term={t('columns.origin')}>{originLabel(i.origin_type)}</Property>
        <Property term={t('columns.creator')}>{i.creator.name}</Property>
        <Property term={t('columns.created')}>
          <time dateTime={i.created_at}>{format.dateTime(i.created_at)}</time>
        </Property>
        <Property term={t('columns.updated')}>
          <time dateTime={i.updated_at}>{format.dateTime(i.updated_at)}</time>
        </Property>
      </dl>
      {lark || i.origin.chat_session_id ? (
        <ul className="flex flex-col gap-2 border-t pt-4">
          {lark ? (
            <li>
              <a href={lark.url} target="_blank" rel="noopener noreferrer" className="inline-flex items-center gap-1.5">
                <ExternalLink aria-hidden="true" className="size-3.5" />
                {t('links.openLark')}
              </a>
            </li>
          ) : null}
          {i.origin.chat_session_id ? (
            <li>
              <Link href={`${base}/chat/${i.origin.chat_session_id}`} className="inline-flex items-center gap-1.5">
                <MessageSquare aria-hidden="true" className="size-3.5" />
                {t('links.openWeb')}
              </Link>
            </li>
          ) : null}
        </ul>
      ) : null}
    </aside>
  );
}

function Property({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted-foreground">{term}</dt>
      <dd className="min-w-0">{children}</dd>
    </>
  );
}
