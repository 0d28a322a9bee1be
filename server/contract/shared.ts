import { z } from 'zod';

/**
 * A point in time. Routes hand Response.json a Date and the browser reads the ISO string JSON makes
 * of it, so decoding mirrors JSON.stringify: a response schema's input side is what the server
 * builds, its output side (z.infer) is what the client receives.
 */
export const timestamp = z.codec(z.date(), z.iso.datetime(), {
  decode: (date) => date.toISOString(),
  encode: (iso) => new Date(iso),
});

/** The value a route passes to Response.json for response schema `S` (timestamps still Dates). */
export type Payload<S extends z.ZodType> = z.input<S>;

export const personSchema = z.object({ id: z.string(), name: z.string() });
