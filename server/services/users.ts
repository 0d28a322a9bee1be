import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { user } from '../db/schema';
import type { meSchema, UpdateMeInput } from '../contract/me';
import type { Payload } from '../contract/shared';

/** Changes the signed-in user's own name or UI language. */
export async function updateProfile(db: DbOrTx, input: UpdateMeInput & { userId: string }): Promise<Payload<typeof meSchema>> {
  const [row] = await db
    .update(user)
    .set({ ...(input.name !== undefined && { name: input.name }), ...(input.locale !== undefined && { locale: input.locale }), updatedAt: new Date() })
    .where(eq(user.id, input.userId))
    .returning({ id: user.id, email: user.email, name: user.name, locale: user.locale });
  return row;
}
