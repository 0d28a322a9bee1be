import fs from 'node:fs/promises';
import path from 'node:path';
import type { Directory, DirectorySnapshot } from './state';

// Only the directory persists. Tokens, WS connections, deliveries, registrations in progress,
// idempotency keys and faults are in-flight protocol state: after a restart clients re-fetch
// tokens and reconnect, as they would after a platform incident.

const formatVersion = 1;
const saveDelayMs = 250;

type StateFile = { version: number; directory: DirectorySnapshot };

const snapshotArrays = ['tenants', 'users', 'apps', 'chats', 'messages', 'p2pChats', 'openIds'] as const;

function parseStateFile(file: string, text: string): DirectorySnapshot {
  let parsed: Partial<StateFile>;
  try {
    parsed = JSON.parse(text) as Partial<StateFile>;
  } catch {
    throw new Error(`Lark simulator state file ${file} is not valid JSON; delete it to start empty`);
  }
  const directory = parsed.directory as Partial<DirectorySnapshot> | undefined;
  if (parsed.version !== formatVersion || typeof directory?.salt !== 'string' || !snapshotArrays.every((key) => Array.isArray(directory[key]))) {
    throw new Error(`Lark simulator state file ${file} has an unknown format; delete it to start empty`);
  }
  return directory as DirectorySnapshot;
}

export type DirectoryPersistence = {
  /** Writes the directory soon if it changed since the last write. */
  scheduleSave(): void;
  /** Writes at once if it changed, after any write in progress. */
  flush(): Promise<void>;
};

/**
 * Loads the directory from `file` when it exists, then keeps the file in step with it. Writes go
 * to a temporary file renamed over the old one, so a crash mid-write leaves the previous state.
 */
export async function persistDirectory(dir: Directory, file: string, log: (message: string, error: unknown) => void): Promise<DirectoryPersistence> {
  const existing = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined) dir.restore(parseStateFile(file, existing));
  await fs.mkdir(path.dirname(file), { recursive: true });

  const serialize = () => JSON.stringify({ version: formatVersion, directory: dir.snapshot() } satisfies StateFile);
  let written = serialize();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const write = (): Promise<void> => {
    // Chained so writes never interleave; a failed write does not block the next one.
    writing = writing.catch(() => undefined).then(async () => {
      const text = serialize();
      if (text === written) return;
      const temporary = `${file}.${process.pid}.tmp`;
      await fs.writeFile(temporary, text, { mode: 0o600 });
      await fs.rename(temporary, file);
      written = text;
    });
    return writing;
  };

  return {
    scheduleSave() {
      timer ??= setTimeout(() => {
        timer = undefined;
        write().catch((error: unknown) => log(`could not save state to ${file}`, error));
      }, saveDelayMs);
    },
    async flush() {
      clearTimeout(timer);
      timer = undefined;
      await write();
    },
  };
}
