import type { ControlDeps, ControlRequest } from './control';
import { notFound, parse, schemas } from './control-input';
import type { FaultInput } from './faults';
import { json, type Reply } from './http';

/** POST /_control/faults: immediate kinds act now; every fault is recorded. */
export function addFault(deps: ControlDeps, req: ControlRequest): Reply {
  const input = parse(schemas.fault, req.body);
  const appId = input.app_id;
  if (appId && !deps.dir.apps.has(appId)) throw notFound(`app ${appId}`);
  let stored: FaultInput;
  let affected: number | undefined;
  switch (input.kind) {
    case 'rest_error':
      stored = {
        kind: input.kind,
        appId,
        path: input.path,
        method: input.method,
        code: input.code,
        httpStatus: input.http_status,
        msg: input.msg,
        remaining: input.count < 0 ? Infinity : input.count,
      };
      break;
    case 'rest_delay':
      stored = {
        kind: input.kind,
        appId,
        path: input.path,
        method: input.method,
        ms: input.ms,
        remaining: input.count < 0 ? Infinity : input.count,
      };
      break;
    case 'duplicate_deliveries':
      stored = { kind: input.kind, appId, count: input.count };
      break;
    case 'chunk_events':
      stored = { kind: input.kind, appId, chunkBytes: input.chunk_bytes };
      break;
    case 'push_client_config': {
      const { PingInterval, ReconnectCount, ReconnectInterval, ReconnectNonce } = input;
      stored = { kind: input.kind, appId, config: { PingInterval, ReconnectCount, ReconnectInterval, ReconnectNonce } };
      break;
    }
    case 'drop_connections':
      affected = deps.ws.drop(appId);
      stored = { kind: input.kind, appId };
      break;
    case 'expire_tokens':
      affected = deps.tokens.invalidate(appId);
      stored = { kind: input.kind, appId };
      break;
    case 'silent_connection':
      affected = deps.ws.silence(appId);
      stored = { kind: input.kind, appId };
      break;
    case 'deny_contact_scope':
      stored = { kind: input.kind, appId };
      break;
  }
  const fault = deps.faults.add(stored);
  return json(200, { id: fault.id, ...(affected !== undefined ? { affected } : {}) });
}
