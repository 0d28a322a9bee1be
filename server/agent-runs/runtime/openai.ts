import OpenAI from 'openai';
import type { OpenAiRuntimeConfig } from '../../db/schema';
import type { AgentRuntime } from './types';

/** Readable failure text for the task row; never includes the API key or request headers. */
function describeFailure(err: unknown, baseUrl: string): string {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return `The model endpoint at ${baseUrl} did not answer in time`;
  if (err instanceof OpenAI.APIConnectionError) return `Could not reach the model endpoint at ${baseUrl}`;
  if (err instanceof OpenAI.APIError) {
    const detail = (err.error as { message?: string } | undefined)?.message ?? err.message;
    return `The model endpoint answered ${err.status ?? 'with an error'}: ${detail}`.slice(0, 500);
  }
  return err instanceof Error ? err.message : String(err);
}

export class RuntimeError extends Error {}

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
        throw new RuntimeError(describeFailure(err, config.baseUrl));
      }
    },
  };
}
