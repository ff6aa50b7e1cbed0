import { z } from 'zod';
import { AppError } from '../errors';

export const createSessionBody = z.strictObject({
  profile: z.string().min(1).max(64).optional(),
});

export type CreateSessionBody = z.infer<typeof createSessionBody>;

export function parseCreateSessionBody(body: unknown): CreateSessionBody {
  const parsed = createSessionBody.safeParse(body);
  if (!parsed.success) {
    throw new AppError('invalid-request', 'The body may only hold an optional "profile" string.');
  }
  return parsed.data;
}
