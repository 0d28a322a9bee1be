import OpenAI from 'openai';
import { blockedEndpointCause, type GuardedFetch } from '../../net/guarded-fetch';
import { turnText } from './turn-text';
import type { AgentRuntime, ChatTurn } from './types';

/**
 * A failed run, told three ways: `message` is safe to show anyone who can read the chat (what kind
 * of failure, never the endpoint's words), `detail` is for workspace admins (status, category, the
 * endpoint without credentials), `upstream` is the endpoint's own text, for the operator's logs only.
 */
export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly detail: string,
    readonly upstream?: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export type OpenAiEndpoint = { baseUrl: string; model: string; apiKey: string; stream: boolean };

/** The endpoint as admins may see it: no user name, password, query or fragment. */
export function displayEndpoint(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'the configured endpoint';
  }
}

// Error codes are identifiers (`invalid_api_key`); anything longer or freer is the endpoint's prose.
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

function upstreamCode(err: InstanceType<typeof OpenAI.APIError>): string | null {
  const body = err.error as { code?: unknown; type?: unknown } | undefined;
  for (const v of [body?.code, body?.type]) if (typeof v === 'string' && ERROR_CODE.test(v)) return v;
  return null;
}

function causeCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && ERROR_CODE.test(code)) return code;
  }
  return null;
}

/** Never includes the API key, request headers or the endpoint's response body (outside `upstream`). */
export function describeFailure(err: unknown, baseUrl: string): RuntimeError {
  const endpoint = displayEndpoint(baseUrl);
  const blocked = blockedEndpointCause(err);
  if (blocked) {
    return new RuntimeError(
      'The model endpoint is not allowed from this server',
      `${endpoint} is not a public address (${blocked.range.replace('_', '-')}); the server operator can allow it with AGENT_ENDPOINT_ALLOWLIST`,
      blocked.message,
    );
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new RuntimeError('The model endpoint did not answer in time', `timeout calling ${endpoint}`);
  if (err instanceof OpenAI.APIConnectionError) {
    const code = causeCode(err);
    return new RuntimeError('Could not reach the model endpoint', `cannot connect to ${endpoint}${code ? `: ${code}` : ''}`);
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 'error';
    const code = upstreamCode(err);
    const redirect = typeof err.status === 'number' && err.status >= 300 && err.status < 400 ? ' (redirects are not followed)' : '';
    const upstream = ((err.error as { message?: unknown } | undefined)?.message ?? err.message) as unknown;
    return new RuntimeError(
      `The model endpoint answered HTTP ${status}`,
      `${endpoint} answered HTTP ${status}${code ? ` (${code})` : ''}${redirect}`,
      String(upstream).slice(0, 500),
    );
  }
  return new RuntimeError('The agent run failed', 'unexpected failure while calling the model endpoint', err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500));
}

/** A turn for the chat completions API: images of a user's message as image parts (vision models), everything else as text. */
export function toModelMessage(turn: ChatTurn): OpenAI.Chat.ChatCompletionMessageParam {
  const text = turnText(turn);
  if (turn.role === 'assistant') return { role: 'assistant', content: text };
  if (!turn.images?.length) return { role: 'user', content: text };
  return {
    role: 'user',
    content: [
      { type: 'text', text: text || '(image)' },
      ...turn.images.map((image) => ({ type: 'image_url' as const, image_url: { url: `data:${image.contentType};base64,${image.dataBase64}` } })),
    ],
  };
}

export function openAiRuntime(endpoint: OpenAiEndpoint, opts: { timeoutMs: number; fetch: GuardedFetch }): AgentRuntime {
  const client = new OpenAI({
    baseURL: endpoint.baseUrl,
    apiKey: endpoint.apiKey,
    // Explicit, so the SDK never falls back to the server's own OPENAI_* variables for an endpoint a user chose.
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    timeout: opts.timeoutMs,
    maxRetries: 1,
    fetch: opts.fetch,
  });
  return {
    async run({ agentName, history, signal, onText }) {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: `You are ${agentName}, an AI teammate in a workspace chat. Answer helpfully and concisely.` },
        ...history.map(toModelMessage),
      ];
      try {
        if (endpoint.stream) {
          const stream = await client.chat.completions.create({ model: endpoint.model, messages, stream: true }, { signal });
          let text = '';
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta?.content ?? '';
            if (delta.length === 0) continue;
            text += delta;
            onText?.(text);
          }
          return text;
        }
        const completion = await client.chat.completions.create({ model: endpoint.model, messages }, { signal });
        return completion.choices[0]?.message?.content ?? '';
      } catch (err) {
        if (signal.aborted) throw err;
        throw describeFailure(err, endpoint.baseUrl);
      }
    },
  };
}
