import { bindingPreviewQuery, larkBindingPreviewSchema } from '@/server/contract/lark';
import { json, withUser } from '@/server/http/route';
import { previewBindingToken } from '@/server/lark/binding/tokens';
import { larkIntegration } from '@/server/lark/integration';
import { logger } from '@/server/logger';

export const dynamic = 'force-dynamic';

/** Read only: what the link would connect. Binding happens only on POST .../redeem. */
export const GET = withUser({ query: bindingPreviewQuery }, async ({ db, user, query }) => {
  const preview = await previewBindingToken(db, { integration: larkIntegration(), logger: logger().child({ part: 'lark-binding' }) }, { token: query.token, userId: user.id });
  return json(
    larkBindingPreviewSchema,
    {
      lark_user: { name: preview.larkUserName },
      agent: preview.agent,
      workspace: preview.workspace,
      account: { name: user.name, email: user.email },
      expires_at: preview.expiresAt,
    },
    // Personal, and tied to a single-use link: no cache keeps it.
    { headers: { 'Cache-Control': 'no-store' } },
  );
});
