import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface OpenApiValidation {
  valid: boolean;
  /** The OpenAPI version the validator recognised, e.g. "3.1". */
  version?: string;
  errors?: unknown;
}

/** Validates a document against the OpenAPI schema of its version, including its $refs. */
export function validateOpenApi(document: unknown): OpenApiValidation {
  const run = spawnSync(process.execPath, [join(__dirname, 'validate-openapi.mjs')], {
    input: JSON.stringify(document),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`the OpenAPI validator failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as OpenApiValidation;
}
