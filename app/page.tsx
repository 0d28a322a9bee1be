import { redirect } from 'next/navigation';
import { currentUser } from '@/components/server/session';
import { db } from '@/server/db/client';
import { listWorkspacesForUser } from '@/server/services/workspaces';

export default async function Home() {
  const user = await currentUser();
  if (!user) redirect('/sign-in');
  const [first] = await listWorkspacesForUser(db(), user.id);
  redirect(first ? `/w/${first.workspace.slug}/chat` : '/workspaces/new');
}
