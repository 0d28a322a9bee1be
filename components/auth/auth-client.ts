'use client';

import { createAuthClient } from 'better-auth/react';

// Same origin: better-auth is mounted at /api/auth by the app itself.
export const authClient = createAuthClient();
