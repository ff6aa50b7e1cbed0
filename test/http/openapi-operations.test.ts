import { openApiDocument } from '../../src/http/openapi';
import { ROUTES } from '../../src/http/openapi-routes';
import { buildTestApp } from '../helpers/build-test-app';

describe('GET /openapi.json for code generators', () => {
  it('names every operation once, and says where the API is: the serving broker', async () => {
    const t = await buildTestApp({ env: { LOG_LEVEL: 'silent' } });
    try {
      const res = await t.http.get('/openapi.json');
      expect(res.status).toBe(200);
      const document = res.body as ReturnType<typeof openApiDocument>;
      expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
      const ids = Object.values(document.paths).flatMap((operations) =>
        Object.values(operations).map((operation) => (operation as { operationId: string }).operationId),
      );
      expect(ids).toHaveLength(ROUTES.length);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
      expect(ids).toEqual(expect.arrayContaining(['createSession', 'endSession', 'listSessions']));
    } finally {
      await t.close();
    }
  });
});
