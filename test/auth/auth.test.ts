import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { startTestServer, type TestServer } from '../support/test-server';

const ME = '{ me { email role } }';
const CREATE_CONTACT = `mutation { createRecord(module: "Contacts", fields: { lastName: "Auth" }) { record { id } userErrors { code } } }`;

describe('API keys', () => {
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer('auth'); });
  afterAll(() => t.close());

  test('a valid key authenticates as its user', async () => {
    const res = await t.gql(ME);
    expect(res.body.data.me).toEqual({ email: 'admin@countersign.local', role: 'ADMIN' });
  });

  test('no token, a malformed header and an unknown key are UNAUTHENTICATED (401)', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer cs_deadbeef_nope' }] as Array<Record<string, string>>) {
      const res = await fetch(t.app.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: ME }) });
      const body: any = await res.json();
      expect(res.status).toBe(401);
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(body.errors[0].message).not.toMatch(/Context creation failed/);
      expect(body.data).toBeUndefined();
    }
  });

  test('createApiKey shows the key once, stores only its hash, and revokeApiKey stops it', async () => {
    const { userId } = await t.keyFor('USER');
    const created = await t.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id prefix name } userErrors { code } } }`,
      { input: { userId, name: 'partner' } });
    const { key, apiKey } = created.body.data.createApiKey;
    expect(key).toMatch(/^cs_[0-9a-f]{8}_[\w-]{43}$/);
    expect(key.startsWith(apiKey.prefix)).toBe(true);
    const stored = await t.sql('SELECT * FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(JSON.stringify(stored)).not.toContain(key.slice(12));
    expect((await t.gql(ME, {}, { key })).body.data.me.role).toBe('USER');

    const listed = await t.gql('query($u: ID!) { apiKeys(userId: $u) { id prefix user { id } } }', { u: userId });
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(12));
    expect(listed.body.data.apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);

    const revoked = await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } userErrors { code } } }', { id: apiKey.id });
    expect(revoked.body.data.revokeApiKey.apiKey.revokedAt).not.toBeNull();
    expect((await t.gql(ME, {}, { key })).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('an expired key is refused', async () => {
    const { userId, key } = await t.keyFor('USER');
    await t.sql("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE user_id = $1", [userId]);
    expect((await t.gql(ME, {}, { key })).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('createApiKey refuses an expiry in the past and an unknown user, writing nothing', async () => {
    const before = await t.sql('SELECT count(*)::int AS n FROM api_keys');
    const past = await t.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key userErrors { field code } } }`,
      { input: { userId: '00000000-0000-4000-8000-000000000001', name: 'x', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(past.body.data.createApiKey).toEqual({ key: null, userErrors: [{ field: ['expiresAt'], code: 'INVALID' }] });
    const unknown = await t.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key userErrors { field code } } }`,
      { input: { userId: 'nope', name: 'x' } });
    expect(unknown.body.data.createApiKey.userErrors).toEqual([{ field: ['userId'], code: 'NOT_FOUND' }]);
    expect(await t.sql('SELECT count(*)::int AS n FROM api_keys')).toEqual(before);
  });

  test('READONLY can read but writing is FORBIDDEN and writes nothing', async () => {
    const { key } = await t.keyFor('READONLY');
    expect((await t.gql('{ modules { name } }', {}, { key })).body.data.modules).toHaveLength(7);
    const before = await t.sql('SELECT count(*)::int AS n FROM records');
    const res = await t.gql(CREATE_CONTACT, {}, { key });
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(res.body.data).toBeNull();
    expect(await t.sql('SELECT count(*)::int AS n FROM records')).toEqual(before);
  });

  test('USER writes records but admin-only operations are FORBIDDEN', async () => {
    const { key } = await t.keyFor('USER');
    expect((await t.gql(CREATE_CONTACT, {}, { key })).body.data.createRecord.userErrors).toEqual([]);
    for (const op of ['{ users { id } }', `mutation { createUser(input: { email: "x@example.com", name: "X", role: ADMIN }) { user { id } } }`]) {
      expect((await t.gql(op, {}, { key })).body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
    expect(await t.sql("SELECT count(*)::int AS n FROM users WHERE email = 'x@example.com'")).toEqual([{ n: 0 }]);
  });

  test('createUser validates every field at once and refuses a taken email', async () => {
    const bad = await t.gql(`mutation { createUser(input: { email: "nope", name: "", role: USER, profile: "" }) { user { id } userErrors { field code } } }`);
    expect(bad.body.data.createUser.userErrors).toEqual([
      { field: ['email'], code: 'INVALID' }, { field: ['name'], code: 'INVALID' }, { field: ['profile'], code: 'INVALID' },
    ]);
    const taken = await t.gql(`mutation { createUser(input: { email: "ADMIN@countersign.local", name: "Again", role: USER }) { user { id } userErrors { field code } } }`);
    expect(taken.body.data.createUser.userErrors).toEqual([{ field: ['email'], code: 'TAKEN' }]);
  });
});

describe('JWT bearer tokens', () => {
  test('a JWT signed with JWT_PUBLIC_KEY authenticates by sub = user id or email; a bad one is UNAUTHENTICATED', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const t = await startTestServer('jwt', { JWT_PUBLIC_KEY: await exportSPKI(publicKey), JWT_ISSUER: 'https://issuer.test' });
    try {
      const sign = (sub: string, issuer = 'https://issuer.test', key = privateKey) =>
        new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(sub).setIssuer(issuer).setIssuedAt().setExpirationTime('5m').sign(key);
      expect((await t.gql(ME, {}, { key: await sign('00000000-0000-4000-8000-000000000001') })).body.data.me.email).toBe('admin@countersign.local');
      expect((await t.gql(ME, {}, { key: await sign('admin@countersign.local') })).body.data.me.role).toBe('ADMIN');

      const other = await generateKeyPair('RS256');
      for (const token of [await sign('admin@countersign.local', 'https://evil.test'), await sign('admin@countersign.local', 'https://issuer.test', other.privateKey), await sign('ghost@example.com')]) {
        const res = await t.gql(ME, {}, { key: token });
        expect(res.status).toBe(401);
        expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      }
    } finally {
      await t.close();
    }
  });

  test('JWKS_URL: keys are fetched from the JWKS endpoint', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    let fetches = 0;
    const jwks: Server = createServer((_req, res) => { fetches += 1; res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: [jwk] })); });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const t = await startTestServer('jwks', { JWKS_URL: `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json` });
    try {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('admin@countersign.local').setExpirationTime('5m').sign(privateKey);
      expect((await t.gql(ME, {}, { key: token })).body.data.me.email).toBe('admin@countersign.local');
      expect(fetches).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
      jwks.close();
    }
  });
});
