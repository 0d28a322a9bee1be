import { redirect } from 'next/navigation';
import { currentUser } from '@/components/server/session';
import { listMyWorkspaces } from '@/components/server/workspaces';

export default async function Home() {
  const user = await currentUser();
  if (!user) redirect('/sign-in');
  const [first] = await listMyWorkspaces(user.id);
  redirect(first ? `/w/${first.slug}/chat` : '/workspaces/new');
}
