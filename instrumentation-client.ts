import { z } from 'zod';

// Runs in the browser before any page code. The Content-Security-Policy forbids eval, and zod
// probes for it (new Function) whenever an object schema is built, which the browser reports as
// a policy violation; jitless mode skips the probe and the compiled fast path.
z.config({ jitless: true });
