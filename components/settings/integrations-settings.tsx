'use client';

import { LarkIntegrations } from '@/components/lark/lark-integrations';
import { LarkLanguageSetting } from '@/components/lark/lark-language';

export function IntegrationsSettings() {
  return (
    <div className="flex flex-col gap-5" data-section="integrations">
      <LarkIntegrations />
      <LarkLanguageSetting />
    </div>
  );
}
