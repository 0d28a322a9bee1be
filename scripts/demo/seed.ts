import type { HttpFetch } from './http';
import { ensureAgents, ensureOwner, ensureWorkspace, type AppTarget, type DemoAgent, type DemoOwner, type DemoWorkspace } from './seed-app';
import { ensureLarkTeam, type DemoLarkTeam } from './seed-lark';

export type DemoSeed = { owner: DemoOwner; workspace: DemoWorkspace; agents: DemoAgent[]; team: DemoLarkTeam };

/** Creates what the walkthrough needs, or finds it from an earlier run. */
export async function seedDemo(input: { app: AppTarget; sim: HttpFetch; credentialsFile: string }): Promise<DemoSeed> {
  const owner = await ensureOwner(input.app, input.credentialsFile);
  const workspace = await ensureWorkspace(input.app, owner.token);
  const agents = await ensureAgents(input.app, owner.token, workspace.id);
  const team = await ensureLarkTeam(input.sim);
  return { owner, workspace, agents, team };
}
