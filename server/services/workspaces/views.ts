import type { MemberRole, workspace } from '../../db/schema';

export function workspaceView(ws: typeof workspace.$inferSelect, role: MemberRole) {
  return { id: ws.id, name: ws.name, slug: ws.slug, issue_prefix: ws.issuePrefix, role, created_at: ws.createdAt };
}
