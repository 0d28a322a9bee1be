import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { IssueDetail } from '@/components/issues/issue-detail';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('issues');
  return { title: t('title') };
}

export default async function Page({ params }: { params: Promise<{ issueId: string }> }) {
  const { issueId } = await params;
  return <IssueDetail key={issueId} issueId={issueId} />;
}
