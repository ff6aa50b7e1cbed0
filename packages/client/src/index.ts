export { createBrokerClient } from './broker-client';
export type {
  BrokerClient,
  BrokerClientOptions,
  BrokerSession,
  BrokerSessionSummary,
  CreateSessionOptions,
} from './broker-client';
export { BrokerError } from './broker-error';
export type { BrokerErrorCode } from './broker-error';
