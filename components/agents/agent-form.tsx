'use client';

import { useTranslations } from 'next-intl';
import { useId, useState, type FormEvent } from 'react';
import type { Agent, AgentRuntimeInput } from '@/server/contract/agents';
import { Alert } from '@/components/ui/alert';
import { TextField } from '@/components/ui/field';
import { FormFieldset } from '@/components/ui/form-fieldset';

export const agentColors = ['#5b5bd6', '#0d74ce', '#12a594', '#30a46c', '#e5484d', '#f76b15', '#d6409f', '#8e4ec6', '#6f6e77'];

/** `runtime` is left out when the viewer may not change it, so saving a name never touches it. */
export type AgentFormValues = { name: string; avatar_color: string; runtime?: AgentRuntimeInput };

type RuntimeKind = 'none' | 'echo' | 'openai';

type Props = {
  agent?: Agent;
  /** Workspace owners and admins: model endpoints and their keys. Others choose between none and echo. */
  canConfigureRuntime: boolean;
  pending: boolean;
  error: string | null;
  fields: Record<string, string>;
  submitLabel: string;
  pendingLabel: string;
  onSubmit: (values: AgentFormValues) => void;
  onCancel?: () => void;
};

const hexColor = /^#[0-9a-fA-F]{6}$/;

function originOf(url: string): string | null {
  try {
    return new URL(url.trim()).origin;
  } catch {
    return null;
  }
}

function baseUrlProblem(url: string): 'baseUrlInvalid' | 'baseUrlCredentials' | 'baseUrlQuery' | null {
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
  return null;
}

export function AgentForm({ agent, canConfigureRuntime, pending, error, fields, submitLabel, pendingLabel, onSubmit, onCancel }: Props) {
  const t = useTranslations('agents.form');
  const runtime = agent?.runtime ?? null;
  const openai = runtime?.kind === 'openai' ? runtime : null;
  const [name, setName] = useState(agent?.name ?? '');
  const [color, setColor] = useState(agent?.avatar_color ?? agentColors[0]!);
  const [kind, setKind] = useState<RuntimeKind>(runtime ? runtime.kind : agent ? 'none' : 'echo');
  const [baseUrl, setBaseUrl] = useState(openai?.base_url ?? 'https://api.openai.com/v1');
  const [model, setModel] = useState(openai?.model ?? '');
  const [apiKey, setApiKey] = useState('');
  const [replacingKey, setReplacingKey] = useState(false);
  const [stream, setStream] = useState(openai?.stream ?? false);
  const [local, setLocal] = useState<Record<string, string>>({});
  const colorId = useId();
  const streamId = useId();
  // A saved key is only ever sent to the server it was entered for: another origin needs a new one.
  const sameServer = openai !== null && originOf(baseUrl) === originOf(openai.base_url);
  const hasKey = Boolean(openai?.has_api_key) && sameServer;
  const showKeyInput = !hasKey || replacingKey;
  // A member may not touch an agent's model endpoint, only choose between none and echo otherwise.
  const runtimeLocked = !canConfigureRuntime && runtime?.kind === 'openai';
  const kinds = canConfigureRuntime ? (['none', 'echo', 'openai'] as const) : (['none', 'echo'] as const);

  function submit(e: FormEvent) {
    e.preventDefault();
    const problems: Record<string, string> = {};
    if (!name.trim()) problems.name = t('nameRequired');
    if (!hexColor.test(color)) problems.avatar_color = t('colorInvalid');
    if (kind === 'openai' && !runtimeLocked) {
      const urlProblem = baseUrlProblem(baseUrl);
      if (urlProblem) problems['runtime.base_url'] = t(urlProblem);
      if (!model.trim()) problems['runtime.model'] = t('modelRequired');
      if (!apiKey && !hasKey) problems['runtime.api_key'] = openai?.has_api_key && !sameServer ? t('apiKeyNewServer') : t('apiKeyRequired');
    }
    setLocal(problems);
    if (Object.keys(problems).length > 0) return;
    if (runtimeLocked) {
      onSubmit({ name: name.trim(), avatar_color: color.toLowerCase() });
      return;
    }
    let runtimeInput: AgentRuntimeInput = null;
    if (kind === 'echo') runtimeInput = { kind: 'echo' };
    if (kind === 'openai') {
      runtimeInput = { kind: 'openai', base_url: baseUrl.trim(), model: model.trim(), stream };
      // Without a new key the server keeps the stored one (same server only).
      if (apiKey) runtimeInput.api_key = apiKey;
    }
    onSubmit({ name: name.trim(), avatar_color: color.toLowerCase(), runtime: runtimeInput });
  }

  const errors = { ...fields, ...local };
  const runtimeError = errors.runtime ?? errors['runtime.kind'];
  return (
    <form method="post" onSubmit={submit} noValidate>
      <FormFieldset className="stack">
        {error ? <Alert>{error}</Alert> : null}
        <TextField label={t('name')} name="name" required maxLength={80} value={name} error={errors.name} onChange={(e) => setName(e.target.value)} />

        <fieldset className="fieldset">
          <legend className="field-label">{t('color')}</legend>
          <div className="color-row">
            {agentColors.map((c) => (
              <button
                key={c}
                type="button"
                className="swatch"
                style={{ backgroundColor: c }}
                aria-label={t('useColor', { color: c })}
                aria-pressed={color.toLowerCase() === c}
                onClick={() => setColor(c)}
              />
            ))}
            <label htmlFor={colorId} className="color-custom">
              <span className="visually-hidden">{t('customColor')}</span>
              <input id={colorId} type="color" value={hexColor.test(color) ? color : '#000000'} onChange={(e) => setColor(e.target.value)} />
            </label>
          </div>
          {errors.avatar_color ? <p className="field-error">{errors.avatar_color}</p> : null}
        </fieldset>

        {runtimeLocked && openai ? (
          <div className="fieldset" data-section="runtime-locked">
            <p className="field-label">{t('runtime')}</p>
            <dl className="details">
              <dt>{t('runtime_openai')}</dt>
              <dd className="mono">{openai.model}</dd>
              <dt>{t('baseUrl')}</dt>
              <dd className="mono">{openai.base_url}</dd>
              <dt>{t('apiKey')}</dt>
              <dd>{openai.has_api_key ? t('apiKeySet') : t('apiKeyNotSet')}</dd>
            </dl>
            <p className="field-hint">{t('runtimeAdminsOnly')}</p>
          </div>
        ) : (
          <fieldset className="fieldset">
            <legend className="field-label">{t('runtime')}</legend>
            <div className="radio-cards">
              {kinds.map((k) => (
                <label key={k} className="radio-card">
                  <input type="radio" name="runtime" value={k} checked={kind === k} onChange={() => setKind(k)} />
                  <span>
                    <span className="radio-card-title">{t(`runtime_${k}`)}</span>
                    <span className="radio-card-body">{t(`runtime_${k}_hint`)}</span>
                  </span>
                </label>
              ))}
            </div>
            {canConfigureRuntime ? null : <p className="field-hint">{t('runtimeAdminsOnly')}</p>}
            {runtimeError ? <p className="field-error">{runtimeError}</p> : null}
          </fieldset>
        )}

        {kind === 'openai' && !runtimeLocked ? (
          <div className="subform stack">
            <TextField
              label={t('baseUrl')}
              name="base_url"
              type="url"
              required
              spellCheck={false}
              autoCapitalize="none"
              value={baseUrl}
              hint={t('baseUrlHint')}
              error={errors['runtime.base_url']}
              onChange={(e) => setBaseUrl(e.target.value)}
            />
            <TextField
              label={t('model')}
              name="model"
              required
              spellCheck={false}
              autoCapitalize="none"
              placeholder="gpt-4o-mini"
              value={model}
              error={errors['runtime.model']}
              onChange={(e) => setModel(e.target.value)}
            />
            {showKeyInput ? (
              <TextField
                label={t('apiKey')}
                name="api_key"
                type="password"
                autoComplete="off"
                spellCheck={false}
                hint={hasKey ? t('apiKeyReplaceHint') : openai?.has_api_key ? t('apiKeyNewServer') : t('apiKeyHint')}
                value={apiKey}
                error={errors['runtime.api_key']}
                onChange={(e) => setApiKey(e.target.value)}
              />
            ) : (
              <div className="field" data-section="api-key-set">
                <p className="field-label">{t('apiKey')}</p>
                <p>
                  <span className="badge badge-success">{t('apiKeySet')}</span>{' '}
                  <button type="button" className="btn btn-ghost" onClick={() => setReplacingKey(true)}>
                    {t('apiKeyReplace')}
                  </button>
                </p>
                <p className="field-hint">{t('apiKeySaved')}</p>
                {errors['runtime.api_key'] ? <p className="field-error">{errors['runtime.api_key']}</p> : null}
              </div>
            )}
            <label htmlFor={streamId} className="checkbox">
              <input id={streamId} type="checkbox" checked={stream} onChange={(e) => setStream(e.target.checked)} />
              <span>{t('stream')}</span>
            </label>
          </div>
        ) : null}

        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={pending}>
            {pending ? pendingLabel : submitLabel}
          </button>
          {onCancel ? (
            <button type="button" className="btn btn-ghost" onClick={onCancel} disabled={pending}>
              {t('cancel')}
            </button>
          ) : null}
        </div>
      </FormFieldset>
    </form>
  );
}
