'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useIssue } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Loading } from '@/components/ui/loading';
import { useFormatDate } from '@/components/ui/use-format';
import { useErrorText } from '@/components/ui/use-error-text';
import { IssueStatus, useOriginLabel } from './issue-labels';

export function IssueDetail({ issueId }: { issueId: string }) {
  const t = useTranslations('issues');
  const errorText = useErrorText();
  const originLabel = useOriginLabel();
  const format = useFormatDate();
  const { workspace, base } = useWorkspace();
  const issue = useIssue(workspace.id, issueId);

  if (issue.isPending) return <Loading />;
  if (issue.error) {
    return (
      <div className="page">
        <Alert>{errorText(issue.error)}</Alert>
        <p>
          <Link href={`${base}/issues`}>{t('backToIssues')}</Link>
        </p>
      </div>
    );
  }
  const i = issue.data;
  return (
    <div className="page page-narrow">
      <nav className="breadcrumbs" aria-label={t('breadcrumbs')}>
        <Link href={`${base}/issues`}>{t('title')}</Link>
        <span aria-hidden="true">/</span>
        <span className="mono">{i.identifier}</span>
      </nav>
      <article className="issue">
        <header className="page-header">
          <div>
            <p className="issue-identifier mono">{i.identifier}</p>
            <h1 className="page-title">{i.title}</h1>
          </div>
        </header>
        <div className="issue-layout">
          <section className="card issue-body" aria-labelledby="issue-description-title">
            <h2 id="issue-description-title" className="card-title">
              {t('fields.description')}
            </h2>
            {i.description ? <p className="prewrap">{i.description}</p> : <p className="muted">{t('noDescription')}</p>}
          </section>
          <aside className="card issue-props" aria-label={t('properties')}>
            <dl className="details">
              <dt>{t('columns.status')}</dt>
              <dd>
                <IssueStatus status={i.status} />
              </dd>
              <dt>{t('columns.origin')}</dt>
              <dd>{originLabel(i.origin_type)}</dd>
              <dt>{t('columns.creator')}</dt>
              <dd>{i.creator.name}</dd>
              <dt>{t('columns.created')}</dt>
              <dd>
                <time dateTime={i.created_at}>{format.dateTime(i.created_at)}</time>
              </dd>
            </dl>
          </aside>
        </div>
      </article>
    </div>
  );
}
