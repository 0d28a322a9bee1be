import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { NewChat } from '@/components/chat/new-chat';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('chat');
  return { title: t('title') };
}

export default async function ChatPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { agent } = await searchParams;
  return <NewChat initialAgentId={typeof agent === 'string' ? agent : undefined} />;
}
