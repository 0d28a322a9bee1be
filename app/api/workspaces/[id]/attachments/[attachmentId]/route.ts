import { z } from 'zod';
import { uuidParam, withWorkspace } from '@/server/http/route';
import { downloadHeaders, openAttachmentDownload } from '@/server/services/attachments';

// `download=1` saves an image instead of showing it; other keys (cache busters) are ignored.
const downloadQuery = z.object({ download: z.string().optional() });

export const dynamic = 'force-dynamic';

export const GET = withWorkspace({ query: downloadQuery }, async ({ db, workspace, user, params, query }) => {
  const attachmentId = uuidParam(params, 'attachmentId', 'Attachment');
  const download = await openAttachmentDownload(db, { workspaceId: workspace.id, attachmentId, viewerUserId: user.id });
  return new Response(download.body, { status: 200, headers: downloadHeaders(download, { forceDownload: query.download === '1' }) });
});
