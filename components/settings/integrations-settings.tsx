'use client';

import { LarkIntegrations } from '@/components/lark/lark-integrations';

export function IntegrationsSettings() {
  return (
    <div className="flex flex-col gap-5" data-section="integrations">
      <LarkIntegrations />
    </div>
  );
}
