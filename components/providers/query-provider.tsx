'use client';

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { isApiError } from '@/components/api/client';
import { signInPath } from '@/components/auth/next-path';

function onUnauthorized(err: unknown) {
  // A session that expired mid-visit: send the visitor to sign in and bring them back here.
  if (isApiError(err) && err.status === 401 && !window.location.pathname.startsWith('/sign-')) {
    window.location.assign(signInPath(window.location.pathname + window.location.search));
  }
}

function makeClient() {
  return new QueryClient({
    queryCache: new QueryCache({ onError: onUnauthorized }),
    mutationCache: new MutationCache({ onError: onUnauthorized }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        // Client errors will not fix themselves by retrying; network and 5xx might.
        retry: (count, err) => count < 2 && !(isApiError(err) && err.status >= 400 && err.status < 500),
      },
      mutations: { retry: false },
    },
  });
}

export function QueryProvider({ children }: { children: ReactNode }) {
  const [client] = useState(makeClient);
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
