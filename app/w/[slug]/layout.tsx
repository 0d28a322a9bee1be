import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { WorkspaceProvider } from '@/components/providers/workspace-provider';
import { currentUser } from '@/components/server/session';
import { AppShell } from '@/components/shell/app-shell';
import { redirectToSignIn } from '@/components/server/sign-in-redirect';
import { db } from '@/server/db/client';
import { findMemberWorkspace, listWorkspacesForUser, workspaceSummary } from '@/server/services/workspaces';

export default async function WorkspaceLayout({ children, params }: { children: ReactNode; params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const user = await currentUser();
  if (!user) return redirectToSignIn();
  const [membership, memberships] = await Promise.all([
    findMemberWorkspace(db(), { userId: user.id, slug }),
    listWorkspacesForUser(db(), user.id),
  ]);
  // Not a member looks exactly like no such workspace.
  if (!membership) notFound();
  return (
    <WorkspaceProvider workspace={workspaceSummary(membership)} user={{ id: user.id, name: user.name, email: user.email }}>
      <AppShell workspaces={memberships.map(workspaceSummary)}>{children}</AppShell>
    </WorkspaceProvider>
  );
}
