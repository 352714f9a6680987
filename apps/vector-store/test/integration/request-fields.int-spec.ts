// The store reads query parameters with the reader the gateway uses for namespace scopes (issue 14, item 1): a
// parameter that takes one value and arrives twice is a 400, never read as its first or last value.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
const base = '/internal/indexes/idx-fields';

beforeAll(async () => {
  t = await startTestApp({ annBuilder: false });
  expect((await t.call('PUT', base, { dimension: 2, metric: 'cosine', vectorType: 'dense' })).status).toBe(201);
  for (const namespace of ['allowed', 'secret']) {
    const upsert = await t.call('POST', `${base}/vectors/upsert`, { namespace, vectors: [{ id: 'x', values: [1, 0], metadata: { ns: namespace } }] });
    expect(upsert.status).toBe(200);
  }
});
afterAll(async () => {
  await t.close();
});

describe('repeated query parameters', () => {
  it.each([
    '/vectors/fetch?ids=x&namespace=allowed&namespace=secret',
    '/vectors/list?namespace=allowed&namespace=secret',
    '/vectors/list?limit=1&limit=2',
    '/vectors/list?paginationToken=eA&pagination_token=eQ',
    '/namespaces?limit=1&limit=2',
  ])('400 for %s, with the gRPC-style body', async (path) => {
    const reply = await t.call('GET', `${base}${path}`);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ code: 3, message: expect.stringContaining('at most once'), details: [] });
  });

  it('one namespace reads that namespace; repeated ids are still a list', async () => {
    const reply = await t.call('GET', `${base}/vectors/fetch?ids=x&ids=y&namespace=allowed`);
    expect(reply.status).toBe(200);
    expect(reply.body.vectors.x.metadata).toEqual({ ns: 'allowed' });
  });
});
