import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { WorkspaceProvider } from '@/components/providers/workspace-provider';
import { currentUser } from '@/components/server/session';
import { findMyWorkspaceBySlug, listMyWorkspaces } from '@/components/server/workspaces';
import { AppShell } from '@/components/shell/app-shell';
import { redirectToSignIn } from '@/components/server/sign-in-redirect';

export default async function WorkspaceLayout({ children, params }: { children: ReactNode; params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const user = await currentUser();
  if (!user) return redirectToSignIn();
  const [workspace, workspaces] = await Promise.all([findMyWorkspaceBySlug(user.id, slug), listMyWorkspaces(user.id)]);
  // Not a member looks exactly like no such workspace.
  if (!workspace) notFound();
  return (
    <WorkspaceProvider workspace={workspace} user={{ id: user.id, name: user.name, email: user.email }}>
      <AppShell workspaces={workspaces}>{children}</AppShell>
    </WorkspaceProvider>
  );
}
