export { brokerEnvFor } from './broker-env';
export { defaultSimKeys, startSimulator } from './server';
export type {
  SimCall,
  SimCredential,
  SimFault,
  SimKeys,
  SimLatency,
  SimLedger,
  SimRoute,
  SimSession,
  SimUpstream,
  Simulator,
  SimulatorOptions,
} from './types';
