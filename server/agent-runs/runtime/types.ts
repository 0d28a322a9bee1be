export type ChatTurn = { role: 'user' | 'assistant'; content: string };

export type AgentRunInput = { agentName: string; history: ChatTurn[]; signal: AbortSignal };

/** A runtime turns a conversation into the agent's next reply. It throws on failure. */
export type AgentRuntime = { run(input: AgentRunInput): Promise<string> };
