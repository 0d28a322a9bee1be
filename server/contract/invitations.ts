import { z } from 'zod';
import { personSchema, timestamp } from './shared';

// Ownership is never handed out through a link that can be forwarded: an owner promotes a person
// who is already in the workspace, from the members list.
export const invitationRoles = ['admin', 'member'] as const;
export const invitationRoleSchema = z.enum(invitationRoles, { message: 'Role must be admin or member' });
export type InvitationRole = z.infer<typeof invitationRoleSchema>;

export const INVITATION_DEFAULT_DAYS = 7;
export const INVITATION_MAX_DAYS = 30;
export const invitationExpiryChoices = [1, 7, 14, 30] as const;

/** 32 random bytes, base64url: what `/invite/<token>` carries. */
export const invitationTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'Not an invitation token');

export const createInvitationInput = z.object({
  // Blank means "anyone with the link"; a named email restricts who may accept.
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254, 'Email is at most 254 characters')
    .refine((v) => v === '' || z.email().safeParse(v).success, 'Enter a valid email address')
    .nullish()
    .transform((v) => v || null),
  role: invitationRoleSchema.default('member'),
  expires_in_days: z.coerce
    .number({ message: 'Expiry must be a number of days' })
    .int('Expiry must be a whole number of days')
    .min(1, 'Expiry is at least 1 day')
    .max(INVITATION_MAX_DAYS, `Expiry is at most ${INVITATION_MAX_DAYS} days`)
    .default(INVITATION_DEFAULT_DAYS),
});
export type CreateInvitationInput = z.infer<typeof createInvitationInput>;

export const acceptInvitationInput = z.object({ token: z.string().min(1, 'token is required').max(200) });

export const invitationSchema = z.object({
  id: z.string(),
  email: z.string().nullable(),
  role: invitationRoleSchema,
  created_at: timestamp,
  expires_at: timestamp,
  created_by: personSchema.nullable(),
});
export type Invitation = z.infer<typeof invitationSchema>;

export const invitationsResponse = z.object({ invitations: z.array(invitationSchema) });

/** The token and its link are in this answer only: the server keeps a hash. */
export const createdInvitationResponse = z.object({ invitation: invitationSchema, token: z.string(), url: z.string() });

export const acceptedInvitationResponse = z.object({
  workspace: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  role: invitationRoleSchema,
});
