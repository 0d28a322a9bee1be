import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { NewAgent } from '@/components/agents/new-agent';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('agents');
  return { title: t('newAgentTitle') };
}

export default function NewAgentPage() {
  return <NewAgent />;
}
