import type { ReactNode } from 'react';

type Tone = 'error' | 'info' | 'warning' | 'success';

/** A message band; errors are announced to screen readers as they appear. */
export function Alert({ tone = 'error', children }: { tone?: Tone; children: ReactNode }) {
  return (
    <div className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
