import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { user } from '@/server/db/schema';
import { withUser } from '@/server/http/route';
import { listWorkspacesForUser } from '@/server/services/workspaces/get-workspace';
import { workspaceView } from '@/server/services/workspaces/views';
import { supportedLocales } from '@/server/locales';

export const GET = withUser({}, async ({ db, user: me }) => {
  const rows = await listWorkspacesForUser(db, me.id);
  return Response.json({ user: me, workspaces: rows.map((r) => workspaceView(r.workspace, r.role)) });
});

const updateMeInput = z
  .object({
    name: z.string().trim().min(1, 'Name is required').max(80).optional(),
    locale: z.enum(supportedLocales).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'Nothing to update');

export const PATCH = withUser({ body: updateMeInput }, async ({ db, user: me, body }) => {
  const [row] = await db
    .update(user)
    .set({ ...(body.name !== undefined && { name: body.name }), ...(body.locale !== undefined && { locale: body.locale }), updatedAt: new Date() })
    .where(eq(user.id, me.id))
    .returning({ id: user.id, email: user.email, name: user.name, locale: user.locale });
  return Response.json({ user: row });
});
