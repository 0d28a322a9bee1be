import { headers } from 'next/headers';
import { cache } from 'react';
import { getSessionUser, type SessionUser } from '@/server/auth/auth';

/** The signed-in user for this request, resolved once however many layouts and pages ask. */
export const currentUser = cache(async (): Promise<SessionUser | null> => getSessionUser(await headers()));
