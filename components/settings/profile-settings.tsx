'use client';

import { useTranslations } from 'next-intl';
import { useMe } from '@/components/api/queries';
import { LanguageSwitcher } from '@/components/auth/language-switcher';
import { MyLarkAccounts } from '@/components/lark/linked-accounts';
import { useWorkspace } from '@/components/providers/workspace-provider';
import { Card, CardHeader, CardTitle } from '@/components/ui/card';

/** Settings → Your account: who you are, your language, and the Lark accounts you linked in this workspace. */
export function ProfileSettings() {
  const t = useTranslations('settings.profile');
  const { user } = useWorkspace();
  const me = useMe();
  const name = me.data?.user.name ?? user.name;
  const email = me.data?.user.email ?? user.email;
  return (
    <div className="flex flex-col gap-5" data-section="profile">
      <Card role="region" aria-labelledby="profile-title">
        <CardHeader>
          <CardTitle id="profile-title">{t('title')}</CardTitle>
        </CardHeader>
        <dl className="grid grid-cols-[max-content_minmax(0,1fr)] items-center gap-x-5 gap-y-2">
          <dt className="text-muted-foreground">{t('name')}</dt>
          <dd className="[overflow-wrap:anywhere]">{name}</dd>
          <dt className="text-muted-foreground">{t('email')}</dt>
          <dd className="[overflow-wrap:anywhere]">{email}</dd>
        </dl>
        <div className="max-w-xs">
          <LanguageSwitcher signedIn />
        </div>
      </Card>
      <MyLarkAccounts />
    </div>
  );
}
