'use client';

import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { useRouter } from 'next/navigation';
import { isApiError } from '@/components/api/client';
import { useWorkspaceInfo } from '@/components/api/queries';
import type { MemberRole } from '@/server/contract/members';
import type { WorkspaceSummary } from '@/server/contract/workspaces';
import { useWorkspaceEvents } from './use-workspace-events';

export type CurrentUser = { id: string; name: string; email: string };

type WorkspaceContextValue = {
  workspace: WorkspaceSummary;
  user: CurrentUser;
  role: MemberRole;
  isAdmin: boolean;
  isOwner: boolean;
  /** Prefix for links inside this workspace, e.g. `/w/acme`. */
  base: string;
};

const WorkspaceContext = createContext<WorkspaceContextValue | null>(null);

export function WorkspaceProvider({ workspace: initial, user, children }: { workspace: WorkspaceSummary; user: CurrentUser; children: ReactNode }) {
  const router = useRouter();
  const info = useWorkspaceInfo(initial.id, initial);
  const workspace: WorkspaceSummary = { ...initial, ...info.data, role: info.data?.role ?? initial.role };
  useWorkspaceEvents(initial.id);

  const removed = isApiError(info.error) && (info.error.status === 404 || info.error.status === 403);
  useEffect(() => {
    // Removed from the workspace while looking at it: go back to wherever the user still belongs.
    if (removed) router.replace('/');
  }, [removed, router]);

  const value: WorkspaceContextValue = {
    workspace,
    user,
    role: workspace.role,
    isAdmin: workspace.role === 'owner' || workspace.role === 'admin',
    isOwner: workspace.role === 'owner',
    base: `/w/${workspace.slug}`,
  };
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}

export function useWorkspace(): WorkspaceContextValue {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error('useWorkspace must be used inside WorkspaceProvider');
  return value;
}
