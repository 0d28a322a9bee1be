'use client';

import { useMutation } from '@tanstack/react-query';
import { useRef, useState, type RefObject } from 'react';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '@/components/ui/dialog';
import { useErrorText } from '@/components/ui/use-error-text';

/** The words of a remove button and of its confirmation. */
export type RemoveConfirmTexts = { trigger: string; triggerLabel: string; title: string; body: string; confirm: string; pending: string; cancel: string };

/**
 * A row's remove button and its confirmation. The button goes with what it removed, so focus
 * returns to `returnFocus` rather than to nowhere.
 */
export function RemoveConfirmButton({ texts, remove, returnFocus }: { texts: RemoveConfirmTexts; remove: () => Promise<unknown>; returnFocus: RefObject<HTMLElement | null> }) {
  const [open, setOpen] = useState(false);
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button type="button" variant="ghost" size="sm" aria-label={texts.triggerLabel}>
          {texts.trigger}
        </Button>
      </DialogTrigger>
      {open ? <RemoveConfirmDialog texts={texts} remove={remove} returnFocus={returnFocus} onClose={() => setOpen(false)} /> : null}
    </Dialog>
  );
}

function RemoveConfirmDialog({
  texts,
  remove,
  returnFocus,
  onClose,
}: {
  texts: RemoveConfirmTexts;
  remove: () => Promise<unknown>;
  returnFocus: RefObject<HTMLElement | null>;
  onClose: () => void;
}) {
  const errorText = useErrorText();
  const removed = useRef(false);
  const mutation = useMutation({
    mutationFn: remove,
    onSuccess: () => {
      removed.current = true;
      onClose();
    },
  });
  return (
    <DialogContent
      role="alertdialog"
      className="max-w-115 gap-3.5 p-5"
      // A confirmation is answered with its buttons (or Escape), not by a click beside it.
      onInteractOutside={(event) => event.preventDefault()}
      onCloseAutoFocus={(event) => {
        if (removed.current && returnFocus.current) {
          event.preventDefault();
          returnFocus.current.focus();
        }
      }}
    >
      <DialogHeader>
        <DialogTitle className="wrap-anywhere">{texts.title}</DialogTitle>
        <DialogDescription>{texts.body}</DialogDescription>
      </DialogHeader>
      {mutation.error ? <Alert>{errorText(mutation.error)}</Alert> : null}
      <DialogFooter>
        <Button type="button" variant="ghost" disabled={mutation.isPending} onClick={onClose}>
          {texts.cancel}
        </Button>
        <Button type="button" variant="destructive" disabled={mutation.isPending} onClick={() => mutation.mutate()}>
          {mutation.isPending ? texts.pending : texts.confirm}
        </Button>
      </DialogFooter>
    </DialogContent>
  );
}
