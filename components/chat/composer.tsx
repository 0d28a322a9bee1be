'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useTranslations } from 'next-intl';
import type { KeyboardEvent } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import type { z } from 'zod';
import { isApiError } from '@/components/api/client';
import { Button } from '@/components/ui/button';
import { Form, FormControl, FormDescription, FormField, FormItem, FormLabel, FormMessage, setServerErrors } from '@/components/ui/form';
import { Textarea } from '@/components/ui/textarea';
import { sendMessageInput } from '@/server/contract/chat';

const maxLength = 20_000;

type Values = z.input<typeof sendMessageInput>;

/**
 * Enter sends, Shift+Enter breaks the line; Enter that confirms an IME composition never sends.
 * `onSend` rejects with the API error when the message was not taken; the text then stays.
 */
export function Composer({ disabled, onSend }: { disabled: boolean; onSend: (content: string) => Promise<void> }) {
  const t = useTranslations('chat');
  const form = useForm<Values>({ resolver: zodResolver(sendMessageInput), defaultValues: { content: '' } });
  const value = useWatch({ control: form.control, name: 'content' });
  const empty = !value.trim();

  async function send({ content }: Values) {
    try {
      await onSend(content.trim());
      form.reset({ content: '' });
    } catch (err) {
      // Other failures are shown above the composer.
      if (isApiError(err)) setServerErrors(form, err.fields);
    }
    form.setFocus('content');
  }

  const submit = form.handleSubmit(send);

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    // An empty message is simply not sent; there is nothing to explain.
    if (empty || disabled) return;
    void submit();
  }

  return (
    <Form {...form}>
      <form
        onSubmit={submit}
        noValidate
        className="flex flex-col rounded-lg border border-input bg-card shadow-xs transition-[border-color,box-shadow] focus-within:border-ring focus-within:ring-3 focus-within:ring-ring/20"
      >
        <FormField
          control={form.control}
          name="content"
          render={({ field }) => (
            <FormItem className="gap-0">
              <FormLabel className="sr-only">{t('messageLabel')}</FormLabel>
              <FormControl>
                <Textarea
                  {...field}
                  rows={Math.min(8, Math.max(1, value.split('\n').length))}
                  placeholder={t('composerPlaceholder')}
                  maxLength={maxLength}
                  onKeyDown={onKeyDown}
                  className="max-h-[220px] min-h-0 resize-none rounded-lg border-0 bg-transparent px-3 pt-2.5 pb-1 hover:border-0 focus-visible:ring-0"
                />
              </FormControl>
              <FormMessage className="px-3 pt-1" />
              <div className="flex items-center justify-end gap-2 pt-1 pr-2 pb-2 pl-3 min-[761px]:justify-between">
                <FormDescription className="text-xs max-[760px]:hidden">{t('composerHint')}</FormDescription>
                <Button type="submit" size="sm" disabled={disabled || empty}>
                  {t('send')}
                </Button>
              </div>
            </FormItem>
          )}
        />
      </form>
    </Form>
  );
}
