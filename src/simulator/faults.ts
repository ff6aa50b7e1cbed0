import { z } from 'zod';
import { SIM_ROUTES, type SimFault, type SimLatency, type SimRoute } from './types';

const latencySchema = z.union([
  z.number().min(0),
  z
    .strictObject({ min: z.number().min(0), max: z.number().min(0) })
    .refine((range) => range.min <= range.max, 'min must not exceed max'),
]);

export const faultSchema = z.strictObject({
  route: z.enum(SIM_ROUTES),
  times: z.int().min(0).optional(),
  latencyMs: latencySchema.optional(),
  status: z.int().min(100).max(599).optional(),
  errorCode: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/)
    .optional(),
  body: z.unknown().optional(),
  retryAfter: z.string().optional(),
  hang: z.boolean().optional(),
  reset: z.boolean().optional(),
  afterEffect: z.boolean().optional(),
});

export function assertLatency(latency: SimLatency): SimLatency {
  return latencySchema.parse(latency);
}

export function pickLatency(latency: SimLatency | undefined): number {
  if (latency === undefined) return 0;
  if (typeof latency === 'number') return latency;
  return latency.min + Math.random() * (latency.max - latency.min);
}

interface ArmedFault {
  fault: SimFault;
  /** Infinity when the fault lasts until cleared. */
  remaining: number;
}

/** Faults wait in injection order; the first one armed for a route takes the next call. */
export function createFaultBook() {
  let armed: ArmedFault[] = [];

  return {
    inject(fault: SimFault): void {
      const parsed = faultSchema.parse(fault);
      const times = parsed.times ?? 1;
      armed.push({ fault: parsed, remaining: times === 0 ? Infinity : times });
    },

    take(route: SimRoute): SimFault | undefined {
      const entry = armed.find((a) => a.fault.route === route);
      if (!entry) return undefined;
      entry.remaining -= 1;
      if (entry.remaining <= 0) armed = armed.filter((a) => a !== entry);
      return entry.fault;
    },

    clear(): void {
      armed = [];
    },
  };
}

export type FaultBook = ReturnType<typeof createFaultBook>;
