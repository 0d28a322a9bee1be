/** An image the agent is shown (vision models): the bytes as base64 with their sniffed type. */
export type RunImage = { name: string | null; contentType: string; dataBase64: string; sizeBytes: number };

/**
 * A file or image that came with a message, as the agent is told of it: `text` when a text-like
 * file is inlined, `unavailable` (and why) when there are no bytes, else a description by name,
 * type and size.
 */
export type RunFile = {
  kind: 'image' | 'file' | 'audio' | 'video' | 'sticker';
  name: string | null;
  contentType: string | null;
  sizeBytes: number | null;
  text?: string;
  truncated?: boolean;
  unavailable?: string;
  /** Shown to the agent as an image part (see the turn's `images`). */
  shown?: boolean;
};

/**
 * One message of the conversation. `content` is what the person wrote; `files` what came with it;
 * `images` the images a vision model is shown; `context` what surrounded the question (a quoted
 * message, the recent group conversation), already delimited for the model.
 */
export type ChatTurn = {
  role: 'user' | 'assistant';
  content: string;
  /** The stored message (set for turns read from the database). */
  id?: string;
  /** How many attachments the stored message has. */
  attachments?: number;
  images?: RunImage[];
  files?: RunFile[];
  context?: string;
};

export type AgentRunInput = {
  agentName: string;
  history: ChatTurn[];
  signal: AbortSignal;
  /** Called with the whole answer so far each time it grows (streaming runtimes); cheap, never awaited. */
  onText?: (textSoFar: string) => void;
};

/** A file the agent produces for its answer: sent after the answer (Lark) and shown under it (web). */
export type AgentFile = { name: string; data: Buffer };

/**
 * What a run answers: its text, or its text with files. Images go in the text as markdown images:
 * `![alt](data:image/png;base64,...)` or a public URL (fetched and stored with the answer), and
 * reach Lark as uploaded images.
 */
export type AgentRunResult = string | { text: string; files?: AgentFile[] };

/** A runtime turns a conversation into the agent's next reply. It throws on failure. */
export type AgentRuntime = { run(input: AgentRunInput): Promise<AgentRunResult> };
