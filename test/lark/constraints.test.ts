import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { agentTask, attachment, chatMessage, larkInstallation } from '@/server/db/schema';
import { createTestDatabase, type TestDatabase } from '../db';
import { seedAgent, seedSession, seedUser, seedWorkspace } from '../seed';

// What the database itself refuses, whatever the code above it does: rows that reference another
// workspace's rows, and a second chat message for one Lark message.

let t: TestDatabase;
type Side = { workspaceId: string; ownerId: string; agentId: string; sessionId: string; messageId: string; installationId: string; taskId: string; attachmentId: string };
let a: Side;
let b: Side;
let outsiderId: string;

async function side(appId: string): Promise<Side> {
  const owner = await seedUser(t.db);
  const ws = await seedWorkspace(t.db, owner.id);
  const agent = await seedAgent(t.db, { workspaceId: ws.id, ownerUserId: owner.id });
  const session = await seedSession(t.db, { workspaceId: ws.id, agentId: agent.id, creatorUserId: owner.id });
  const [message] = await t.db.insert(chatMessage).values({ workspaceId: ws.id, sessionId: session.id, role: 'user', content: 'hi', authorUserId: owner.id }).returning();
  const [inst] = await t.db
    .insert(larkInstallation)
    .values({ workspaceId: ws.id, agentId: agent.id, appId, appSecretCiphertext: 'v1:x', botOpenId: 'ou_bot', installerUserId: owner.id })
    .returning();
  const [task] = await t.db.insert(agentTask).values({ workspaceId: ws.id, agentId: agent.id, sessionId: session.id, triggerMessageId: message.id }).returning();
  const [file] = await t.db.insert(attachment).values({ workspaceId: ws.id, chatMessageId: message.id, kind: 'image' }).returning();
  return { workspaceId: ws.id, ownerId: owner.id, agentId: agent.id, sessionId: session.id, messageId: message.id, installationId: inst.id, taskId: task.id, attachmentId: file.id };
}

/** Runs an insert that must fail, and returns the SQLSTATE and the constraint that stopped it. */
async function refusal(text: string, values: unknown[]): Promise<{ code: string; constraint: string }> {
  const client = await t.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(text, values);
    throw new Error(`the database accepted: ${text}`);
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (!e.code) throw err;
    return { code: e.code, constraint: e.constraint ?? '' };
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

beforeAll(async () => {
  t = await createTestDatabase();
  a = await side('cli_constraintsa1');
  b = await side('cli_constraintsb1');
  outsiderId = (await seedUser(t.db)).id;
});

afterAll(async () => {
  await t?.drop();
});

describe('composite foreign keys pin rows to their workspace', () => {
  // Each row claims workspace A but points at a row of workspace B (or at someone outside A).
  const crossings = (): Array<[string, string, unknown[]]> => [
    ['a chat session whose agent is in another workspace', `INSERT INTO chat_session (workspace_id, agent_id, creator_user_id, title) VALUES ($1, $2, $3, 't')`, [a.workspaceId, b.agentId, a.ownerId]],
    ['a chat message whose session belongs to another workspace', `INSERT INTO chat_message (workspace_id, session_id, role, content) VALUES ($1, $2, 'user', 'x')`, [a.workspaceId, b.sessionId]],
    [
      'an agent task whose agent is in another workspace',
      `INSERT INTO agent_task (workspace_id, agent_id, session_id, trigger_message_id) VALUES ($1, $2, $3, $4)`,
      [a.workspaceId, b.agentId, a.sessionId, a.messageId],
    ],
    [
      'an agent task whose session belongs to another workspace',
      `INSERT INTO agent_task (workspace_id, agent_id, session_id, trigger_message_id) VALUES ($1, $2, $3, $4)`,
      [a.workspaceId, a.agentId, b.sessionId, a.messageId],
    ],
    [
      'an installation whose agent is in another workspace',
      `INSERT INTO lark_installation (workspace_id, agent_id, app_id, app_secret_ciphertext, bot_open_id, installer_user_id) VALUES ($1, $2, 'cli_crossing1', 'v1:x', 'ou_x', $3)`,
      [a.workspaceId, b.agentId, a.ownerId],
    ],
    [
      'a Lark user binding to another workspace’s installation',
      `INSERT INTO lark_user_binding (workspace_id, installation_id, user_id, lark_open_id) VALUES ($1, $2, $3, 'ou_1')`,
      [a.workspaceId, b.installationId, a.ownerId],
    ],
    [
      'a Lark user binding for someone who is not a member',
      `INSERT INTO lark_user_binding (workspace_id, installation_id, user_id, lark_open_id) VALUES ($1, $2, $3, 'ou_2')`,
      [a.workspaceId, a.installationId, outsiderId],
    ],
    [
      'a Lark chat feeding another workspace’s session',
      `INSERT INTO lark_chat_session_binding (chat_session_id, workspace_id, installation_id, lark_chat_id, lark_chat_type) VALUES ($1, $2, $3, 'oc_1', 'p2p')`,
      [b.sessionId, a.workspaceId, a.installationId],
    ],
    [
      'a Lark chat of another workspace’s installation',
      `INSERT INTO lark_chat_session_binding (chat_session_id, workspace_id, installation_id, lark_chat_id, lark_chat_type) VALUES ($1, $2, $3, 'oc_2', 'p2p')`,
      [a.sessionId, a.workspaceId, b.installationId],
    ],
    [
      'an inbound Lark message of another workspace’s installation',
      `INSERT INTO lark_inbound_message (chat_message_id, workspace_id, installation_id, lark_message_id, lark_chat_id, sender_open_id) VALUES ($1, $2, $3, 'om_1', 'oc_1', 'ou_1')`,
      [a.messageId, a.workspaceId, b.installationId],
    ],
    [
      'an outbox row for another workspace’s installation',
      `INSERT INTO lark_outbox (workspace_id, installation_id, kind, receive_id_type, receive_id, body) VALUES ($1, $2, 'issue_usage', 'chat_id', 'oc_1', '{}')`,
      [a.workspaceId, b.installationId],
    ],
    [
      'a known Lark chat of another workspace’s installation',
      `INSERT INTO lark_chat (installation_id, workspace_id, lark_chat_id) VALUES ($1, $2, 'oc_known')`,
      [b.installationId, a.workspaceId],
    ],
    [
      'a streaming card of another workspace’s installation',
      `INSERT INTO lark_stream_card (workspace_id, installation_id, task_id, attempt, part, card_id) VALUES ($1, $2, gen_random_uuid(), 1, 0, 'card_x')`,
      [a.workspaceId, b.installationId],
    ],
    [
      'a binding token for another workspace’s installation',
      `INSERT INTO lark_binding_token (token_hash, workspace_id, installation_id, lark_open_id, expires_at) VALUES ($1, $2, $3, 'ou_1', now() + interval '5 minutes')`,
      ['a'.repeat(64), a.workspaceId, b.installationId],
    ],
    [
      'an install session for another workspace’s agent',
      `INSERT INTO lark_registration_session (workspace_id, agent_id, initiator_user_id, region, device_code_ciphertext, qr_code_url, interval_seconds, expires_at)
       VALUES ($1, $2, $3, 'feishu', 'v1:x', 'https://x', 5, now() + interval '5 minutes')`,
      [a.workspaceId, b.agentId, a.ownerId],
    ],
    [
      'an issue assigned to someone who is not a member',
      `INSERT INTO issue (workspace_id, number, title, creator_user_id, assignee_user_id) VALUES ($1, 9001, 't', $2, $3)`,
      [a.workspaceId, a.ownerId, outsiderId],
    ],
    [
      'an issue assigned to another workspace’s agent',
      `INSERT INTO issue (workspace_id, number, title, creator_user_id, assignee_agent_id) VALUES ($1, 9002, 't', $2, $3)`,
      [a.workspaceId, a.ownerId, b.agentId],
    ],
    [
      'an issue filed from another workspace’s chat session',
      `INSERT INTO issue (workspace_id, number, title, creator_user_id, origin_type, origin_chat_session_id) VALUES ($1, 9003, 't', $2, 'lark_chat', $3)`,
      [a.workspaceId, a.ownerId, b.sessionId],
    ],
    [
      'an issue filed through another workspace’s bot',
      `INSERT INTO issue (workspace_id, number, title, creator_user_id, origin_type, origin_lark_installation_id, origin_lark_chat_id) VALUES ($1, 9004, 't', $2, 'lark_chat', $3, 'oc_1')`,
      [a.workspaceId, a.ownerId, b.installationId],
    ],
    [
      'an install session that names another workspace’s installation',
      `INSERT INTO lark_registration_session (workspace_id, agent_id, initiator_user_id, region, device_code_ciphertext, qr_code_url, interval_seconds, expires_at, status, installation_id)
       VALUES ($1, $2, $3, 'feishu', 'v1:x', 'https://x', 5, now() + interval '5 minutes', 'success', $4)`,
      [a.workspaceId, a.agentId, a.ownerId, b.installationId],
    ],
    ['an attachment of another workspace’s message', `INSERT INTO attachment (workspace_id, chat_message_id, kind, position) VALUES ($1, $2, 'file', 9)`, [a.workspaceId, b.messageId]],
    ['an agent file of another workspace’s run', `INSERT INTO attachment (workspace_id, task_id, source, kind) VALUES ($1, $2, 'agent', 'file')`, [a.workspaceId, b.taskId]],
    ['bytes filed under another workspace’s attachment', `INSERT INTO attachment_chunk (attachment_id, workspace_id, seq, bytes) VALUES ($1, $2, 0, '\\x00')`, [b.attachmentId, a.workspaceId]],
    [
      'an upload record of another workspace’s bot',
      `INSERT INTO lark_uploaded_media (installation_id, workspace_id, source_key, kind, lark_key) VALUES ($1, $2, 'attachment:x', 'image', 'img_x')`,
      [b.installationId, a.workspaceId],
    ],
  ];

  test('every cross-workspace reference is refused with a foreign key violation', async () => {
    const hit = new Set<string>();
    for (const [what, text, values] of crossings()) {
      const { code, constraint } = await refusal(text, values);
      expect(code, what).toBe('23503');
      hit.add(constraint);
    }
    // Each case above is stopped by a different composite key, and together they are all of them:
    // a composite key that goes missing from the schema, or a new one without a case here, fails.
    const composite = await t.db.execute<{ name: string }>(`
      SELECT c.conname AS name FROM pg_constraint c
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND cardinality(c.conkey) > 1
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) AND a.attname = 'workspace_id')`);
    expect([...hit].sort()).toEqual(composite.rows.map((r) => r.name).sort());
    expect(hit.size).toBe(crossings().length);
  });

  test('the same rows inside one workspace are accepted (the cases above fail for the crossing alone)', async () => {
    const client = await t.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO chat_session (workspace_id, agent_id, creator_user_id, title) VALUES ($1, $2, $3, 't')`, [a.workspaceId, a.agentId, a.ownerId]);
      await client.query(`INSERT INTO chat_message (workspace_id, session_id, role, content) VALUES ($1, $2, 'user', 'x')`, [a.workspaceId, a.sessionId]);
      await client.query(`INSERT INTO lark_user_binding (workspace_id, installation_id, user_id, lark_open_id) VALUES ($1, $2, $3, 'ou_3')`, [a.workspaceId, a.installationId, a.ownerId]);
      await client.query(`INSERT INTO lark_chat_session_binding (chat_session_id, workspace_id, installation_id, lark_chat_id, lark_chat_type) VALUES ($1, $2, $3, 'oc_3', 'p2p')`, [
        a.sessionId,
        a.workspaceId,
        a.installationId,
      ]);
      await client.query(
        `INSERT INTO issue (workspace_id, number, title, creator_user_id, origin_type, assignee_agent_id, origin_chat_session_id, origin_lark_installation_id, origin_lark_chat_id)
         VALUES ($1, 9005, 't', $2, 'lark_chat', $3, $4, $5, 'oc_3')`,
        [a.workspaceId, a.ownerId, a.agentId, a.sessionId, a.installationId],
      );
      await client.query(`INSERT INTO issue (workspace_id, number, title, creator_user_id, assignee_user_id) VALUES ($1, 9006, 't', $2, $2)`, [a.workspaceId, a.ownerId]);
      await client.query(`INSERT INTO attachment (workspace_id, chat_message_id, kind, position) VALUES ($1, $2, 'file', 7)`, [a.workspaceId, a.messageId]);
      await client.query(`INSERT INTO attachment (workspace_id, task_id, source, kind) VALUES ($1, $2, 'agent', 'file')`, [a.workspaceId, a.taskId]);
      await client.query(`INSERT INTO attachment_chunk (attachment_id, workspace_id, seq, bytes) VALUES ($1, $2, 0, '\\x00')`, [a.attachmentId, a.workspaceId]);
      await client.query(`INSERT INTO lark_uploaded_media (installation_id, workspace_id, source_key, kind, lark_key) VALUES ($1, $2, 'attachment:x', 'image', 'img_x')`, [a.installationId, a.workspaceId]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('one chat message per Lark message', () => {
  test('a second lark_inbound_message for the same Lark message is refused, even for another chat message', async () => {
    const insert = `INSERT INTO lark_inbound_message (chat_message_id, workspace_id, installation_id, lark_message_id, lark_chat_id, sender_open_id) VALUES ($1, $2, $3, $4, 'oc_1', 'ou_1')`;
    const larkMessageId = `om_${randomUUID()}`;
    await t.pool.query(insert, [a.messageId, a.workspaceId, a.installationId, larkMessageId]);
    const [second] = await t.db.insert(chatMessage).values({ workspaceId: a.workspaceId, sessionId: a.sessionId, role: 'user', content: 'again' }).returning();
    expect(await refusal(insert, [second.id, a.workspaceId, a.installationId, larkMessageId])).toEqual({ code: '23505', constraint: 'lark_inbound_message_lark_id_unique' });
    // The key is per bot: another installation may see the same id.
    await t.pool.query(insert, [b.messageId, b.workspaceId, b.installationId, larkMessageId]);
  });
});

describe('attachments are consistent', () => {
  test('a failed attachment names its reason, a stored one its type and size, and neither can lie about it', async () => {
    const cases: Array<[string, string, unknown[], string]> = [
      ['failed without a reason', `INSERT INTO attachment (workspace_id, chat_message_id, kind, position, state) VALUES ($1, $2, 'file', 20, 'failed')`, [a.workspaceId, a.messageId], 'attachment_failure_valid'],
      ['a reason while pending', `INSERT INTO attachment (workspace_id, chat_message_id, kind, position, failure) VALUES ($1, $2, 'file', 21, 'too_large')`, [a.workspaceId, a.messageId], 'attachment_failure_valid'],
      ['stored without its type', `INSERT INTO attachment (workspace_id, chat_message_id, kind, position, state, size_bytes, stored_at) VALUES ($1, $2, 'file', 22, 'stored', 1, now())`, [a.workspaceId, a.messageId], 'attachment_stored_has_bytes'],
      ['owned by nothing', `INSERT INTO attachment (workspace_id, kind) VALUES ($1, 'file')`, [a.workspaceId], 'attachment_owner_present'],
      ['an unknown kind', `INSERT INTO attachment (workspace_id, chat_message_id, kind, position) VALUES ($1, $2, 'hologram', 23)`, [a.workspaceId, a.messageId], 'attachment_kind_valid'],
      ['an empty chunk', `INSERT INTO attachment_chunk (attachment_id, workspace_id, seq, bytes) VALUES ($1, $2, 5, '')`, [a.attachmentId, a.workspaceId], 'attachment_chunk_size'],
      ['two attachments in one place', `INSERT INTO attachment (workspace_id, chat_message_id, kind) VALUES ($1, $2, 'file')`, [a.workspaceId, a.messageId], 'attachment_position_unique'],
    ];
    for (const [what, text, values, constraint] of cases) expect((await refusal(text, values)).constraint, what).toBe(constraint);
  });
});
