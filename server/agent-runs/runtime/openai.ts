import OpenAI from 'openai';
import type { OpenAiRuntimeConfig } from '../../db/schema';
import type { AgentRuntime } from './types';

/**
 * A failed run, told two ways: `message` is safe to show anyone who can read the chat (what kind of
 * failure, never the endpoint's words), `detail` is for logs and admins.
 */
export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** Never includes the API key or request headers; the endpoint's own text stays in `detail`. */
function describeFailure(err: unknown, baseUrl: string): RuntimeError {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new RuntimeError('The model endpoint did not answer in time', `timeout calling ${baseUrl}`);
  if (err instanceof OpenAI.APIConnectionError) return new RuntimeError('Could not reach the model endpoint', `cannot connect to ${baseUrl}: ${err.message}`);
  if (err instanceof OpenAI.APIError) {
    const detail = (err.error as { message?: string } | undefined)?.message ?? err.message;
    return new RuntimeError(`The model endpoint answered HTTP ${err.status ?? 'error'}`, `${baseUrl} answered ${err.status ?? 'with an error'}: ${detail}`.slice(0, 2000));
  }
  return new RuntimeError('The agent run failed', err instanceof Error ? err.message : String(err));
}

export function openAiRuntime(config: OpenAiRuntimeConfig, opts: { timeoutMs: number }): AgentRuntime {
  const client = new OpenAI({ baseURL: config.baseUrl, apiKey: config.apiKey, timeout: opts.timeoutMs, maxRetries: 1 });
  return {
    async run({ agentName, history, signal }) {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: `You are ${agentName}, an AI teammate in a workspace chat. Answer helpfully and concisely.` },
        ...history.map((t) => ({ role: t.role, content: t.content })),
      ];
      try {
        if (config.stream) {
          const stream = await client.chat.completions.create({ model: config.model, messages, stream: true }, { signal });
          let text = '';
          for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
          return text;
        }
        const completion = await client.chat.completions.create({ model: config.model, messages }, { signal });
        return completion.choices[0]?.message?.content ?? '';
      } catch (err) {
        if (signal.aborted) throw err;
        throw describeFailure(err, config.baseUrl);
      }
    },
  };
}
