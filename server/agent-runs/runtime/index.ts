import type { agent, OpenAiRuntimeConfig } from '../../db/schema';
import { echoRuntime } from './echo';
import { openAiRuntime } from './openai';
import type { AgentRuntime } from './types';

export function runtimeFor(a: typeof agent.$inferSelect, opts: { timeoutMs: number }): AgentRuntime | null {
  if (a.runtimeKind === 'echo') return echoRuntime;
  if (a.runtimeKind === 'openai') return openAiRuntime(a.runtimeConfig as OpenAiRuntimeConfig, opts);
  return null;
}
