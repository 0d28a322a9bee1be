/** Where an invitation link points; sign-in and sign-up come back here through `?next=`. */
export const invitationPath = (token: string) => `/invite/${encodeURIComponent(token)}`;

/** The token of an invitation page path, so sign-up can tell it is joining through one. */
export function invitationTokenFromPath(path: string): string | null {
  const match = /^\/invite\/([A-Za-z0-9_-]{43})$/.exec(path);
  return match ? match[1] : null;
}
