import type { AgentRuntime } from './types';

/**
 * A deterministic runtime for demos and tests: it quotes the last message, and shows the markdown
 * path when asked for a list or code.
 */
export const echoRuntime: AgentRuntime = {
  async run({ agentName, history }) {
    const last = [...history].reverse().find((t) => t.role === 'user')?.content ?? '';
    const quoted = `You said: "${last}"`;
    if (/\bcode\b/i.test(last)) {
      return `${quoted}\n\nHere it is as code:\n\n\`\`\`text\n${last}\n\`\`\``;
    }
    if (/\b(list|markdown)\b/i.test(last)) {
      const words = last.split(/\s+/).filter(Boolean).slice(0, 5);
      return `${quoted}\n\n**${agentName}** broke it down:\n\n${words.map((w) => `- ${w}`).join('\n')}`;
    }
    return quoted;
  },
};
