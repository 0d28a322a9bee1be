'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useId, useState } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/empty-state';
import { Label } from '@/components/ui/label';
import { Loading } from '@/components/ui/loading';
import { NativeSelect } from '@/components/ui/native-select';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table';
import { useFormatDate } from '@/components/ui/use-format';
import { useErrorText } from '@/components/ui/use-error-text';
import { createIssueInput, issueResponse, type IssueStatus as Status } from '@/server/contract/issues';
import { AssigneeOptions } from './assignee-options';
import { filtersFromParams, filtersToQuery, useIssueList, type IssueFilters } from './issue-api';
import { IssueAssignee, IssueStatus, StatusOptions, useOriginLabel } from './issue-labels';
import { IssueTextDialog } from './issue-text-dialog';

export function IssuesPage() {
  const t = useTranslations('issues');
  const errorText = useErrorText();
  const originLabel = useOriginLabel();
  const format = useFormatDate();
  const { workspace, base } = useWorkspace();
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  // Filters are mirrored into the URL, so a filtered list can be reloaded, shared and navigated
  // back to. The state, not the URL, is what a change builds on: the router applies a replace
  // later, and a second change made before it lands must not undo the first.
  const urlQuery = searchParams.toString();
  const [filters, setFilterState] = useState(() => filtersFromParams(new URLSearchParams(urlQuery)));
  // Queries this page wrote that the URL has not shown yet; any other URL is a navigation to follow.
  const [written, setWritten] = useState<string[]>([]);
  const [lastUrlQuery, setLastUrlQuery] = useState(urlQuery);
  if (urlQuery !== lastUrlQuery) {
    setLastUrlQuery(urlQuery);
    const ours = written.indexOf(urlQuery);
    if (ours >= 0) setWritten(written.slice(ours + 1));
    else {
      setWritten([]);
      setFilterState(filtersFromParams(new URLSearchParams(urlQuery)));
    }
  }
  const filtered = Boolean(filters.status || filters.assignee);
  const issues = useIssueList(workspace.id, filters);
  const [creating, setCreating] = useState(false);

  const setFilters = (next: IssueFilters) => {
    setFilterState(next);
    const query = filtersToQuery(next);
    setWritten((queries) => [...queries, query]);
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  };

  const newIssueButton = (
    <Button type="button" onClick={() => setCreating(true)}>
      {t('newIssue')}
    </Button>
  );

  return (
    <div className="mx-auto flex w-full max-w-[1040px] flex-col gap-[18px] px-8 pt-7 pb-12 max-md:px-4 max-md:pt-5">
      <header className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <h1 className="text-xl font-semibold tracking-tight [overflow-wrap:anywhere]">{t('title')}</h1>
          <p className="mt-0.5 text-muted-foreground">{t('subtitle', { prefix: workspace.issue_prefix })}</p>
        </div>
        {newIssueButton}
      </header>
      <CreateIssueDialog open={creating} onOpenChange={setCreating} />
      <IssueFilterBar filters={filters} onChange={setFilters} />
      {issues.isPending ? <Loading /> : null}
      {issues.error ? <Alert>{errorText(issues.error)}</Alert> : null}
      {issues.data && issues.data.length === 0 ? (
        filtered ? (
          <EmptyState
            title={t('filters.noMatchesTitle')}
            body={t('filters.noMatchesBody')}
            action={
              <Button type="button" variant="secondary" onClick={() => setFilters({ status: '', assignee: '' })}>
                {t('filters.clear')}
              </Button>
            }
          />
        ) : (
          <EmptyState title={t('emptyTitle')} body={t('emptyBody')} action={newIssueButton} />
        )
      ) : null}
      {issues.data && issues.data.length > 0 ? (
        <Table>
          <TableCaption className="sr-only">{t('title')}</TableCaption>
          <TableHeader>
            <TableRow>
              <TableHead scope="col">{t('columns.id')}</TableHead>
              <TableHead scope="col">{t('columns.title')}</TableHead>
              <TableHead scope="col">{t('columns.status')}</TableHead>
              <TableHead scope="col">{t('columns.assignee')}</TableHead>
              <TableHead scope="col" className="max-md:hidden">
                {t('columns.origin')}
              </TableHead>
              <TableHead scope="col" className="max-md:hidden">
                {t('columns.updated')}
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {issues.data.map((issue) => (
              <TableRow key={issue.id}>
                <TableCell className="font-mono text-[0.92em] whitespace-nowrap">
                  <Link href={`${base}/issues/${issue.id}`} className="text-muted-foreground hover:text-foreground">
                    {issue.identifier}
                  </Link>
                </TableCell>
                <TableCell className="w-1/2 min-w-40">
                  <Link href={`${base}/issues/${issue.id}`} className="font-medium text-foreground [overflow-wrap:anywhere]">
                    {issue.title}
                  </Link>
                </TableCell>
                <TableCell>
                  <IssueStatus status={issue.status} />
                </TableCell>
                <TableCell className="max-w-48">
                  <IssueAssignee assignee={issue.assignee} />
                </TableCell>
                <TableCell className="whitespace-nowrap max-md:hidden">{originLabel(issue.origin_type)}</TableCell>
                <TableCell className="whitespace-nowrap max-md:hidden">
                  <time dateTime={issue.updated_at}>{format.date(issue.updated_at)}</time>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
    </div>
  );
}

function IssueFilterBar({ filters, onChange }: { filters: IssueFilters; onChange: (next: IssueFilters) => void }) {
  const t = useTranslations('issues');
  const { workspace } = useWorkspace();
  const statusId = useId();
  const assigneeId = useId();
  return (
    <div role="search" aria-label={t('filters.label')} className="flex flex-wrap items-end gap-3">
      <div className="flex w-44 flex-col gap-1.5">
        <Label htmlFor={statusId}>{t('filters.status')}</Label>
        <NativeSelect id={statusId} size="sm" value={filters.status} onChange={(e) => onChange({ ...filters, status: e.target.value as Status | '' })}>
          <option value="">{t('filters.anyStatus')}</option>
          <StatusOptions />
        </NativeSelect>
      </div>
      <div className="flex w-56 flex-col gap-1.5">
        <Label htmlFor={assigneeId}>{t('filters.assignee')}</Label>
        <NativeSelect id={assigneeId} size="sm" value={filters.assignee} onChange={(e) => onChange({ ...filters, assignee: e.target.value })}>
          <option value="">{t('filters.anyone')}</option>
          <option value="me">{t('filters.me')}</option>
          <option value="none">{t('filters.unassigned')}</option>
          <AssigneeOptions wsId={workspace.id} />
        </NativeSelect>
      </div>
      {filters.status || filters.assignee ? (
        <Button type="button" variant="ghost" size="sm" onClick={() => onChange({ status: '', assignee: '' })}>
          {t('filters.clear')}
        </Button>
      ) : null}
    </div>
  );
}

function CreateIssueDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const t = useTranslations('issues');
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  return (
    <IssueTextDialog
      open={open}
      onOpenChange={onOpenChange}
      title={t('newIssue')}
      description={t('newIssueDescription')}
      initial={{ title: '', description: '' }}
      submitLabel={t('create')}
      pendingLabel={t('creating')}
      onSubmit={async (values) => {
        await api(paths.issues(workspace.id), { method: 'POST', request: createIssueInput, body: values, response: issueResponse });
        void queryClient.invalidateQueries({ queryKey: keys.issues(workspace.id) });
        onOpenChange(false);
      }}
    />
  );
}
