import { ECHO_MAX_DELAY_MS, ECHO_MAX_WORD_DELAY_MS } from '../../contract/agents';
import type { AgentRuntime } from './types';

/** The delay an echo agent's stored config asks for; anything unreadable means none, a row written by hand is capped. */
export function echoDelayOf(config: unknown): number {
  const value = (config as { delayMs?: unknown } | null)?.delayMs;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(ECHO_MAX_DELAY_MS, Math.floor(value));
}

/** The pause between streamed words an echo agent's stored config asks for; capped like the delay. */
export function echoWordDelayOf(config: unknown): number {
  const value = (config as { wordDelayMs?: unknown } | null)?.wordDelayMs;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(ECHO_MAX_WORD_DELAY_MS, Math.floor(value));
}

/** Resolves after `ms`; rejects with the signal's reason as soon as it aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function answer(agentName: string, last: string): string {
  const quoted = `You said: "${last}"`;
  if (/\bcode\b/i.test(last)) {
    return `${quoted}\n\nHere it is as code:\n\n\`\`\`text\n${last}\n\`\`\``;
  }
  if (/\b(list|markdown)\b/i.test(last)) {
    const words = last.split(/\s+/).filter(Boolean).slice(0, 5);
    return `${quoted}\n\n**${agentName}** broke it down:\n\n${words.map((w) => `- ${w}`).join('\n')}`;
  }
  return quoted;
}

/**
 * A deterministic runtime for demos, tests and load runs: it quotes the last message, and shows the
 * markdown path when asked for a list or code. `delayMs` stands in for a model's latency before its
 * first word; the answer then streams word by word, `wordDelayMs` apart.
 */
export function echoRuntime(delayMs = 0, wordDelayMs = 0): AgentRuntime {
  return {
    async run({ agentName, history, signal, onText }) {
      if (delayMs > 0) await wait(delayMs, signal);
      const last = [...history].reverse().find((t) => t.role === 'user')?.content ?? '';
      const full = answer(agentName, last);
      if (onText) {
        // Words with the whitespace before them, so every prefix is the answer as far as it goes.
        const words = full.match(/\s*\S+/g) ?? [];
        let sofar = '';
        for (const word of words) {
          if (wordDelayMs > 0 && sofar.length > 0) await wait(wordDelayMs, signal);
          sofar += word;
          onText(sofar);
        }
      }
      return full;
    },
  };
}
