'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useIssues } from '@/components/api/queries';
import { createIssueInput, issueResponse, type Issue } from '@/server/contract/issues';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { EmptyState } from '@/components/ui/empty-state';
import { TextAreaField, TextField } from '@/components/ui/field';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { IssueStatus, useOriginLabel } from './issue-labels';

export function IssuesPage() {
  const t = useTranslations('issues');
  const errorText = useErrorText();
  const originLabel = useOriginLabel();
  const format = useFormatDate();
  const { workspace, base } = useWorkspace();
  const issues = useIssues(workspace.id);
  const [creating, setCreating] = useState(false);

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1 className="page-title">{t('title')}</h1>
          <p className="page-subtitle">{t('subtitle', { prefix: workspace.issue_prefix })}</p>
        </div>
        {creating ? null : (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            {t('newIssue')}
          </button>
        )}
      </header>
      {creating ? <CreateIssue onDone={() => setCreating(false)} /> : null}
      {issues.isPending ? <Loading /> : null}
      {issues.error ? <Alert>{errorText(issues.error)}</Alert> : null}
      {issues.data && issues.data.length === 0 && !creating ? (
        <EmptyState
          title={t('emptyTitle')}
          body={t('emptyBody')}
          action={
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              {t('newIssue')}
            </button>
          }
        />
      ) : null}
      {issues.data && issues.data.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('columns.id')}</th>
                <th scope="col">{t('columns.title')}</th>
                <th scope="col">{t('columns.status')}</th>
                <th scope="col" className="col-optional">
                  {t('columns.origin')}
                </th>
                <th scope="col" className="col-optional">
                  {t('columns.creator')}
                </th>
                <th scope="col" className="col-optional">
                  {t('columns.created')}
                </th>
              </tr>
            </thead>
            <tbody>
              {issues.data.map((issue) => (
                <tr key={issue.id}>
                  <td className="mono nowrap">
                    <Link href={`${base}/issues/${issue.id}`} className="subtle-link">
                      {issue.identifier}
                    </Link>
                  </td>
                  <td className="cell-title">
                    <Link href={`${base}/issues/${issue.id}`}>{issue.title}</Link>
                  </td>
                  <td>
                    <IssueStatus status={issue.status} />
                  </td>
                  <td className="col-optional nowrap">{originLabel(issue.origin_type)}</td>
                  <td className="col-optional">{issue.creator.name}</td>
                  <td className="col-optional nowrap">
                    <time dateTime={issue.created_at}>{format.date(issue.created_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function CreateIssue({ onDone }: { onDone: () => void }) {
  const t = useTranslations('issues');
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [titleError, setTitleError] = useState<string | undefined>();
  const create = useMutation({
    mutationFn: (input: { title: string; description?: string }) =>
      api(paths.issues(workspace.id), { method: 'POST', request: createIssueInput, body: input, response: issueResponse }),
    onSuccess: ({ issue }) => {
      queryClient.setQueryData<Issue[]>(keys.issueList(workspace.id), (old) =>
        old && !old.some((i) => i.id === issue.id) ? [issue, ...old] : old,
      );
      void queryClient.invalidateQueries({ queryKey: keys.issues(workspace.id) });
      onDone();
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) {
      setTitleError(t('titleRequired'));
      return;
    }
    setTitleError(undefined);
    create.mutate({ title: title.trim(), ...(description.trim() ? { description: description.trim() } : {}) });
  }

  const fields = fieldErrors(create.error);
  return (
    <section className="card" aria-labelledby="new-issue-title">
      <h2 id="new-issue-title" className="card-title">
        {t('newIssue')}
      </h2>
      <form className="stack" onSubmit={submit} noValidate>
        {create.error ? <Alert>{errorText(create.error)}</Alert> : null}
        <TextField
          label={t('fields.title')}
          name="title"
          required
          autoFocus
          maxLength={200}
          value={title}
          error={titleError ?? fields.title}
          onChange={(e) => setTitle(e.target.value)}
        />
        <TextAreaField
          label={t('fields.description')}
          name="description"
          rows={4}
          value={description}
          error={fields.description}
          onChange={(e) => setDescription(e.target.value)}
        />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {create.isPending ? t('creating') : t('create')}
          </button>
          <button type="button" className="btn btn-ghost" onClick={onDone} disabled={create.isPending}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </section>
  );
}
