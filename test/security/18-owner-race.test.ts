// Attack (or accident): the only two owners demote each other at the same moment. One change wins
// and the other is told why with a 409; never a deadlock surfacing as a 500, never no owner at all.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as workspaces from '@/app/api/workspaces/route';
import * as memberOne from '@/app/api/workspaces/[id]/members/[userId]/route';
import { call, signUp, type TestUser } from '../api';
import { useTestDatabase, type TestDatabase } from '../db';

let t: TestDatabase;
let ada: TestUser;
let bob: TestUser;
let wsId: string;

beforeAll(async () => {
  t = await useTestDatabase();
  ada = await signUp('Ada');
  bob = await signUp('Bob');
  wsId = (await call(workspaces.POST, 'POST', { token: ada.token, body: { name: 'Race', slug: 'race-team', issue_prefix: 'RC' } })).body.workspace.id;
  await t.pool.query(`INSERT INTO member (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`, [wsId, bob.id]);
});
afterAll(async () => t?.drop());

const demote = (actor: TestUser, target: TestUser) =>
  call(memberOne.PATCH, 'PATCH', { token: actor.token, params: { id: wsId, userId: target.id }, body: { role: 'admin' } });

describe('two owners demoting each other at once', () => {
  test('one succeeds, the other gets a 409, and an owner remains', async () => {
    let raced = 0;
    for (let round = 0; round < 10; round++) {
      await t.pool.query(`UPDATE member SET role = 'owner' WHERE workspace_id = $1`, [wsId]);
      const [a, b] = await Promise.all([demote(ada, bob), demote(bob, ada)]);
      const statuses = [a.status, b.status].sort();
      // 403 when the loser's request was checked only after the winner committed: by then the
      // loser was no longer an owner. Both checked while both were owners: the 409 under test.
      expect([[200, 409], [200, 403]], `round ${round}: ${JSON.stringify([a.body, b.body])}`).toContainEqual(statuses);
      const loser = a.status === 200 ? b : a;
      if (loser.status === 409) {
        raced += 1;
        expect(loser.body.error.code).toBe('conflict');
      }
      const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM member WHERE workspace_id = $1 AND role = 'owner'`, [wsId]);
      expect(rows[0].n).toBe(1);
    }
    expect(raced).toBeGreaterThan(0);
  });
});
