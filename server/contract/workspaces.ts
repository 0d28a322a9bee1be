import { z } from 'zod';
import { locales } from '../../i18n/locales';
import { memberRoleSchema } from './members';
import { timestamp } from './shared';

const workspaceName = z.string().trim().min(1, 'Name is required').max(80, 'Name is at most 80 characters');
const workspaceSlug = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/, 'Use 3-40 lowercase letters, digits or dashes (not at the ends)');
const issuePrefix = z
  .string()
  .trim()
  .regex(/^[A-Z][A-Z0-9]{1,9}$/, 'Use 2-10 capital letters or digits, starting with a letter');

export const createWorkspaceInput = z.object({ name: workspaceName, slug: workspaceSlug, issue_prefix: issuePrefix });
export type CreateWorkspaceInput = z.infer<typeof createWorkspaceInput>;
export const renameWorkspaceInput = z.object({ name: workspaceName });

/** The language the Lark bot speaks: 'auto' follows the bot's brand (Chinese on Feishu, English on Lark). */
export const larkLocaleSettings = ['auto', ...locales] as const;
export type LarkLocaleSetting = (typeof larkLocaleSettings)[number];
export const larkLocaleSchema = z.enum(larkLocaleSettings, { message: `lark_locale must be one of ${larkLocaleSettings.join(', ')}` });

/** A workspace's settings (owners and admins); only the fields sent change. */
export const updateWorkspaceInput = z
  .object({ name: workspaceName.optional(), lark_locale: larkLocaleSchema.optional() })
  .refine((v) => v.name !== undefined || v.lark_locale !== undefined, 'Nothing to update');
export type UpdateWorkspaceInput = z.infer<typeof updateWorkspaceInput>;

/** A workspace as one member sees it: `role` is theirs. */
export const workspaceSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  issue_prefix: z.string(),
  role: memberRoleSchema,
});
export type WorkspaceSummary = z.infer<typeof workspaceSummarySchema>;

export const workspaceSchema = workspaceSummarySchema.extend({ lark_locale: larkLocaleSchema, created_at: timestamp });

export const workspaceResponse = z.object({ workspace: workspaceSchema });
