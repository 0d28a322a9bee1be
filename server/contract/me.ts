import { z } from 'zod';
import { locales } from '../../i18n/locales';
import { workspaceSchema } from './workspaces';

export const updateMeInput = z
  .object({
    name: z.string().trim().min(1, 'Name is required').max(80).optional(),
    locale: z.enum(locales).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'Nothing to update');
export type UpdateMeInput = z.infer<typeof updateMeInput>;

/** `locale` is the saved UI language, or null to follow the browser. */
export const meSchema = z.object({ id: z.string(), email: z.string(), name: z.string(), locale: z.string().nullable() });

export const meResponse = z.object({ user: meSchema, workspaces: z.array(workspaceSchema) });
export const updateMeResponse = z.object({ user: meSchema });
