'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Form, FormControl, FormDescription, FormField, FormItem, FormLabel, FormMessage, setServerErrors } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { Input } from '@/components/ui/input';
import { useErrorText } from '@/components/ui/use-error-text';
import { createWorkspaceInput, workspaceResponse, type CreateWorkspaceInput } from '@/server/contract/workspaces';
import { suggestIssuePrefix, suggestSlug } from './suggest';

type Values = { name: string; slug: string; issue_prefix: string };

export function CreateWorkspaceForm() {
  const t = useTranslations('workspaces.create');
  const errorText = useErrorText();
  const router = useRouter();
  const queryClient = useQueryClient();
  const form = useForm<Values, unknown, CreateWorkspaceInput>({
    resolver: zodResolver(createWorkspaceInput),
    defaultValues: { name: '', slug: '', issue_prefix: '' },
  });
  const prefix = useWatch({ control: form.control, name: 'issue_prefix' });
  // Slug and prefix follow the name until someone types in them.
  const edited = useRef({ slug: false, issue_prefix: false });
  // A failure that no field can show; the rest appear under their fields only.
  const [summary, setSummary] = useState<string | null>(null);

  const create = useMutation({
    mutationFn: (input: CreateWorkspaceInput) =>
      api(paths.workspaces, { method: 'POST', request: createWorkspaceInput, body: input, response: workspaceResponse }),
    onSuccess: async ({ workspace }) => {
      await queryClient.invalidateQueries({ queryKey: keys.me });
      router.push(`/w/${workspace.slug}/chat`);
    },
    onError: (err) => {
      if (isApiError(err) && err.code === 'conflict' && err.fields.slug) {
        form.setError('slug', { type: 'server', message: t('slugTaken') }, { shouldFocus: true });
        return;
      }
      if (isApiError(err) && setServerErrors(form, err.fields)) return;
      setSummary(errorText(err));
    },
  });

  function submit(input: CreateWorkspaceInput) {
    setSummary(null);
    create.mutate(input);
  }

  return (
    <Form {...form} messages={{ name: t('nameRequired'), slug: t('slugInvalid'), issue_prefix: t('prefixInvalid') }}>
      <form method="post" onSubmit={form.handleSubmit(submit)} noValidate>
        <FormFieldset>
          {summary ? <Alert>{summary}</Alert> : null}
          <FormField
            control={form.control}
            name="name"
            render={({ field }) => (
              <FormItem>
                <FormLabel>{t('name')}</FormLabel>
                <FormControl>
                  <Input
                    required
                    maxLength={80}
                    autoFocus
                    {...field}
                    onChange={(e) => {
                      const name = e.target.value;
                      field.onChange(name);
                      const options = { shouldValidate: form.formState.isSubmitted };
                      if (!edited.current.slug) form.setValue('slug', suggestSlug(name), options);
                      if (!edited.current.issue_prefix) form.setValue('issue_prefix', suggestIssuePrefix(name), options);
                    }}
                  />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          <FormField
            control={form.control}
            name="slug"
            render={({ field }) => (
              <FormItem>
                <FormLabel>{t('slug')}</FormLabel>
                <FormControl>
                  <Input
                    required
                    autoCapitalize="none"
                    spellCheck={false}
                    maxLength={40}
                    {...field}
                    onChange={(e) => {
                      edited.current.slug = true;
                      field.onChange(e.target.value.toLowerCase());
                    }}
                  />
                </FormControl>
                <FormDescription>{t('slugHint')}</FormDescription>
                <FormMessage />
              </FormItem>
            )}
          />
          <FormField
            control={form.control}
            name="issue_prefix"
            render={({ field }) => (
              <FormItem>
                <FormLabel>{t('issuePrefix')}</FormLabel>
                <FormControl>
                  <Input
                    required
                    autoCapitalize="characters"
                    spellCheck={false}
                    maxLength={10}
                    {...field}
                    onChange={(e) => {
                      edited.current.issue_prefix = true;
                      field.onChange(e.target.value.toUpperCase());
                    }}
                  />
                </FormControl>
                <FormDescription>{t('issuePrefixHint', { example: `${prefix || 'MUL'}-1` })}</FormDescription>
                <FormMessage />
              </FormItem>
            )}
          />
          <Button type="submit" className="h-9 w-full" disabled={create.isPending}>
            {create.isPending ? t('creating') : t('submit')}
          </Button>
        </FormFieldset>
      </form>
    </Form>
  );
}
