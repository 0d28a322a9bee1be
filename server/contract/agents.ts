import { z } from 'zod';
import { personSchema, timestamp } from './shared';

const avatarColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'Use a colour like #4f46e5');
const agentName = z.string().trim().min(1, 'Name is required').max(80, 'Name is at most 80 characters');

function parsedUrl(v: string): URL | null {
  try {
    return new URL(v);
  } catch {
    return null;
  }
}

// Credentials in a URL end up in logs, screens and error messages: the key has its own write-only field.
const baseUrl = z
  .url({ protocol: /^https?$/, message: 'Base URL must be an http(s) URL' })
  .max(2000, 'Base URL is at most 2000 characters')
  .refine((v) => !parsedUrl(v)?.username && !parsedUrl(v)?.password, 'Base URL must not contain a user name or password: enter the key in the API key field')
  .refine((v) => !/[?#]/.test(v), 'Base URL must not contain a query string or fragment');

const openAiRuntimeInput = z.object({
  kind: z.literal('openai'),
  base_url: baseUrl,
  model: z.string().trim().min(1, 'Model is required').max(200),
  // Write-only. Left out on update: the stored key is kept while the base URL's origin stays the same.
  api_key: z.string().min(1, 'API key is required').max(500).optional(),
  stream: z.boolean().default(false),
});
/** The longest simulated model latency: the worker gives up on a run after AGENT_RUNTIME_TIMEOUT_MS (one minute by default). */
export const ECHO_MAX_DELAY_MS = 60_000;
const wholeMs = 'Delay must be a whole number of milliseconds';
const echoDelayMs = z
  .number({ error: wholeMs })
  .int(wholeMs)
  .min(0, 'Delay must be 0 ms or more')
  .max(ECHO_MAX_DELAY_MS, `Delay is at most ${ECHO_MAX_DELAY_MS} ms`);
/** The longest pause between two streamed words of an echo answer. */
export const ECHO_MAX_WORD_DELAY_MS = 2_000;
const echoWordDelayMs = z
  .number({ error: wholeMs })
  .int(wholeMs)
  .min(0, 'Delay must be 0 ms or more')
  .max(ECHO_MAX_WORD_DELAY_MS, `Delay between words is at most ${ECHO_MAX_WORD_DELAY_MS} ms`);
// delay_ms simulates a model's latency before its first word, word_delay_ms its pace while it streams.
// Left out on update, the stored delays are kept; 0 answers at once.
const echoRuntimeInput = z.object({ kind: z.literal('echo'), delay_ms: echoDelayMs.optional(), word_delay_ms: echoWordDelayMs.optional() });
/** null: no runtime, the agent is offline. Told apart by kind, so a bad field gets its own message. */
export const runtimeInput = z.discriminatedUnion('kind', [echoRuntimeInput, openAiRuntimeInput], { error: 'Runtime must be null or have kind echo or openai' }).nullable();
export type RuntimeInput = z.infer<typeof runtimeInput>;
/** What the agent form sends (`stream` may be left to its default). */
export type AgentRuntimeInput = z.input<typeof runtimeInput>;

export const createAgentInput = z.object({ name: agentName, avatar_color: avatarColor, runtime: runtimeInput.default(null) });
export type CreateAgentInput = z.infer<typeof createAgentInput>;
export const updateAgentInput = z
  .object({ name: agentName.optional(), avatar_color: avatarColor.optional(), runtime: runtimeInput.optional() })
  .refine((v) => Object.keys(v).length > 0, 'Nothing to update');
export type UpdateAgentInput = z.infer<typeof updateAgentInput>;

/** A runtime as the API shows it: never the API key, only whether one is stored. An instant echo has no delay_ms. */
export const agentRuntimeSchema = z.union([
  z.null(),
  z.object({ kind: z.literal('echo'), delay_ms: z.number().int().optional(), word_delay_ms: z.number().int().optional() }),
  z.object({ kind: z.literal('openai'), base_url: z.string(), model: z.string(), stream: z.boolean(), has_api_key: z.boolean() }),
]);

export const agentSchema = z.object({
  id: z.string(),
  name: z.string(),
  avatar_color: z.string(),
  owner: personSchema,
  runtime: agentRuntimeSchema,
  archived_at: timestamp.nullable(),
  created_at: timestamp,
  /** Whether the viewer may change it: its owner or a workspace admin. */
  can_edit: z.boolean(),
  /** Whether the viewer may connect it to a model endpoint or change that: workspace owners and admins. */
  can_configure_runtime: z.boolean(),
});
export type Agent = z.infer<typeof agentSchema>;

export const agentsResponse = z.object({ agents: z.array(agentSchema) });
export const agentResponse = z.object({ agent: agentSchema });
