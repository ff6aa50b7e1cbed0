// Validates the OpenAPI document read from stdin with @seriousme/openapi-schema-validator and prints
// { valid, version, errors } as JSON. A separate process because the validator is ESM-only, which
// Jest's module loader cannot load.
import { Validator } from '@seriousme/openapi-schema-validator';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const validator = new Validator();
const result = await validator.validate(JSON.parse(input));
process.stdout.write(JSON.stringify({ ...result, version: validator.version }));
