import { z } from 'zod';
import { personSchema, timestamp } from './shared';

export const createIssueInput = z.object({
  title: z.string().trim().min(1, 'Title is required').max(300, 'Title is at most 300 characters'),
  description: z.string().max(50_000, 'Description is at most 50,000 characters').default(''),
});

export const issueStatuses = ['backlog', 'todo', 'in_progress', 'done', 'canceled'] as const;
export const issueOriginTypes = ['web', 'lark_chat'] as const;

export const issueSchema = z.object({
  id: z.string(),
  /** `PREFIX-N`, from the workspace's prefix and counter. */
  identifier: z.string(),
  number: z.number().int(),
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(issueStatuses),
  origin_type: z.enum(issueOriginTypes),
  creator: personSchema,
  created_at: timestamp,
});
export type Issue = z.infer<typeof issueSchema>;

export const issuesResponse = z.object({ issues: z.array(issueSchema) });
export const issueResponse = z.object({ issue: issueSchema });
