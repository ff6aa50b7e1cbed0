import { RANGES } from './env-parsers';
import { ENGINE_TYPES, engineDef, type EngineType } from './engines';
import type { EngineUse } from './profiles-file';

type RawEnv = Readonly<Partial<Record<string, string>>>;

const [, longestDuration] = RANGES.maxDuration;

/** A duration the range check accepts: only then is an engine's own cap worth a separate problem. */
function inRange(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value <= longestDuration;
}

/**
 * What the engines the profiles use need from the environment (their secret, Cartesia's agent id)
 * and the caps they put on a profile, each problem naming the variable or file field to change.
 */
export function checkEngineRequirements(raw: RawEnv, engines: EngineUse[], problems: string[]): void {
  const fromFile = raw.PROFILES_FILE !== undefined;
  const usedBy = (type: EngineType, labels: string[]) =>
    fromFile
      ? `PROFILES_FILE uses ${type} in ${labels.join(', ')}`
      : `SESSION_ENGINE is ${type}${raw.SESSION_ENGINE === undefined ? ' (the default)' : ''}`;

  for (const type of ENGINE_TYPES) {
    const uses = engines.filter((use) => use.type === type);
    if (uses.length === 0) continue;
    const { secret, maxDurationSeconds: cap } = engineDef(type);
    if (raw[secret] === undefined) {
      problems.push(
        `${secret}: is required when ${usedBy(
          type,
          uses.map((use) => use.label),
        )}`,
      );
    }
    if (cap === undefined) continue;
    const tooLong = `must be at most ${cap.limit} for ${type} (${cap.reason})`;
    for (const use of uses) {
      if (inRange(use.maxDurationSeconds) && use.maxDurationSeconds > cap.limit) {
        problems.push(`PROFILES_FILE ${use.label}.max_duration_seconds: ${tooLong}`);
      }
    }
    // Its default is within every cap, so only a value that was set can break one.
    const variable = /^\d+$/.test(raw.SESSION_MAX_DURATION_SECONDS ?? '')
      ? Number(raw.SESSION_MAX_DURATION_SECONDS)
      : undefined;
    const inheriting = uses.filter((use) => use.maxDurationSeconds === undefined).map((use) => use.label);
    if (inheriting.length > 0 && inRange(variable) && variable > cap.limit) {
      problems.push(`SESSION_MAX_DURATION_SECONDS: ${tooLong}, and ${usedBy(type, inheriting)}`);
    }
  }

  if (raw.CARTESIA_AGENT_ID !== undefined) return;
  for (const { label, type, hasAgentId } of engines) {
    if (type !== 'cartesia' || hasAgentId) continue;
    problems.push(
      fromFile
        ? `PROFILES_FILE ${label}.engine.agent_id: is required unless CARTESIA_AGENT_ID is set`
        : 'CARTESIA_AGENT_ID: is required when SESSION_ENGINE is cartesia',
    );
  }
}
