import type { BetterAuthPlugin } from 'better-auth';
import { APIError, createAuthMiddleware } from 'better-auth/api';
import { sql } from 'drizzle-orm';
import { db } from '../db/client';
import { user } from '../db/schema';
import { env } from '../env';
import { invitationAdmitsSignUp } from '../services/invitations';
import { passwordProblem } from './password-policy';

// Endpoints that set a password, and the body field that carries it.
const passwordFields: Record<string, string> = {
  '/sign-up/email': 'password',
  '/change-password': 'newPassword',
  '/reset-password': 'newPassword',
  '/set-password': 'newPassword',
};

const passwordMessages = {
  PASSWORD_TOO_SHORT: 'Password is too short',
  PASSWORD_TOO_LONG: 'Password is too long',
  PASSWORD_TOO_COMMON: 'This password is one of the most common ones; choose another',
} as const;

async function instanceHasAccounts(): Promise<boolean> {
  const rows = await db().execute<{ found: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM ${user}) AS found`);
  return Boolean(rows.rows[0]?.found);
}

/**
 * Under SIGN_UP=invite, sign-up needs a pending invitation's token (`invitationToken` in the body),
 * except for the very first account of an empty instance, which has nobody to invite it. The answer
 * depends on the token and the instance only, never on whether the email already has an account.
 */
/** True when a sign-up without an invitation would be refused (the sign-up page says so up front). */
export async function signUpNeedsInvitation(): Promise<boolean> {
  return env().SIGN_UP === 'invite' && (await instanceHasAccounts());
}

async function checkSignUpAllowed(body: Record<string, unknown>): Promise<void> {
  if (!(await signUpNeedsInvitation())) return;
  const token = typeof body.invitationToken === 'string' ? body.invitationToken : '';
  const email = typeof body.email === 'string' ? body.email : '';
  const verdict = token ? await invitationAdmitsSignUp(db(), { token, email }) : 'invalid';
  if (verdict === 'email_mismatch') {
    throw new APIError('FORBIDDEN', { code: 'INVITATION_EMAIL_MISMATCH', message: 'This invitation is for another email address' });
  }
  if (verdict !== 'ok') {
    throw new APIError('FORBIDDEN', { code: 'INVITATION_REQUIRED', message: 'Sign-up is by invitation only; ask a workspace owner or admin for an invitation link' });
  }
}

/** Sign-up policy and password rules, applied before better-auth's own handlers run. */
export function signUpPolicy() {
  return {
    id: 'larkspur-sign-up-policy',
    hooks: {
      before: [
        {
          matcher: (ctx) => ctx.path !== undefined && Object.hasOwn(passwordFields, ctx.path),
          handler: createAuthMiddleware(async (ctx) => {
            const body = (ctx.body ?? {}) as Record<string, unknown>;
            if (ctx.path === '/sign-up/email') await checkSignUpAllowed(body);
            const password = body[passwordFields[ctx.path]];
            // A missing password is better-auth's to refuse, with its own code.
            if (typeof password !== 'string') return;
            const problem = passwordProblem(password);
            if (problem) throw new APIError('BAD_REQUEST', { code: problem, message: passwordMessages[problem] });
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
