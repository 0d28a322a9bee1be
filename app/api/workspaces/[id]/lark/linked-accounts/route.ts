import { larkLinkedAccountsResponse } from '@/server/contract/lark';
import { json, withWorkspace } from '@/server/http/route';
import { listMyLarkAccounts } from '@/server/lark/binding/linked-accounts';

/** The Lark accounts the caller linked in this workspace. */
export const GET = withWorkspace({}, async ({ db, workspace, user }) =>
  json(larkLinkedAccountsResponse, { accounts: await listMyLarkAccounts(db, { workspaceId: workspace.id, userId: user.id }) }),
);
