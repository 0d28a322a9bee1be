import { afterAll, beforeAll, expect, test } from 'vitest';
import { agentTask, chatMessage, larkInstallation } from '@/server/db/schema';
import { StreamCardRows } from '@/server/lark/outbound/stream-card-rows';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../seed';

// The card rows of many answers streaming at once are written, read and closed together, and one
// row the database refuses fails only its own card.

let t: TestDatabase;
let ws: { id: string };
let installationId: string;
const taskIds: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  const owner = await seedUser(t.db);
  ws = await seedWorkspace(t.db, owner.id);
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id });
  const session = await seedSession(t.db, { workspaceId: ws.id, agentId: agent.id, creatorUserId: owner.id });
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId: agent.id, appId: 'cli_streamrows01', appSecretCiphertext: 'v1:x', botOpenId: 'ou_bot', installerUserId: owner.id })
    .returning();
  installationId = inst.id;
  for (let i = 0; i < 40; i++) {
    const [message] = await t.db.insert(chatMessage).values({ workspaceId: ws.id, sessionId: session.id, role: 'user', content: `q${i}`, authorUserId: owner.id }).returning();
    const [task] = await t.db.insert(agentTask).values({ workspaceId: ws.id, agentId: agent.id, sessionId: session.id, triggerMessageId: message.id }).returning();
    taskIds.push(task.id);
  }
});

afterAll(async () => {
  await t?.drop();
});

test('forty answers streaming at once write, read and close their cards in a handful of statements', async () => {
  const rows = new StreamCardRows(t.db);
  const card = (i: number) => ({ workspaceId: ws.id, installationId, taskId: taskIds[i], attempt: 1, part: 0, cardId: `card_${i}` });
  await Promise.all(taskIds.map((_, i) => rows.add(card(i))));
  await Promise.all(taskIds.map((_, i) => rows.sent(`card_${i}`, `om_${i}`)));
  const read = await Promise.all(taskIds.map((id) => rows.ofTask(id)));
  expect(read.map((r) => r.map((c) => [c.card_id, c.lark_message_id, c.state]))).toEqual(taskIds.map((_, i) => [[`card_${i}`, `om_${i}`, 'open']]));
  await Promise.all(taskIds.map((_, i) => rows.close(`card_${i}`, i % 2 === 0 ? 'finished' : 'interrupted')));
  // A card closed already keeps its state.
  await rows.close('card_0', 'interrupted');

  const states = await t.pool.query<{ card_id: string; state: string; closed: boolean }>(
    `SELECT card_id, state, closed_at IS NOT NULL AS closed FROM lark_stream_card WHERE workspace_id = $1 ORDER BY card_id`,
    [ws.id],
  );
  expect(states.rows).toHaveLength(40);
  for (const row of states.rows) {
    const i = Number(row.card_id.slice(5));
    expect(row).toEqual({ card_id: row.card_id, state: i % 2 === 0 ? 'finished' : 'interrupted', closed: true });
  }
  for (const [kind, statements] of Object.entries(rows.statements())) expect(statements, kind).toBeLessThanOrEqual(2);
});

test('a card the database refuses (its part taken already) fails alone; the others of its group are written', async () => {
  const rows = new StreamCardRows(t.db);
  const results = await Promise.allSettled([
    rows.add({ workspaceId: ws.id, installationId, taskId: taskIds[1], attempt: 2, part: 0, cardId: 'card_a' }),
    rows.add({ workspaceId: ws.id, installationId, taskId: taskIds[1], attempt: 2, part: 0, cardId: 'card_b' }),
    rows.add({ workspaceId: ws.id, installationId, taskId: taskIds[2], attempt: 2, part: 0, cardId: 'card_c' }),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  const written = await t.pool.query<{ card_id: string }>(`SELECT card_id FROM lark_stream_card WHERE attempt = 2 ORDER BY card_id`);
  expect(written.rows.map((r) => r.card_id)).toEqual(['card_a', 'card_c']);
});
