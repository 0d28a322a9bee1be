'use client';

import { useMemo } from 'react';
import { useAgents } from '@/components/api/queries';
import type { Agent } from '@/server/contract/agents';

/** All agents of the workspace (archived ones too: old conversations still name them). */
export function useAgentMap(wsId: string) {
  const agents = useAgents(wsId, true);
  const map = useMemo(() => new Map<string, Agent>((agents.data ?? []).map((a) => [a.id, a])), [agents.data]);
  return { map, query: agents };
}
