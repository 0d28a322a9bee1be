'use client';

import { useTranslations } from 'next-intl';
import { Badge } from '@/components/ui/badge';
import type { MemberRole } from '@/server/contract/members';

/** Owners stand out in the brand colour; admins and members stay neutral. */
export function RoleBadge({ role }: { role: MemberRole }) {
  const t = useTranslations('roles');
  return <Badge variant={role === 'owner' ? 'default' : 'secondary'}>{t(role)}</Badge>;
}
