'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths } from '@/components/api/queries';
import { Alert } from '@/components/ui/alert';
import { TextField } from '@/components/ui/field';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';
import { issuePrefixPattern, slugPattern, suggestIssuePrefix, suggestSlug } from './suggest';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { createWorkspaceInput, workspaceResponse } from '@/server/contract/workspaces';

type Input = { name: string; slug: string; issue_prefix: string };

export function CreateWorkspaceForm() {
  const t = useTranslations('workspaces.create');
  const errorText = useErrorText();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [prefix, setPrefix] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [prefixEdited, setPrefixEdited] = useState(false);
  const [local, setLocal] = useState<Record<string, string>>({});

  const create = useMutation({
    mutationFn: (input: Input) => api(paths.workspaces, { method: 'POST', request: createWorkspaceInput, body: input, response: workspaceResponse }),
    onSuccess: async ({ workspace }) => {
      await queryClient.invalidateQueries({ queryKey: keys.me });
      router.push(`/w/${workspace.slug}/chat`);
    },
  });

  function onName(value: string) {
    setName(value);
    if (!slugEdited) setSlug(suggestSlug(value));
    if (!prefixEdited) setPrefix(suggestIssuePrefix(value));
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!name.trim()) problems.name = t('nameRequired');
    if (!slugPattern.test(slug)) problems.slug = t('slugInvalid');
    if (!issuePrefixPattern.test(prefix)) problems.issue_prefix = t('prefixInvalid');
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    create.mutate({ name: name.trim(), slug, issue_prefix: prefix });
  }

  const server = fieldErrors(create.error);
  const errors = { ...server, ...local };
  return (
    <form method="post" onSubmit={submit} noValidate>
      <FormFieldset className="stack">
        {create.error ? <Alert>{errorText(create.error)}</Alert> : null}
        <TextField
          label={t('name')}
          name="name"
          required
          maxLength={80}
          autoFocus
          value={name}
          error={errors.name}
          onChange={(e) => onName(e.target.value)}
        />
        <TextField
          label={t('slug')}
          name="slug"
          required
          hint={t('slugHint')}
          value={slug}
          error={errors.slug}
          autoCapitalize="none"
          spellCheck={false}
          maxLength={40}
          onChange={(e) => {
            setSlugEdited(true);
            setSlug(e.target.value.toLowerCase());
          }}
        />
        <TextField
          label={t('issuePrefix')}
          name="issue_prefix"
          required
          hint={t('issuePrefixHint', { example: `${prefix || 'MUL'}-1` })}
          value={prefix}
          error={errors.issue_prefix}
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={10}
          onChange={(e) => {
            setPrefixEdited(true);
            setPrefix(e.target.value.toUpperCase());
          }}
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={create.isPending}>
          {create.isPending ? t('creating') : t('submit')}
        </button>
      </FormFieldset>
    </form>
  );
}
