import { BrokerError, type BrokerErrorCode } from '../../packages/client/src';
import type { ProblemCode } from '../../packages/client/src/broker-error';
import { problemCatalog, type ErrorCode } from '../../src/errors';

// The client package cannot import the server: its copy of the codes must stay the same list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameCodes: Same<ProblemCode, ErrorCode> = true;

describe('the client package’s problem codes', () => {
  it('are the broker’s, each with a sentence of its own', () => {
    expect(sameCodes).toBe(true);
    const sentences = (Object.keys(problemCatalog) as BrokerErrorCode[]).map(
      (code) => new BrokerError({ status: 400, code }).message,
    );
    expect(new Set(sentences).size).toBeGreaterThan(Object.keys(problemCatalog).length - 4);
    expect(sentences.every((sentence) => sentence.length > 10)).toBe(true);
  });
});
