import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { AgentDetail } from '@/components/agents/agent-detail';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('agents');
  return { title: t('title') };
}

export default async function AgentPage({ params }: { params: Promise<{ agentId: string }> }) {
  const { agentId } = await params;
  return <AgentDetail key={agentId} agentId={agentId} />;
}
