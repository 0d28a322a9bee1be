import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { IssuesPage } from '@/components/issues/issues-page';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('issues');
  return { title: t('title') };
}

export default function Page() {
  return <IssuesPage />;
}
