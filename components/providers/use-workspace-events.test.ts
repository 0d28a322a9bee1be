import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { keys } from '@/components/api/keys';
import { applyWorkspaceEvent } from './use-workspace-events';

function seeded() {
  const client = new QueryClient();
  const wsId = 'ws-1';
  client.setQueryData(keys.larkInstallations(wsId), { configured: true, install_supported: true, installations: [] });
  client.setQueryData(keys.larkInstallStatus(wsId, 's-1'), { status: 'pending' });
  client.setQueryData(keys.larkInstallStatus(wsId, 's-2'), { status: 'pending' });
  client.setQueryData(keys.members(wsId), []);
  const invalid = (key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated ?? false;
  return { client, wsId, invalid };
}

describe('applyWorkspaceEvent: Lark', () => {
  it('refetches the installations when they change', () => {
    const { client, wsId, invalid } = seeded();
    applyWorkspaceEvent(client, wsId, { type: 'lark.installations.changed' });
    expect(invalid(keys.larkInstallations(wsId))).toBe(true);
    expect(invalid(keys.larkInstallStatus(wsId, 's-1'))).toBe(false);
    expect(invalid(keys.members(wsId))).toBe(false);
  });

  it('refreshes only the install session that changed', () => {
    const { client, wsId, invalid } = seeded();
    applyWorkspaceEvent(client, wsId, { type: 'lark.registration.changed', session_id: 's-1' });
    expect(invalid(keys.larkInstallStatus(wsId, 's-1'))).toBe(true);
    expect(invalid(keys.larkInstallStatus(wsId, 's-2'))).toBe(false);
    expect(invalid(keys.larkInstallations(wsId))).toBe(false);
  });
});
