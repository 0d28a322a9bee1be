// Worker threads do not inherit the TypeScript loader the worker process starts with (`--import tsx`):
// each thread registers it for itself, then loads its TypeScript entry (the ACK thread's, or the
// backlog thread's).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData?.role === 'backlog' ? './backlog-thread.ts' : './thread.ts');
