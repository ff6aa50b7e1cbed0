import { BrokerError } from '../../packages/client/src';

/** What a client call threw, which must be a `BrokerError`. */
export async function caughtBrokerError(promise: Promise<unknown>): Promise<BrokerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrokerError);
  return err as BrokerError;
}
