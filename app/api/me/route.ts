import { meResponse, updateMeInput, updateMeResponse } from '@/server/contract/me';
import { json, withUser } from '@/server/http/route';
import { updateProfile } from '@/server/services/users';
import { listWorkspacesForUser, workspaceView } from '@/server/services/workspaces';

export const GET = withUser({}, async ({ db, user: me }) => {
  const rows = await listWorkspacesForUser(db, me.id);
  return json(meResponse, { user: me, workspaces: rows.map(workspaceView) });
});

export const PATCH = withUser({ body: updateMeInput }, async ({ db, user: me, body }) => {
  return json(updateMeResponse, { user: await updateProfile(db, { ...body, userId: me.id }) });
});
