import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { AgentsList } from '@/components/agents/agents-list';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('agents');
  return { title: t('title') };
}

export default function AgentsPage() {
  return <AgentsList />;
}
