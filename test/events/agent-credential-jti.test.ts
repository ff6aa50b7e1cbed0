import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { testProfiles } from '../fixtures/profiles';
import { buildTestApp, createSessionFor, type TestApp } from '../helpers/build-test-app';
import { agentProfile, externalCredentials, testSigningKey } from '../helpers/external-engine';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { eventually } from '../helpers/waiting';

let t: TestApp | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await t?.close();
  await receiver?.close();
  t = receiver = undefined;
});

describe('session.created for an external profile', () => {
  it('carries the jti of the credential the agent receives, never the credential, and other profiles carry none', async () => {
    receiver = await startWebhookReceiver();
    t = await buildTestApp({
      profiles: { ...testProfiles, agent: agentProfile },
      env: {
        EXTERNAL_ENGINE_SIGNING_KEY: testSigningKey,
        EVENTS_WEBHOOK_URL: receiver.url,
        EVENTS_WEBHOOK_SECRET: receiver.secret,
      },
    });
    const agentSession = await t.http
      .post('/session')
      .set('Authorization', await t.bearer('alice'))
      .send({ profile: 'agent' });
    expect(agentSession.status).toBe(201);
    const plainSession = await createSessionFor(t, 'bob');

    const [credential] = externalCredentials(t.sim.ledger());
    const jti = decodeJwt(credential!).jti;
    expect(jti).toEqual(expect.any(String));
    await eventually(() => expect(receiver!.received).toHaveLength(2));
    const created = Object.fromEntries(receiver.received.map((e) => [e.data.session_id, e]));
    expect(created[agentSession.body.session_id]?.data).toMatchObject({
      profile: 'agent',
      engine: 'external',
      agent_credential_jti: jti,
    });
    expect(created[plainSession]?.data).not.toHaveProperty('agent_credential_jti');

    const logged = t.logs
      .lines()
      .find((line) => line.event === 'session.created' && line.profile === 'agent');
    expect(logged).toMatchObject({ agent_credential_jti: jti });
    expect(JSON.stringify(receiver.received)).not.toContain(credential);
    expect(t.logs.text).not.toContain(credential);
  });
});
