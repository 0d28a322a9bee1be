import { acceptedInvitationResponse, acceptInvitationInput } from '@/server/contract/invitations';
import { json, withUser } from '@/server/http/route';
import { acceptInvitation } from '@/server/services/invitations';

// The token travels in the body, not the path, so access logs never hold a usable link.
export const POST = withUser({ body: acceptInvitationInput }, async ({ db, user, body }) => {
  return json(acceptedInvitationResponse, await acceptInvitation(db, { token: body.token, userId: user.id }));
});
