'use client';

import { useTranslations } from 'next-intl';
import { EmptyState } from '@/components/ui/empty-state';

export function IntegrationsSettings() {
  const t = useTranslations('settings.integrations');
  return (
    <section className="card" data-section="integrations" aria-labelledby="integrations-title">
      <h2 id="integrations-title" className="card-title">
        {t('title')}
      </h2>
      <EmptyState title={t('empty')} body={t('emptyBody')} />
    </section>
  );
}
