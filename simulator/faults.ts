import { json, sleep, type Reply } from './http';
import { randomHex } from './ids';

export type ClientConfig = {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
};

type Scoped = { id: string; appId?: string; createdAt: number };

export type RestFault = Scoped & {
  kind: 'rest_error' | 'rest_delay';
  path: string;
  method?: string;
  /** rest_error */
  code?: number;
  httpStatus?: number;
  msg?: string;
  /** rest_delay */
  ms?: number;
  /** Requests still to affect; Infinity until cleared. */
  remaining: number;
};

export type Fault =
  | RestFault
  | (Scoped & { kind: 'duplicate_deliveries'; count: number })
  | (Scoped & { kind: 'chunk_events'; chunkBytes: number })
  | (Scoped & { kind: 'push_client_config'; config: ClientConfig })
  | (Scoped & { kind: 'deny_contact_scope' })
  | (Scoped & { kind: 'drop_connections' | 'expire_tokens' | 'silent_connection' });

export type FaultInput = Fault extends infer F ? (F extends Fault ? Omit<F, 'id' | 'createdAt'> : never) : never;

/** `/re/flags` is a regular expression, anything else a substring of the path. */
function pathMatcher(pattern: string): (path: string) => boolean {
  const regex = /^\/(.+)\/([dgimsuy]*)$/.exec(pattern);
  if (regex) {
    try {
      const compiled = new RegExp(regex[1], regex[2]);
      return (path) => compiled.test(path);
    } catch {
      // not a valid expression: fall through to substring matching
    }
  }
  return (path) => path.includes(pattern);
}

const appliesTo = (fault: Fault, appId: string | undefined) => !fault.appId || fault.appId === appId;

export class FaultStore {
  private faults: Fault[] = [];
  private readonly matchers = new Map<string, (path: string) => boolean>();

  add(input: FaultInput): Fault {
    const fault = { ...input, id: `flt_${randomHex(12)}`, createdAt: Date.now() } as Fault;
    if (fault.kind === 'rest_error' || fault.kind === 'rest_delay') {
      this.matchers.set(fault.id, pathMatcher(fault.path));
    }
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return [...this.faults];
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    this.matchers.delete(id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
    this.matchers.clear();
  }

  /** Takes (consumes one use of) the first rest fault of `kind` matching the request. */
  takeRest(kind: 'rest_error' | 'rest_delay', req: { path: string; method: string; appId?: string }): RestFault | undefined {
    for (const fault of this.faults) {
      if (fault.kind !== kind || fault.remaining <= 0 || !appliesTo(fault, req.appId)) continue;
      if (fault.method && fault.method.toUpperCase() !== req.method) continue;
      if (!this.matchers.get(fault.id)?.(req.path)) continue;
      fault.remaining -= 1;
      return fault;
    }
    return undefined;
  }

  /** Applies rest_delay then rest_error to a request; the error reply when one is injected. */
  async applyRest(req: { path: string; method: string; appId?: string }): Promise<Reply | undefined> {
    const delay = this.takeRest('rest_delay', req);
    if (delay?.ms) await sleep(delay.ms);
    const error = this.takeRest('rest_error', req);
    if (!error) return undefined;
    return json(error.httpStatus ?? 400, { code: error.code, msg: error.msg ?? 'injected error' });
  }

  duplicateCount(appId: string): number {
    let count = 0;
    for (const f of this.faults) if (f.kind === 'duplicate_deliveries' && appliesTo(f, appId)) count += f.count;
    return count;
  }

  chunkBytes(appId: string): number | undefined {
    for (const f of this.faults) if (f.kind === 'chunk_events' && appliesTo(f, appId)) return f.chunkBytes;
    return undefined;
  }

  contactScopeDenied(appId: string): boolean {
    return this.faults.some((f) => f.kind === 'deny_contact_scope' && appliesTo(f, appId));
  }

  /** The ClientConfig pongs carry while a push_client_config fault stands (the latest wins). */
  clientConfigFor(appId: string): ClientConfig | undefined {
    let config: ClientConfig | undefined;
    for (const f of this.faults) if (f.kind === 'push_client_config' && appliesTo(f, appId)) config = f.config;
    return config;
  }
}
