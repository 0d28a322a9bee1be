'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useTranslations } from 'next-intl';
import { useEffect, useMemo, useState } from 'react';
import { useForm, useWatch, type FieldPath, type UseFormReturn } from 'react-hook-form';
import { z } from 'zod';
import { createAgentInput, updateAgentInput, type Agent, type AgentRuntimeInput, type RuntimeInput } from '@/server/contract/agents';
import { Alert } from '@/components/ui/alert';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Form, FormControl, FormDescription, FormField, FormInputField, FormItem, FormLabel, FormMessage } from '@/components/ui/form';
import { FormFieldset } from '@/components/ui/form-fieldset';
import { Input } from '@/components/ui/input';

export const agentColors = ['#5b5bd6', '#0d74ce', '#12a594', '#30a46c', '#e5484d', '#f76b15', '#d6409f', '#8e4ec6', '#6f6e77'];

/** `runtime` is left out when the viewer may not change it, so saving a name never touches it. */
export type AgentFormValues = { name: string; avatar_color: string; runtime?: AgentRuntimeInput };

type RuntimeKind = 'none' | 'echo' | 'openai';

/** What the controls hold. Field paths match the API's (`runtime.base_url`…), so server errors land on their fields. */
type FormShape = {
  name: string;
  avatar_color: string;
  runtime: { kind: RuntimeKind; base_url: string; model: string; api_key: string; stream: boolean };
};

type Props = {
  agent?: Agent;
  /** Workspace owners and admins: model endpoints and their keys. Others choose between none and echo. */
  canConfigureRuntime: boolean;
  pending: boolean;
  /** The failure in the current language; shown above the form unless its fields can show it. */
  error: string | null;
  /** The server's messages by field path. */
  fields: Record<string, string>;
  submitLabel: string;
  pendingLabel: string;
  onSubmit: (values: AgentFormValues) => void;
  onCancel?: () => void;
};

const hexColor = /^#[0-9a-fA-F]{6}$/;

const formShape = z.object({
  name: z.string(),
  avatar_color: z.string(),
  runtime: z.object({
    kind: z.enum(['none', 'echo', 'openai']),
    base_url: z.string(),
    model: z.string(),
    api_key: z.string(),
    stream: z.boolean(),
  }),
});

const fieldPaths: readonly string[] = ['name', 'avatar_color', 'runtime', 'runtime.kind', 'runtime.base_url', 'runtime.model', 'runtime.api_key', 'runtime.stream'] satisfies FieldPath<FormShape>[];
const isFieldPath = (name: string): name is FieldPath<FormShape> => fieldPaths.includes(name);

function originOf(url: string): string | null {
  try {
    return new URL(url.trim()).origin;
  } catch {
    return null;
  }
}

/** Which translated sentence explains a refused base URL (the contract's own messages are English). */
function baseUrlProblem(url: string): 'baseUrlInvalid' | 'baseUrlCredentials' | 'baseUrlQuery' {
  const value = url.trim();
  if (!/^https?:\/\/\S+$/.test(value)) return 'baseUrlInvalid';
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'baseUrlInvalid';
  }
  if (parsed.username || parsed.password) return 'baseUrlCredentials';
  if (/[?#]/.test(value)) return 'baseUrlQuery';
  return 'baseUrlInvalid';
}

/** The request body the controls describe; the contract then checks it as the route will. */
function toRequest(v: FormShape, runtimeLocked: boolean): AgentFormValues {
  const values = { name: v.name, avatar_color: v.avatar_color.toLowerCase() };
  if (runtimeLocked) return values;
  const r = v.runtime;
  if (r.kind === 'none') return { ...values, runtime: null };
  if (r.kind === 'echo') return { ...values, runtime: { kind: 'echo' } };
  // Without a new key the server keeps the stored one (same server only).
  return { ...values, runtime: { kind: 'openai', base_url: r.base_url.trim(), model: r.model, stream: r.stream, ...(r.api_key ? { api_key: r.api_key } : {}) } };
}

function fromContract(o: { name?: string; avatar_color?: string; runtime?: RuntimeInput }): AgentFormValues {
  return { name: o.name ?? '', avatar_color: o.avatar_color ?? '', ...(o.runtime === undefined ? {} : { runtime: o.runtime }) };
}

/**
 * The route's own schema (create or update) over the request the form would send, plus one rule
 * only the form can check: a key is needed unless one is stored for the same server.
 */
function agentFormSchema({ editing, runtimeLocked, storedKeyOrigin }: { editing: boolean; runtimeLocked: boolean; storedKeyOrigin: string | null }) {
  const needsKey = (v: { runtime?: RuntimeInput }, ctx: z.RefinementCtx) => {
    const r = v.runtime;
    if (!r || r.kind !== 'openai' || r.api_key) return;
    if (storedKeyOrigin && originOf(r.base_url) === storedKeyOrigin) return;
    ctx.addIssue({ code: 'custom', path: ['runtime', 'api_key'], message: 'API key is required' });
  };
  const schema: z.ZodType<AgentFormValues, FormShape> = editing
    ? formShape
        .transform((v): z.input<typeof updateAgentInput> => toRequest(v, runtimeLocked))
        .pipe(updateAgentInput.superRefine(needsKey))
        .transform(fromContract)
    : formShape
        .transform((v): z.input<typeof createAgentInput> => toRequest(v, runtimeLocked))
        .pipe(createAgentInput.superRefine(needsKey))
        .transform(fromContract);
  return schema;
}

/**
 * Shows the server's field messages on their fields, as the kit's setServerErrors does, but for
 * nested paths too (`runtime.base_url`); true when at least one was shown.
 */
function showServerErrors(form: UseFormReturn<FormShape, unknown, AgentFormValues>, fields: Record<string, string>): boolean {
  let shown = false;
  for (const [name, message] of Object.entries(fields)) {
    if (!isFieldPath(name)) continue;
    form.setError(name, { type: 'server', message }, { shouldFocus: !shown });
    shown = true;
  }
  return shown;
}

const radioCardClassName = [
  'flex cursor-pointer items-start gap-2.5 rounded-md border border-input bg-card px-3 py-2.5 hover:bg-subtle',
  'has-[:checked]:border-primary has-[:checked]:bg-primary-soft',
  'has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-ring has-[:focus-visible]:ring-offset-2 has-[:focus-visible]:ring-offset-background',
].join(' ');

export function AgentForm({ agent, canConfigureRuntime, pending, error, fields, submitLabel, pendingLabel, onSubmit, onCancel }: Props) {
  const t = useTranslations('agents.form');
  const runtime = agent?.runtime ?? null;
  const openai = runtime?.kind === 'openai' ? runtime : null;
  // A member may not touch an agent's model endpoint, only choose between none and echo otherwise.
  const runtimeLocked = !canConfigureRuntime && runtime?.kind === 'openai';
  const storedKeyOrigin = openai?.has_api_key ? originOf(openai.base_url) : null;
  const kinds = canConfigureRuntime ? (['none', 'echo', 'openai'] as const) : (['none', 'echo'] as const);

  const schema = useMemo(() => agentFormSchema({ editing: Boolean(agent), runtimeLocked, storedKeyOrigin }), [agent, runtimeLocked, storedKeyOrigin]);
  const form = useForm<FormShape, unknown, AgentFormValues>({
    resolver: zodResolver(schema),
    defaultValues: {
      name: agent?.name ?? '',
      avatar_color: agent?.avatar_color ?? agentColors[0]!,
      runtime: {
        kind: runtime ? runtime.kind : agent ? 'none' : 'echo',
        base_url: openai?.base_url ?? 'https://api.openai.com/v1',
        model: openai?.model ?? '',
        api_key: '',
        stream: openai?.stream ?? false,
      },
    },
  });
  const [kind, baseUrl] = useWatch({ control: form.control, name: ['runtime.kind', 'runtime.base_url'] });
  const [replacingKey, setReplacingKey] = useState(false);

  // A saved key is only ever sent to the server it was entered for: another origin needs a new one.
  const hasKey = storedKeyOrigin !== null && originOf(baseUrl) === storedKeyOrigin;
  const showKeyInput = !hasKey || replacingKey;

  const shownOnFields = Object.keys(fields).some(isFieldPath);
  useEffect(() => {
    if (Object.keys(fields).length > 0) showServerErrors(form, fields);
  }, [fields, form]);

  const messages = {
    name: t('nameRequired'),
    avatar_color: t('colorInvalid'),
    'runtime.base_url': t(baseUrlProblem(baseUrl)),
    'runtime.model': t('modelRequired'),
    'runtime.api_key': openai?.has_api_key && !hasKey ? t('apiKeyNewServer') : t('apiKeyRequired'),
  };
  const runtimeError = form.formState.errors.runtime?.message;

  return (
    <Form {...form} messages={messages}>
      <form method="post" onSubmit={form.handleSubmit(onSubmit)} noValidate>
        <FormFieldset>
          {error && !shownOnFields ? <Alert>{error}</Alert> : null}
          <FormInputField control={form.control} name="name" label={t('name')} required maxLength={80} />

          <FormField
            control={form.control}
            name="avatar_color"
            render={({ field }) => (
              <FormItem>
                <fieldset className="m-0 flex min-w-0 flex-col gap-2 border-0 p-0">
                  <legend className="mb-2 p-0 text-[13px] leading-snug font-medium">{t('color')}</legend>
                  <div className="flex flex-wrap items-center gap-2">
                    {agentColors.map((c) => (
                      <button
                        key={c}
                        type="button"
                        className="size-[26px] cursor-pointer rounded-full border-2 border-card p-0 ring-1 ring-input aria-pressed:ring-2 aria-pressed:ring-foreground"
                        style={{ backgroundColor: c }}
                        aria-label={t('useColor', { color: c })}
                        aria-pressed={field.value.toLowerCase() === c}
                        onClick={() => field.onChange(c)}
                      />
                    ))}
                    <label className="inline-flex size-[30px] cursor-pointer overflow-hidden rounded-full ring-1 ring-input has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-ring">
                      <span className="sr-only">{t('customColor')}</span>
                      <input
                        ref={field.ref}
                        type="color"
                        className="-m-[7px] size-11 cursor-pointer border-0 p-0 focus-visible:outline-none"
                        value={hexColor.test(field.value) ? field.value : '#000000'}
                        onChange={(e) => field.onChange(e.target.value)}
                        onBlur={field.onBlur}
                      />
                    </label>
                  </div>
                  <FormMessage />
                </fieldset>
              </FormItem>
            )}
          />

          {runtimeLocked && openai ? (
            <div className="flex flex-col gap-2" data-section="runtime-locked">
              <p className="text-[13px] leading-snug font-medium">{t('runtime')}</p>
              <dl className="grid grid-cols-[max-content_minmax(0,1fr)] gap-x-5 gap-y-2 [&_dd]:[overflow-wrap:anywhere] [&_dt]:text-muted-foreground">
                <dt>{t('runtime_openai')}</dt>
                <dd className="font-mono text-[13px]">{openai.model}</dd>
                <dt>{t('baseUrl')}</dt>
                <dd className="font-mono text-[13px]">{openai.base_url}</dd>
                <dt>{t('apiKey')}</dt>
                <dd>{openai.has_api_key ? t('apiKeySet') : t('apiKeyNotSet')}</dd>
              </dl>
              <p className="text-[12.5px] text-muted-foreground">{t('runtimeAdminsOnly')}</p>
            </div>
          ) : (
            <FormField
              control={form.control}
              name="runtime.kind"
              render={({ field }) => (
                <FormItem>
                  <fieldset className="m-0 flex min-w-0 flex-col gap-2 border-0 p-0">
                    <legend className="mb-2 p-0 text-[13px] leading-snug font-medium">{t('runtime')}</legend>
                    <div className="grid grid-cols-[repeat(auto-fit,minmax(170px,1fr))] gap-2">
                      {kinds.map((k, i) => (
                        <label key={k} className={radioCardClassName}>
                          <input
                            ref={i === 0 ? field.ref : undefined}
                            type="radio"
                            name="runtime"
                            value={k}
                            className="mt-[3px] cursor-pointer accent-primary focus-visible:outline-none"
                            checked={field.value === k}
                            onChange={() => field.onChange(k)}
                            onBlur={field.onBlur}
                          />
                          <span className="flex flex-col">
                            <span className="font-medium">{t(`runtime_${k}`)}</span>
                            <span className="text-[12.5px] text-muted-foreground">{t(`runtime_${k}_hint`)}</span>
                          </span>
                        </label>
                      ))}
                    </div>
                    {canConfigureRuntime ? null : <p className="text-[12.5px] text-muted-foreground">{t('runtimeAdminsOnly')}</p>}
                    <FormMessage>{runtimeError}</FormMessage>
                  </fieldset>
                </FormItem>
              )}
            />
          )}

          {kind === 'openai' && !runtimeLocked ? (
            <div className="flex flex-col gap-3.5 rounded-md border bg-subtle p-3.5">
              <FormField
                control={form.control}
                name="runtime.base_url"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>{t('baseUrl')}</FormLabel>
                    <FormControl>
                      <Input type="url" required spellCheck={false} autoCapitalize="none" {...field} name="base_url" />
                    </FormControl>
                    <FormDescription>{t('baseUrlHint')}</FormDescription>
                    <FormMessage />
                  </FormItem>
                )}
              />
              <FormField
                control={form.control}
                name="runtime.model"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>{t('model')}</FormLabel>
                    <FormControl>
                      <Input required spellCheck={false} autoCapitalize="none" placeholder="gpt-4o-mini" {...field} name="model" />
                    </FormControl>
                    <FormMessage />
                  </FormItem>
                )}
              />
              {showKeyInput ? (
                <FormField
                  control={form.control}
                  name="runtime.api_key"
                  render={({ field }) => (
                    <FormItem>
                      <FormLabel>{t('apiKey')}</FormLabel>
                      <FormControl>
                        <Input type="password" autoComplete="off" spellCheck={false} {...field} name="api_key" />
                      </FormControl>
                      <FormDescription>
                        {hasKey ? t('apiKeyReplaceHint') : openai?.has_api_key ? t('apiKeyNewServer') : t('apiKeyHint')}
                      </FormDescription>
                      <FormMessage />
                    </FormItem>
                  )}
                />
              ) : (
                <FormField
                  control={form.control}
                  name="runtime.api_key"
                  render={() => (
                    <FormItem data-section="api-key-set">
                      <p className="text-[13px] leading-snug font-medium">{t('apiKey')}</p>
                      <p className="flex flex-wrap items-center gap-2">
                        <Badge variant="success">{t('apiKeySet')}</Badge>
                        <Button type="button" variant="ghost" onClick={() => setReplacingKey(true)}>
                          {t('apiKeyReplace')}
                        </Button>
                      </p>
                      <FormDescription>{t('apiKeySaved')}</FormDescription>
                      <FormMessage />
                    </FormItem>
                  )}
                />
              )}
              <FormField
                control={form.control}
                name="runtime.stream"
                render={({ field }) => (
                  <label className="inline-flex cursor-pointer items-center gap-2 self-start select-none">
                    <input
                      ref={field.ref}
                      type="checkbox"
                      className="m-0 size-[15px] cursor-pointer accent-primary"
                      checked={field.value}
                      onChange={(e) => field.onChange(e.target.checked)}
                      onBlur={field.onBlur}
                    />
                    <span>{t('stream')}</span>
                  </label>
                )}
              />
            </div>
          ) : null}

          <div className="flex flex-wrap items-center gap-2">
            <Button type="submit" disabled={pending}>
              {pending ? pendingLabel : submitLabel}
            </Button>
            {onCancel ? (
              <Button type="button" variant="ghost" onClick={onCancel} disabled={pending}>
                {t('cancel')}
              </Button>
            ) : null}
          </div>
        </FormFieldset>
      </form>
    </Form>
  );
}
