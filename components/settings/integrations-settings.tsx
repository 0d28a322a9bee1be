'use client';

import { LarkIntegrations } from '@/components/lark/lark-integrations';

export function IntegrationsSettings() {
  return (
    <div className="stack-lg" data-section="integrations">
      <LarkIntegrations />
    </div>
  );
}
