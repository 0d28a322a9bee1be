import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { SessionView } from '@/components/chat/session-view';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('chat');
  return { title: t('title') };
}

export default async function ChatSessionPage({ params }: { params: Promise<{ sessionId: string }> }) {
  const { sessionId } = await params;
  return <SessionView key={sessionId} sessionId={sessionId} />;
}
