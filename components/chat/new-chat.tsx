'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState, type ReactNode } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { z } from 'zod';
import { api, isApiError } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useAgents } from '@/components/api/queries';
import { createSessionInput, sessionResponse } from '@/server/contract/chat';
import type { Agent } from '@/server/contract/agents';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { Card, CardDescription, CardHeader, CardTitle } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { Form, FormControl, FormDescription, FormField, FormInputField, FormItem, FormLabel, FormMessage, setServerErrors } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { Loading } from '@/components/ui/loading';
import { NativeSelect } from '@/components/ui/native-select';
import { useErrorText } from '@/components/ui/use-error-text';

/** The anchor the conversation list's "New chat" button jumps to when the form is already on the page. */
export const newChatAnchor = 'new-chat';

type Values = { agent_id: string; title: string };
type CreateSessionInput = z.infer<typeof createSessionInput>;

// A blank title means none: the route's schema then checks what would be sent.
const schema = z
  .object({ agent_id: z.string(), title: z.string() })
  .transform(({ agent_id, title }) => ({ agent_id, ...(title.trim() ? { title } : {}) }))
  .pipe(createSessionInput);

function wrap(content: ReactNode) {
  return <div className="px-8 py-7 max-[760px]:px-4 max-[760px]:py-[18px]">{content}</div>;
}

/** Starts a conversation with one of the workspace's active agents. */
export function NewChat({ initialAgentId }: { initialAgentId?: string }) {
  const t = useTranslations('chat');
  const errorText = useErrorText();
  const { workspace, base } = useWorkspace();
  const agents = useAgents(workspace.id);

  if (agents.isPending) return <Loading />;
  if (agents.error) return wrap(<Alert>{errorText(agents.error)}</Alert>);
  const active = agents.data.filter((a) => !a.archived_at);
  if (active.length === 0) {
    return wrap(
      <EmptyState
        title={t('noAgentsTitle')}
        body={t('noAgentsBody')}
        action={
          <Button asChild>
            <Link href={`${base}/agents/new`}>{t('createAgent')}</Link>
          </Button>
        }
      />,
    );
  }
  return wrap(<NewChatForm active={active} initialAgentId={initialAgentId} />);
}

function NewChatForm({ active, initialAgentId }: { active: Agent[]; initialAgentId?: string }) {
  const t = useTranslations('chat');
  const errorText = useErrorText();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { workspace, base } = useWorkspace();
  const fallback = active[0]?.id ?? '';
  const form = useForm<Values, unknown, CreateSessionInput>({
    resolver: zodResolver(schema),
    defaultValues: { agent_id: initialAgentId && active.some((a) => a.id === initialAgentId) ? initialAgentId : fallback, title: '' },
  });
  const agentId = useWatch({ control: form.control, name: 'agent_id' });
  const agent = active.find((a) => a.id === agentId);
  // A failure that no field can show; the rest appear under their fields only.
  const [summary, setSummary] = useState<string | null>(null);

  // The chosen agent may be archived meanwhile (the list is live): fall back to the first active one.
  useEffect(() => {
    if (!agent && fallback) form.setValue('agent_id', fallback);
  }, [agent, fallback, form]);

  const start = useMutation({
    mutationFn: (input: CreateSessionInput) =>
      api(paths.sessions(workspace.id), { method: 'POST', request: createSessionInput, body: input, response: sessionResponse }),
    onSuccess: ({ session }) => {
      queryClient.setQueryData(keys.session(workspace.id, session.id), session);
      void queryClient.invalidateQueries({ queryKey: keys.sessions(workspace.id) });
      router.push(`${base}/chat/${session.id}`);
    },
    onError: (err) => {
      if (isApiError(err) && setServerErrors(form, err.fields)) return;
      setSummary(errorText(err));
    },
  });

  function submit(input: CreateSessionInput) {
    setSummary(null);
    start.mutate(input);
  }

  return (
    <Card
      id={newChatAnchor}
      role="region"
      aria-labelledby="new-chat-title"
      className="mx-auto w-full max-w-[480px] scroll-mt-4 max-[760px]:p-4"
    >
      <CardHeader>
        <CardTitle id="new-chat-title">{t('newChatTitle')}</CardTitle>
        <CardDescription>{t('newChatBody')}</CardDescription>
      </CardHeader>
      <Form {...form}>
        <form method="post" onSubmit={form.handleSubmit(submit)} noValidate>
          <FormFieldset>
            {summary ? <Alert>{summary}</Alert> : null}
            <FormField
              control={form.control}
              name="agent_id"
              render={({ field }) => (
                <FormItem>
                  <FormLabel>{t('agent')}</FormLabel>
                  <FormControl>
                    <NativeSelect {...field}>
                      {active.map((a) => (
                        <option key={a.id} value={a.id}>
                          {a.runtime ? a.name : t('agentOptionOffline', { name: a.name })}
                        </option>
                      ))}
                    </NativeSelect>
                  </FormControl>
                  {agent && !agent.runtime ? <FormDescription>{t('agentOfflineHint')}</FormDescription> : null}
                  <FormMessage />
                </FormItem>
              )}
            />
            <FormInputField control={form.control} name="title" label={t('sessionTitle')} maxLength={200} description={t('sessionTitleHint')} />
            <div className="flex flex-wrap items-center gap-2">
              <Button type="submit" disabled={start.isPending || start.isSuccess || !agentId}>
                {start.isPending || start.isSuccess ? t('starting') : t('startChat')}
              </Button>
            </div>
          </FormFieldset>
        </form>
      </Form>
    </Card>
  );
}
