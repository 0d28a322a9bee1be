import { z } from 'zod';
import { timestamp } from './shared';

export const memberRoles = ['owner', 'admin', 'member'] as const;
export const memberRoleSchema = z.enum(memberRoles, { message: 'Role must be owner, admin or member' });
export type MemberRole = z.infer<typeof memberRoleSchema>;

export const changeMemberRoleInput = z.object({ role: memberRoleSchema });

export const memberSchema = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string(),
  role: memberRoleSchema,
  joined_at: timestamp,
});
export type Member = z.infer<typeof memberSchema>;

export const membersResponse = z.object({ members: z.array(memberSchema) });
export const memberResponse = z.object({ member: memberSchema });
