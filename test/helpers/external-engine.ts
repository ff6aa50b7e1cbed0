import type { SimLedger } from '../../src/simulator';

export const testSigningKey = 'external-engine-signing-key-0123456789';
export const agentUrl = 'wss://agent.example.com/avaturn';
/** An external profile whose static headers include one an operator would keep secret. */
export const agentProfile = {
  engine: {
    type: 'external',
    url: agentUrl,
    sample_rate: 16000,
    headers: { 'X-Tenant': 'acme', 'X-Agent-Key': 'static-agent-key-SECRET' },
  },
};

/** The credential the broker sent Avaturn in each create call (answered or not), in order. */
export function externalCredentials(ledger: SimLedger): string[] {
  return ledger.calls.flatMap((call) => {
    if (call.route !== 'avaturn.create') return [];
    const body = call.body as { conversation_engine?: { headers?: { Authorization?: string } } } | null;
    const header = body?.conversation_engine?.headers?.Authorization;
    return header === undefined ? [] : [header.replace(/^Bearer /, '')];
  });
}
