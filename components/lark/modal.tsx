'use client';

import { useLayoutEffect, useRef, type ReactNode } from 'react';
import './lark.css';

type ModalProps = {
  /** Id of the element that names the dialog (its heading). */
  labelledBy: string;
  describedBy?: string;
  /** `alertdialog` for confirmations that interrupt. */
  role?: 'dialog' | 'alertdialog';
  /** Escape and the close button ask the owner to unmount the modal. */
  onClose: () => void;
  className?: string;
  children: ReactNode;
};

/**
 * A native modal `<dialog>`: the browser traps focus, makes the page behind it inert and handles
 * Escape. Mount it to open it, unmount it to close it.
 */
export function Modal({ labelledBy, describedBy, role = 'dialog', onClose, className, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  // Layout effect: the cleanup must run while the element is still in the document, or focus
  // would not go back to the button that opened it.
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={`modal${className ? ` ${className}` : ''}`}
      role={role === 'alertdialog' ? 'alertdialog' : undefined}
      aria-modal="true"
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {children}
    </dialog>
  );
}
