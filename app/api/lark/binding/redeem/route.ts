import { withUser } from '@/server/http/route';
import { redeemBindingToken, redeemInput } from '@/server/lark/binding/tokens';

export const POST = withUser({ body: redeemInput }, async ({ db, user, body }) => {
  return Response.json(await redeemBindingToken(db, { token: body.token, userId: user.id }));
});
