import { workspaceResponse } from '@/server/contract/workspaces';
import { json, withUser } from '@/server/http/route';
import { getMemberWorkspaceOrThrow, workspaceView } from '@/server/services/workspaces';

export const GET = withUser({}, async ({ db, user, params }) => {
  const row = await getMemberWorkspaceOrThrow(db, { userId: user.id, slug: params.slug ?? '' });
  return json(workspaceResponse, { workspace: workspaceView(row) });
});
