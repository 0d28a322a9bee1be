import { z } from 'zod';
import { larkRegions } from './lark';
import { personSchema, timestamp } from './shared';

export const issueStatuses = ['backlog', 'todo', 'in_progress', 'done', 'canceled'] as const;
export const issueOriginTypes = ['web', 'lark_chat'] as const;

const statusList = issueStatuses.join(', ');
export const issueStatusSchema = z.enum(issueStatuses, { message: `Status must be one of ${statusList}` });
export type IssueStatus = z.infer<typeof issueStatusSchema>;

export const issueTitle = z.string().trim().min(1, 'Title is required').max(300, 'Title is at most 300 characters');
export const issueDescription = z.string().max(50_000, 'Description is at most 50,000 characters');

/** Member ids come from the auth library (opaque text); agent ids are uuids. */
const memberId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'Not a member id');
const agentId = z.uuid('Not an agent id');

/** Who works on an issue: a member of the workspace, one of its agents, or nobody (null). */
export const issueAssigneeInput = z
  .discriminatedUnion('type', [z.object({ type: z.literal('member'), id: memberId }), z.object({ type: z.literal('agent'), id: agentId })], {
    error: 'Assignee must be {type: "member" | "agent", id} or null',
  })
  .nullable();
export type IssueAssigneeInput = z.infer<typeof issueAssigneeInput>;

export const createIssueInput = z.object({
  title: issueTitle,
  description: issueDescription.default(''),
});

/** The text fields as one form edits them. */
export const editIssueTextInput = z.object({ title: issueTitle, description: issueDescription });
export type EditIssueTextInput = z.infer<typeof editIssueTextInput>;

export const updateIssueInput = z
  .strictObject(
    {
      title: issueTitle.optional(),
      description: issueDescription.optional(),
      status: issueStatusSchema.optional(),
      assignee: issueAssigneeInput.optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `Only title, description, status and assignee can be changed` : undefined) },
  )
  .refine((v) => Object.values(v).some((x) => x !== undefined), 'Nothing to update');
export type UpdateIssueInput = z.infer<typeof updateIssueInput>;

/**
 * `?status=todo,in_progress&assignee=me|none|member:<id>|agent:<id>`. Each parameter is optional;
 * several statuses are a union.
 */
export const issueListQuery = z.object({
  status: z
    .string()
    .transform((value, ctx) => {
      const parts = value.split(',').map((s) => s.trim());
      const unknown = parts.filter((s) => !(issueStatuses as readonly string[]).includes(s));
      if (unknown.length) {
        ctx.addIssue({ code: 'custom', message: `Unknown status "${unknown[0]}"; use ${statusList}, comma-separated` });
        return z.NEVER;
      }
      return [...new Set(parts)] as IssueStatus[];
    })
    .optional(),
  assignee: z
    .string()
    .transform((value, ctx): IssueAssigneeFilter => {
      if (value === 'me' || value === 'none') return { kind: value };
      const match = /^(member|agent):(.*)$/.exec(value);
      const id = match?.[2] ?? '';
      if (match?.[1] === 'member' && memberId.safeParse(id).success) return { kind: 'member', id };
      if (match?.[1] === 'agent' && agentId.safeParse(id).success) return { kind: 'agent', id };
      ctx.addIssue({ code: 'custom', message: 'Assignee filter must be me, none, member:<id> or agent:<id>' });
      return z.NEVER;
    })
    .optional(),
});
export type IssueAssigneeFilter = { kind: 'me' } | { kind: 'none' } | { kind: 'member'; id: string } | { kind: 'agent'; id: string };
export type IssueListFilter = z.infer<typeof issueListQuery>;

export const issueAssigneeSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('member'), id: z.string(), name: z.string() }),
    z.object({ type: z.literal('agent'), id: z.string(), name: z.string(), avatar_color: z.string(), archived: z.boolean() }),
  ])
  .nullable();
export type IssueAssignee = z.infer<typeof issueAssigneeSchema>;

/** Where a `lark_chat` issue was asked for. */
export const issueOriginSchema = z.object({
  /** The Lark chat and its bot's brand (which Lark app opens it); null once the bot is removed. */
  lark_chat: z.object({ chat_id: z.string(), region: z.enum(larkRegions), url: z.string() }).nullable(),
  /** The web view of the conversation; only its creator may open it, so only they get the id. */
  chat_session_id: z.string().nullable(),
});

export const issueSchema = z.object({
  id: z.string(),
  /** `PREFIX-N`, from the workspace's prefix and counter. */
  identifier: z.string(),
  number: z.number().int(),
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(issueStatuses),
  origin_type: z.enum(issueOriginTypes),
  origin: issueOriginSchema,
  creator: personSchema,
  assignee: issueAssigneeSchema,
  created_at: timestamp,
  updated_at: timestamp,
});
export type Issue = z.infer<typeof issueSchema>;

export const issuesResponse = z.object({ issues: z.array(issueSchema) });
export const issueResponse = z.object({ issue: issueSchema });
