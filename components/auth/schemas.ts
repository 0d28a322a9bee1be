import { z } from 'zod';

// better-auth checks these again on the server; the browser only catches what it can say kindly.
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const NAME_MAX = 80;

export const signInSchema = z.object({
  email: z.string().trim().min(1),
  password: z.string().min(1),
});
export type SignInValues = z.input<typeof signInSchema>;

export const signUpSchema = z.object({
  name: z.string().trim().min(1).max(NAME_MAX),
  email: z.string().trim().min(1),
  password: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX),
});
export type SignUpValues = z.input<typeof signUpSchema>;
