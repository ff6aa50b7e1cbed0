import { testProfiles } from '../fixtures/profiles';
import { buildTestApp, type TestApp } from '../helpers/build-test-app';

const createRequests = (t: TestApp) => t.sim.ledger().sessions.map((session) => session.request);

describe('POST /session and the Avaturn render preset', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('sends avatar.render_model as model, and nothing for a profile without one', async () => {
    t = await buildTestApp({
      profiles: {
        ...testProfiles,
        sharp: { engine: { type: 'cartesia', agent_id: 'agent_9' }, avatar: { render_model: 'golf' } },
      },
      env: { MAX_SESSIONS_PER_USER: '2' },
    });
    const auth = await t.bearer('alice');
    expect((await t.http.post('/session').set('Authorization', auth).send({ profile: 'sharp' })).status).toBe(
      201,
    );
    expect(
      (await t.http.post('/session').set('Authorization', auth).send({ profile: 'support' })).status,
    ).toBe(201);

    const [sharp, support] = createRequests(t) as Record<string, unknown>[];
    expect(sharp).toMatchObject({ model: 'golf', conversation_engine: { agent_id: 'agent_9' } });
    expect(sharp).not.toHaveProperty('render_model');
    expect(support).not.toHaveProperty('model');
  });

  it('sends AVATURN_RENDER_MODEL for the env-only default profile', async () => {
    t = await buildTestApp({ profiles: null, env: { AVATURN_RENDER_MODEL: 'delta' } });
    expect(
      (
        await t.http
          .post('/session')
          .set('Authorization', await t.bearer('bob'))
          .send({})
      ).status,
    ).toBe(201);
    expect(createRequests(t)).toEqual([
      {
        conversation_engine: { type: 'openai-realtime', client_secret: expect.any(String) },
        max_duration: 900,
        user_absent_timeout: 60,
        model: 'delta',
      },
    ]);
  });
});
