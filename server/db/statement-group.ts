/** How long a grouped statement may take before the group gives up on it and goes on. */
export const STATEMENT_GROUP_TIMEOUT_MS = 15_000;

export class StatementGroupTimeout extends Error {
  constructor(ms: number) {
    super(`a grouped statement did not answer within ${ms} ms`);
    this.name = 'StatementGroupTimeout';
  }
}

type Waiting<Item, Result> = { item: Item; resolve: (r: Result) => void; reject: (err: unknown) => void };

/**
 * Many small statements of one kind sent as one (group commit). An item submitted while no
 * statement of the group is in flight goes out on the next turn of the event loop, with whatever
 * else was submitted in that turn; items submitted while one is in flight wait for it and go out
 * together after it. At low load every item is a statement of its own, at once; under load the
 * statement count stops growing with the load, and no item waits longer than one round trip more.
 *
 * `run` gets the items in submission order and returns one result per item, in the same order. A
 * statement that fails for a group is tried again for each item alone, so one bad item fails only
 * its own submitter. A statement that has not answered within `timeoutMs` (a connection gone
 * silent) fails its items and no longer holds back the ones behind it.
 */
export class StatementGroup<Item, Result = void> {
  private queue: Array<Waiting<Item, Result>> = [];
  private running = false;
  private scheduled = false;
  /** Statements sent and items carried, for tests and benches. */
  readonly stats = { statements: 0, items: 0 };

  constructor(
    private readonly run: (items: Item[]) => Promise<Result[]>,
    private readonly maxItems = 500,
    private readonly timeoutMs = STATEMENT_GROUP_TIMEOUT_MS,
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxItems);
    try {
      await this.send(batch);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async send(batch: Array<Waiting<Item, Result>>): Promise<void> {
    try {
      const results = await this.execute(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1 || err instanceof StatementGroupTimeout) {
        for (const b of batch) b.reject(err);
        return;
      }
      for (const b of batch) {
        try {
          b.resolve((await this.execute([b.item]))[0]);
        } catch (alone) {
          b.reject(alone);
        }
      }
    }
  }

  private async execute(items: Item[]): Promise<Result[]> {
    this.stats.statements++;
    this.stats.items += items.length;
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StatementGroupTimeout(this.timeoutMs)), this.timeoutMs);
    });
    const results = await Promise.race([this.run(items), silent]).finally(() => clearTimeout(timer));
    if (results.length !== items.length) throw new Error(`a grouped statement returned ${results.length} results for ${items.length} items`);
    return results;
  }
}

/**
 * One value per database handle, made on first use: every stream and delivery of a worker shares
 * its pool's groups, while another pool (a test's, the ACK path's) gets groups of its own.
 */
export function perDb<Db extends object, T>(make: (db: Db) => T): (db: Db) => T {
  const byDb = new WeakMap<Db, T>();
  return (db) => {
    let value = byDb.get(db);
    if (value === undefined) {
      value = make(db);
      byDb.set(db, value);
    }
    return value;
  };
}
