import { describe, expect, it } from 'vitest';
import { demoBanner } from './instructions';
import type { DemoSeed } from './seed';

const seed: DemoSeed = {
  owner: { email: 'demo@larkspur.local', password: 'pw-123456789', token: 'token' },
  workspace: { id: 'ws-1', name: 'Demo', slug: 'demo', issue_prefix: 'MUL' },
  agents: [
    { id: 'agent-ada', name: 'Ada', avatar_color: '#8e4ec6', archived_at: null },
    { id: 'agent-linus', name: 'Linus', avatar_color: '#12a594', archived_at: null },
  ],
  team: {
    tenantKey: 'tenant-1',
    users: [
      { id: 'usr_mei', name: 'Mei Chen' },
      { id: 'usr_sam', name: 'Sam Park' },
      { id: 'usr_priya', name: 'Priya Rao' },
    ],
    groupChatId: 'oc_1',
  },
};
const page = { appUrl: 'http://localhost:3000', simUrl: 'http://127.0.0.1:4010', seed, dataDir: '.data/demo' };
const installation = (name: string, status: string, region = 'feishu') => ({ app_id: `cli_${name}`, status, region, agent: { name } });

describe('the banner a demo start prints', () => {
  it('walks a first run through binding a bot and linking an account by clicking', () => {
    const text = demoBanner({ ...page, installations: [] });
    expect(text).toContain('Walkthrough');
    expect(text).toContain('http://localhost:3000/w/demo/agents/agent-ada');
    expect(text).toContain('approve in the simulator as Mei Chen');
    expect(text).toContain('click "Connect account"');
    expect(text).toContain('sign in as demo@larkspur.local / pw-123456789');
  });

  it('still walks through it when the only bot was disconnected', () => {
    expect(demoBanner({ ...page, installations: [installation('Ada', 'revoked')] })).toContain('Walkthrough');
  });

  it('welcomes back, with the addresses and the bound bots, once a bot is bound', () => {
    const text = demoBanner({ ...page, installations: [installation('Ada', 'active'), installation('Linus', 'active', 'lark'), installation('Old', 'revoked')] });
    expect(text).toContain('Welcome back');
    expect(text).not.toContain('Walkthrough');
    expect(text).toContain('http://localhost:3000   sign in as demo@larkspur.local / pw-123456789');
    expect(text).toContain('http://127.0.0.1:4010/');
    expect(text).toContain('Bots    Ada (feishu), Linus (lark)');
    expect(text).not.toContain('Old');
  });
});
