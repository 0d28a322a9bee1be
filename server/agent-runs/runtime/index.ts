import { ModelKeyError, openModelKey } from '../../crypto/model-key';
import type { SecretBox } from '../../crypto/secretbox';
import type { agent, OpenAiRuntimeConfig } from '../../db/schema';
import type { GuardedFetch } from '../../net/guarded-fetch';
import { echoDelayOf, echoRuntime, echoWordDelayOf } from './echo';
import { openAiRuntime, RuntimeError } from './openai';
import type { AgentRuntime } from './types';

export type RuntimeDeps = {
  timeoutMs: number;
  /** The only way a runtime reaches the network: public addresses and the operator's allowlist. */
  fetch: GuardedFetch;
  /** Opens sealed model keys; null when the server has no LARK_SECRET_KEY. */
  box: SecretBox | null;
};

const unreadableKey = 'The model API key cannot be read on this server';

/** The key to send, or why there is none. A sealed key opens only for the origin it was entered for. */
function modelKey(config: OpenAiRuntimeConfig, box: SecretBox | null): string | RuntimeError {
  if (config.apiKeyCiphertext) {
    if (!box) return new RuntimeError(unreadableKey, 'LARK_SECRET_KEY is not set on the worker; an admin must set it or enter the key again');
    try {
      return openModelKey(box, config.apiKeyCiphertext, config.baseUrl);
    } catch (err) {
      if (err instanceof ModelKeyError) return new RuntimeError(unreadableKey, `${err.message}; an admin must enter the key again`);
      throw err;
    }
  }
  if (config.apiKey) return config.apiKey;
  return new RuntimeError('No API key is set for the model endpoint', 'an admin must enter the API key in the agent settings');
}

const failing = (error: RuntimeError): AgentRuntime => ({
  run: () => Promise.reject(error),
});

export function runtimeFor(a: typeof agent.$inferSelect, deps: RuntimeDeps): AgentRuntime | null {
  if (a.runtimeKind === 'echo') return echoRuntime(echoDelayOf(a.runtimeConfig), echoWordDelayOf(a.runtimeConfig));
  if (a.runtimeKind === 'openai') {
    const config = a.runtimeConfig as OpenAiRuntimeConfig;
    const apiKey = modelKey(config, deps.box);
    if (apiKey instanceof RuntimeError) return failing(apiKey);
    return openAiRuntime({ baseUrl: config.baseUrl, model: config.model, apiKey, stream: config.stream }, { timeoutMs: deps.timeoutMs, fetch: deps.fetch });
  }
  return null;
}
