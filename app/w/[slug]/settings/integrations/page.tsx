import { IntegrationsSettings } from '@/components/settings/integrations-settings';

export default function Page() {
  return <IntegrationsSettings />;
}
