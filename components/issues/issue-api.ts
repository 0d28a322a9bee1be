'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { issueResponse, issuesResponse, issueStatuses, updateIssueInput, type Issue, type IssueStatus, type UpdateIssueInput } from '@/server/contract/issues';

/** The list's filters as the URL and the API spell them: `assignee` is me, none, member:<id> or agent:<id>. */
export type IssueFilters = { status: IssueStatus | ''; assignee: string };

const assigneePattern = /^(me|none|member:[A-Za-z0-9_-]{1,100}|agent:[0-9a-f-]{36})$/i;

/** Reads filters from search params, dropping what the API would refuse (an old or hand-edited link). */
export function filtersFromParams(params: URLSearchParams): IssueFilters {
  const status = params.get('status') ?? '';
  const assignee = params.get('assignee') ?? '';
  return {
    status: (issueStatuses as readonly string[]).includes(status) ? (status as IssueStatus) : '',
    assignee: assigneePattern.test(assignee) ? assignee : '',
  };
}

export function filtersToQuery(filters: IssueFilters): string {
  const params = new URLSearchParams();
  if (filters.status) params.set('status', filters.status);
  if (filters.assignee) params.set('assignee', filters.assignee);
  return params.toString();
}

export function useIssueList(wsId: string, filters: IssueFilters) {
  const query = filtersToQuery(filters);
  return useQuery({
    // Under issueList, so creating an issue or any issue event refreshes every filtered list.
    queryKey: [...keys.issueList(wsId), query],
    queryFn: ({ signal }) => api(`${paths.issues(wsId)}${query ? `?${query}` : ''}`, { signal, response: issuesResponse }).then((r) => r.issues),
    placeholderData: (previous) => previous,
  });
}

export function useUpdateIssue(wsId: string, issueId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (changes: UpdateIssueInput) =>
      api(paths.issue(wsId, issueId), { method: 'PATCH', request: updateIssueInput, body: changes, response: issueResponse }).then((r) => r.issue),
    onSuccess: (issue: Issue) => {
      client.setQueryData(keys.issue(wsId, issueId), issue);
      void client.invalidateQueries({ queryKey: keys.issueList(wsId) });
    },
  });
}

/** `member:<id>` / `agent:<id>` for a select's value; '' for nobody. */
export function assigneeValue(assignee: Issue['assignee'] | UpdateIssueInput['assignee']): string {
  return assignee ? `${assignee.type}:${assignee.id}` : '';
}

export function assigneeFromValue(value: string): UpdateIssueInput['assignee'] {
  const at = value.indexOf(':');
  if (at < 0) return null;
  const type = value.slice(0, at);
  const id = value.slice(at + 1);
  return type === 'agent' ? { type: 'agent', id } : { type: 'member', id };
}
