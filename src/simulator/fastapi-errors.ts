import type { z } from 'zod';
import type { Reply } from './http-io';
import { isMissing, isObject, issueFields } from './validation';

export interface FastApiDetail {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

const typeMessages: Record<string, [type: string, msg: string]> = {
  string: ['string_type', 'Input should be a valid string'],
  int: ['int_type', 'Input should be a valid integer'],
  number: ['int_type', 'Input should be a valid integer'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
  object: ['model_attributes_type', 'Input should be a valid dictionary or object to extract fields from'],
  record: ['dict_type', 'Input should be a valid dictionary'],
};

/** As Python's repr: strings quoted, numbers bare. */
function quoteAll(values: readonly unknown[]): string {
  const quoted = values.map((value) => (typeof value === 'string' ? `'${value}'` : String(value)));
  return quoted.length < 2 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}

/** Pydantic's wording for a zod issue; never the input itself, which may hold a secret. */
function describe(issue: z.core.$ZodIssue): Omit<FastApiDetail, 'loc'> {
  if (isMissing(issue)) return { type: 'missing', msg: 'Field required' };
  switch (issue.code) {
    case 'unrecognized_keys':
      return { type: 'extra_forbidden', msg: 'Extra inputs are not permitted' };
    case 'invalid_type': {
      const [type, msg] = typeMessages[issue.expected] ?? ['value_error', issue.message];
      return { type, msg };
    }
    case 'too_small':
      return { type: 'greater_than_equal', msg: `Input should be greater than or equal to ${issue.minimum}` };
    case 'too_big':
      return { type: 'less_than_equal', msg: `Input should be less than or equal to ${issue.maximum}` };
    case 'invalid_value':
      return { type: 'literal_error', msg: `Input should be ${quoteAll(issue.values)}` };
    case 'invalid_union': {
      const tag = isObject(issue.input) ? issue.input.type : undefined;
      // zod reports the tags it expected at runtime without declaring them in its issue type.
      const options: unknown[] = 'options' in issue && Array.isArray(issue.options) ? issue.options : [];
      if (issue.discriminator === undefined) return { type: 'union_error', msg: issue.message };
      if (tag === undefined) {
        return {
          type: 'union_tag_not_found',
          msg: `Unable to extract tag using discriminator '${issue.discriminator}'`,
        };
      }
      return {
        type: 'union_tag_invalid',
        msg: `Input tag '${String(tag)}' found using '${issue.discriminator}' does not match any of the expected tags: ${quoteAll(options)}`,
      };
    }
    case 'custom': {
      // A refinement names Pydantic's error type in its params when it mimics a built-in one.
      const type: unknown = issue.params?.pydanticType;
      return { type: typeof type === 'string' ? type : 'value_error', msg: issue.message };
    }
    default:
      return { type: 'value_error', msg: issue.message };
  }
}

/** FastAPI's 422 body: one entry per problem, located from `body`. */
export function fastApiValidationError(issues: z.core.$ZodIssue[]): Reply {
  const detail = issues.flatMap((issue) => {
    const { msg, type } = describe(issue);
    return issueFields(issue).map((field): FastApiDetail => ({ loc: ['body', ...field], msg, type }));
  });
  return { status: 422, json: { detail } };
}
