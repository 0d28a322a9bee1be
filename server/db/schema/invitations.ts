import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { user } from './auth';
import { workspace } from './workspaces';
import { invitationRoles } from '../../contract/invitations';

// The API shares these value lists; the contract is their one home.
export { invitationRoles };

export const invitation = pgTable(
  'invitation',
  {
    id: uuid().primaryKey().defaultRandom(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspace.id, { onDelete: 'cascade' }),
    // SHA-256 of the link's token: a database read never yields a usable link.
    tokenHash: text().notNull(),
    // Lower-cased; null lets anyone holding the link accept it.
    email: text(),
    role: text({ enum: invitationRoles }).notNull(),
    createdByUserId: text().references(() => user.id, { onDelete: 'set null' }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    acceptedAt: timestamp({ withTimezone: true }),
    acceptedByUserId: text().references(() => user.id, { onDelete: 'set null' }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex('invitation_token_hash_unique').on(t.tokenHash),
    index().on(t.workspaceId, t.createdAt),
    check('invitation_token_hash_format', sql`${t.tokenHash} ~ '^[0-9a-f]{64}$'`),
    check('invitation_role_valid', sql`${t.role} IN ('admin', 'member')`),
    check('invitation_email_format', sql`${t.email} IS NULL OR (${t.email} = lower(${t.email}) AND ${t.email} ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND char_length(${t.email}) <= 254)`),
    check('invitation_expiry_window', sql`${t.expiresAt} > ${t.createdAt} AND ${t.expiresAt} <= ${t.createdAt} + interval '30 days'`),
    // Single use: accepted or revoked, never both.
    check('invitation_one_outcome', sql`${t.acceptedAt} IS NULL OR ${t.revokedAt} IS NULL`),
    check('invitation_acceptor_needs_acceptance', sql`${t.acceptedByUserId} IS NULL OR ${t.acceptedAt} IS NOT NULL`),
  ],
);
