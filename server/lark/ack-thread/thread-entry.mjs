// Worker threads do not inherit the TypeScript loader the worker process starts with (`--import tsx`):
// the ACK thread registers it for itself, then loads its TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');
