export type ChatTurn = { role: 'user' | 'assistant'; content: string };

export type AgentRunInput = {
  agentName: string;
  history: ChatTurn[];
  signal: AbortSignal;
  /** Called with the whole answer so far each time it grows (streaming runtimes); cheap, never awaited. */
  onText?: (textSoFar: string) => void;
};

/** A runtime turns a conversation into the agent's next reply. It throws on failure. */
export type AgentRuntime = { run(input: AgentRunInput): Promise<string> };
