import { useTranslations } from 'next-intl';
import { cn } from '@/lib/utils';

export function Logo({ className }: { className?: string }) {
  const t = useTranslations('app');
  return (
    <span className={cn('inline-flex items-center gap-2 text-[15px] font-semibold text-foreground', className)}>
      <svg className="text-primary" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
        <path
          d="M12 2c1.8 2.2 2.4 4.3 1.6 6.4 2.3-.9 4.6-.6 6.6 1.1-2 .9-3.4 2.3-4.1 4.3-.8 2.4-2.1 4.1-4.1 5.2V22h-2v-3c-2-1.1-3.3-2.8-4.1-5.2C5.2 11.8 3.8 10.4 1.8 9.5c2-1.7 4.3-2 6.6-1.1C7.6 6.3 8.2 4.2 10 2c.7.9 1.4 1.6 2 2.3z"
          fill="currentColor"
        />
      </svg>
      <span>{t('name')}</span>
    </span>
  );
}
