export { BrokerError, createBrokerClient } from './broker-client';
export type {
  BrokerClient,
  BrokerClientOptions,
  BrokerErrorCode,
  BrokerSession,
  BrokerSessionSummary,
  CreateSessionOptions,
} from './broker-client';
