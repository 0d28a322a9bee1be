import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { REQUEST_PATH_HEADER } from '@/proxy';

/** Sends a signed-out visitor to sign in, returning afterwards to the page they asked for. */
export async function redirectToSignIn(): Promise<never> {
  const path = (await headers()).get(REQUEST_PATH_HEADER);
  redirect(path && path.startsWith('/') && !path.startsWith('//') ? `/sign-in?next=${encodeURIComponent(path)}` : '/sign-in');
}
