import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/load-config';
import { minimal, problemsOf, readFrom } from './config-fixtures';

describe('loadConfig: the Avaturn render preset', () => {
  it('is unset by default, so Avaturn picks its own', () => {
    expect(loadConfig(minimal).profiles['default']?.avatar).toEqual({});
  });

  it.each(['delta', 'golf'])('takes AVATURN_RENDER_MODEL=%s for the default profile', (model) => {
    const config = loadConfig({ ...minimal, AVATURN_RENDER_MODEL: model });
    expect(config.profiles['default']?.avatar).toEqual({ renderModel: model });
  });

  it('refuses any other value, without printing it', () => {
    expect(problemsOf({ ...minimal, AVATURN_RENDER_MODEL: 'ALPHA-VALUE' })).toEqual([
      'AVATURN_RENDER_MODEL: must be one of delta, golf',
    ]);
  });

  it('lets a file profile set avatar.render_model, and the others inherit the variable', () => {
    const files = {
      '/p.json': JSON.stringify({
        sharp: { engine: { type: 'openai-realtime' }, avatar: { render_model: 'golf' } },
        plain: { engine: { type: 'openai-realtime' } },
      }),
    };
    const env = { ...minimal, PROFILES_FILE: '/p.json', AVATURN_RENDER_MODEL: 'delta' };
    const config = loadConfig(env, { readFile: (path) => readFrom(files, path) });
    expect(config.profiles['sharp']?.avatar).toEqual({ renderModel: 'golf' });
    expect(config.profiles['plain']?.avatar).toEqual({ renderModel: 'delta' });
  });
});
