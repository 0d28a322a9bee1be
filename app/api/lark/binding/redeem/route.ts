import { larkBindingRedeemedSchema, redeemBindingInput } from '@/server/contract/lark';
import { json, withUser } from '@/server/http/route';
import { redeemBindingToken } from '@/server/lark/binding/tokens';

export const POST = withUser({ body: redeemBindingInput }, async ({ db, user, body }) => {
  return json(larkBindingRedeemedSchema, await redeemBindingToken(db, { token: body.token, userId: user.id }));
});
