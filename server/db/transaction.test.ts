import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { seedUser, seedWorkspace } from '@/test/seed';
import { createIssue, listIssues } from '../services/issues';

let t: TestDatabase;
let userId: string;
let workspaceId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  userId = (await seedUser(t.db)).id;
  workspaceId = (await seedWorkspace(t.db, userId)).id;
});
afterAll(async () => t?.drop());

const issueInput = () => ({ workspaceId, creatorUserId: userId, title: 'Composed', originType: 'web' as const });

test('a verb given a transaction runs in it, opening none of its own, and rolls back with it', async () => {
  await expect(
    t.db.transaction(async (tx) => {
      const nested = vi.spyOn(tx, 'transaction');
      await createIssue(tx, issueInput());
      expect(nested).not.toHaveBeenCalled();
      throw new Error('the caller fails after the verb');
    }),
  ).rejects.toThrow('the caller fails after the verb');
  expect(await listIssues(t.db, workspaceId)).toHaveLength(0);
});

test('a verb given the pool opens its own transaction', async () => {
  const opened = vi.spyOn(t.db, 'transaction');
  try {
    await createIssue(t.db, issueInput());
    expect(opened).toHaveBeenCalledTimes(1);
  } finally {
    opened.mockRestore();
  }
  expect(await listIssues(t.db, workspaceId)).toHaveLength(1);
});
