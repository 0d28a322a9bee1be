'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslations } from 'next-intl';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api } from '@/components/api/client';
import { keys } from '@/components/api/keys';
import { paths, useAgents } from '@/components/api/queries';
import { createSessionInput, sessionResponse } from '@/server/contract/chat';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Alert } from '@/components/ui/alert';
import { EmptyState } from '@/components/ui/empty-state';
import { SelectField, TextField } from '@/components/ui/field';
import { Loading } from '@/components/ui/loading';
import { fieldErrors, useErrorText } from '@/components/ui/use-error-text';

/** Starts a conversation with one of the workspace's active agents. */
export function NewChat({ initialAgentId }: { initialAgentId?: string }) {
  const t = useTranslations('chat');
  const errorText = useErrorText();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { workspace, base } = useWorkspace();
  const agents = useAgents(workspace.id);
  const [chosen, setChosen] = useState<string | null>(initialAgentId ?? null);
  const [title, setTitle] = useState('');

  const active = (agents.data ?? []).filter((a) => !a.archived_at);
  const agentId = chosen && active.some((a) => a.id === chosen) ? chosen : (active[0]?.id ?? '');
  const agent = active.find((a) => a.id === agentId);

  const start = useMutation({
    mutationFn: (input: { agent_id: string; title?: string }) =>
      api(paths.sessions(workspace.id), { method: 'POST', request: createSessionInput, body: input, response: sessionResponse }),
    onSuccess: ({ session }) => {
      queryClient.setQueryData(keys.session(workspace.id, session.id), session);
      void queryClient.invalidateQueries({ queryKey: keys.sessions(workspace.id) });
      router.push(`${base}/chat/${session.id}`);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!agentId) return;
    start.mutate({ agent_id: agentId, ...(title.trim() ? { title: title.trim() } : {}) });
  }

  if (agents.isPending) return <Loading />;
  if (agents.error) return <Alert>{errorText(agents.error)}</Alert>;
  if (active.length === 0) {
    return (
      <div className="pane-body">
        <EmptyState
          title={t('noAgentsTitle')}
          body={t('noAgentsBody')}
          action={
            <Link href={`${base}/agents/new`} className="btn btn-primary">
              {t('createAgent')}
            </Link>
          }
        />
      </div>
    );
  }

  const errors = fieldErrors(start.error);
  return (
    <div className="pane-body new-chat">
      <section className="card new-chat-card" aria-labelledby="new-chat-title">
        <h2 id="new-chat-title" className="card-title">
          {t('newChatTitle')}
        </h2>
        <p className="muted">{t('newChatBody')}</p>
        <form className="stack" onSubmit={submit}>
          {start.error ? <Alert>{errorText(start.error)}</Alert> : null}
          <SelectField label={t('agent')} value={agentId} error={errors.agent_id} onChange={(e) => setChosen(e.target.value)}>
            {active.map((a) => (
              <option key={a.id} value={a.id}>
                {a.runtime ? a.name : t('agentOptionOffline', { name: a.name })}
              </option>
            ))}
          </SelectField>
          {agent && !agent.runtime ? <p className="field-hint">{t('agentOfflineHint')}</p> : null}
          <TextField
            label={t('sessionTitle')}
            hint={t('sessionTitleHint')}
            value={title}
            maxLength={200}
            error={errors.title}
            onChange={(e) => setTitle(e.target.value)}
          />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={start.isPending || !agentId}>
              {start.isPending ? t('starting') : t('startChat')}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
