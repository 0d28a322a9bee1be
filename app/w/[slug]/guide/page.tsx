import type { Metadata } from 'next';
import { getTranslations } from 'next-intl/server';
import { LarkGuide } from '@/components/lark/lark-guide';

export async function generateMetadata(): Promise<Metadata> {
  const t = await getTranslations('lark.guide');
  return { title: t('title') };
}

export default async function GuidePage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  return <LarkGuide base={`/w/${encodeURIComponent(slug)}`} />;
}
