'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useTranslations } from 'next-intl';
import type { ReactNode } from 'react';
import { useForm } from 'react-hook-form';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog';
import { Form, FormControl, FormField, FormInputField, FormItem, FormLabel, FormMessage, setServerErrors } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { Textarea } from '@/components/ui/textarea';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { editIssueTextInput, type EditIssueTextInput } from '@/server/contract/issues';

type Props = {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description: ReactNode;
  initial: EditIssueTextInput;
  submitLabel: string;
  pendingLabel: string;
  /** Saves the values; a rejection (an ApiError) is shown in the dialog, which stays open. */
  onSubmit: (values: EditIssueTextInput) => Promise<unknown>;
};

/** The title-and-description form, for a new issue and for editing one: the routes' own schema validates it. */
export function IssueTextDialog({ open, onOpenChange, ...props }: Props) {
  const t = useTranslations('issues');
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent closeLabel={t('close')}>
        <DialogHeader>
          <DialogTitle>{props.title}</DialogTitle>
          <DialogDescription>{props.description}</DialogDescription>
        </DialogHeader>
        {/* Mounted only while open, so each opening starts from the issue as it is now. */}
        {open ? <IssueTextForm {...props} onCancel={() => onOpenChange(false)} /> : null}
      </DialogContent>
    </Dialog>
  );
}

function IssueTextForm({ initial, submitLabel, pendingLabel, onSubmit, onCancel }: Omit<Props, 'open' | 'onOpenChange' | 'title' | 'description'> & { onCancel: () => void }) {
  const t = useTranslations('issues');
  const errorText = useErrorText();
  const form = useForm<EditIssueTextInput>({ resolver: zodResolver(editIssueTextInput), defaultValues: initial });
  const failure = form.formState.errors.root?.server;

  async function save(values: EditIssueTextInput) {
    try {
      await onSubmit(values);
    } catch (err) {
      // Field problems go next to their field; anything else above the form.
      if (!setServerErrors(form, fieldErrors(err))) form.setError('root.server', { message: errorText(err) });
    }
  }

  return (
    <Form {...form} messages={{ title: t('titleInvalid'), description: t('descriptionTooLong') }}>
      <form onSubmit={form.handleSubmit(save)} noValidate>
        <FormFieldset>
          {failure ? <Alert>{failure.message}</Alert> : null}
          <FormInputField control={form.control} name="title" label={t('fields.title')} required autoFocus maxLength={300} />
          <FormField
            control={form.control}
            name="description"
            render={({ field }) => (
              <FormItem>
                <FormLabel>{t('fields.description')}</FormLabel>
                <FormControl>
                  <Textarea rows={6} {...field} />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          <DialogFooter>
            <Button type="button" variant="ghost" onClick={onCancel} disabled={form.formState.isSubmitting}>
              {t('cancel')}
            </Button>
            <Button type="submit" disabled={form.formState.isSubmitting}>
              {form.formState.isSubmitting ? pendingLabel : submitLabel}
            </Button>
          </DialogFooter>
        </FormFieldset>
      </form>
    </Form>
  );
}
