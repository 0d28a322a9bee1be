import { larkLinkedAccountsResponse } from '@/server/contract/lark';
import { json, uuidParam, withWorkspace } from '@/server/http/route';
import { listInstallationLarkAccounts } from '@/server/lark/binding/linked-accounts';

/** Everyone linked through this bot (owners and admins). */
export const GET = withWorkspace({ role: 'admin' }, async ({ db, workspace, params }) => {
  const installationId = uuidParam(params, 'installationId', 'Installation');
  return json(larkLinkedAccountsResponse, { accounts: await listInstallationLarkAccounts(db, { workspaceId: workspace.id, installationId }) });
});
