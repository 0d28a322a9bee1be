'use client';

import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useCallback, useEffect, useId, useRef, useState, type RefObject } from 'react';
import { useMe } from '@/components/api/queries';
import type { WorkspaceSummary } from '@/server/contract/workspaces';
import { useWorkspace } from '@/components/providers/workspace-provider';

export function WorkspaceSwitcher({ initialWorkspaces }: { initialWorkspaces: WorkspaceSummary[] }) {
  const t = useTranslations('shell');
  const { workspace } = useWorkspace();
  const me = useMe();
  const workspaces = me.data?.workspaces ?? initialWorkspaces;
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const close = useCallback(() => setOpen(false), []);
  useDismiss(ref, open, close);

  return (
    <div className="switcher" ref={ref}>
      <button
        type="button"
        className="switcher-button"
        aria-expanded={open}
        aria-controls={menuId}
        aria-label={t('switchWorkspace', { name: workspace.name })}
        onClick={() => setOpen((v) => !v)}
      >
        <span className="switcher-mark" aria-hidden="true">
          {Array.from(workspace.name)[0]?.toUpperCase() ?? '?'}
        </span>
        <span className="switcher-name">{workspace.name}</span>
        <Chevron />
      </button>
      {open ? (
        <div className="menu" id={menuId}>
          <p className="menu-heading">{t('workspaces')}</p>
          <ul className="menu-list">
            {workspaces.map((w) => (
              <li key={w.id}>
                <Link
                  href={`/w/${w.slug}/chat`}
                  className="menu-item"
                  aria-current={w.id === workspace.id ? 'true' : undefined}
                  onClick={() => setOpen(false)}
                >
                  <span className="switcher-mark switcher-mark-sm" aria-hidden="true">
                    {Array.from(w.name)[0]?.toUpperCase() ?? '?'}
                  </span>
                  <span className="truncate">{w.name}</span>
                </Link>
              </li>
            ))}
          </ul>
          <div className="menu-divider" />
          <Link href="/workspaces/new" className="menu-item" onClick={() => setOpen(false)}>
            {t('createWorkspace')}
          </Link>
        </div>
      ) : null}
    </div>
  );
}

function Chevron() {
  return (
    <svg className="chevron" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

/** Closes a popover on Escape or on a click outside it. */
export function useDismiss(ref: RefObject<HTMLElement | null>, open: boolean, close: () => void) {
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close();
    };
    const onPointer = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) close();
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [ref, open, close]);
}
