import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import pino from 'pino';
import { loadConfig } from '../../src/core/config';
import { startApp } from '../../src/app/server';
import { listAll, tryCreateRecord } from '../support/api';
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

    const listed = await listAll(t, 'apiKeys', 'id prefix user { id }', { userId });
    expect(JSON.stringify(listed)).not.toContain(key.slice(12));
    expect(listed.map((k: { id: string }) => k.id)).toContain(apiKey.id);

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
    expect((await tryCreateRecord(t, 'Contacts', { lastName: 'Auth' }, { key })).userErrors).toEqual([]);
    for (const op of ['{ users { nodes { id } } }', `mutation { createUser(input: { email: "x@example.com", name: "X", role: ADMIN }) { user { id } } }`]) {
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
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('admin@countersign.local').setIssuedAt().setExpirationTime('5m').sign(privateKey);
      expect((await t.gql(ME, {}, { key: token })).body.data.me.email).toBe('admin@countersign.local');
      expect(fetches).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
      jwks.close();
    }
  });
});

describe('attacker: a JWT that never expires, or was issued long ago', () => {
  let t: TestServer;
  let privateKey: KeyLike;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (claims: { iat?: number; exp?: number }) => {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('admin@countersign.local');
    if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(privateKey);
  };
  const refused = async (jwt: string, why: RegExp) => {
    const res = await t.gql(ME, {}, { key: jwt });
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors[0].message).toMatch(why);
    expect(res.body.data).toBeUndefined();
  };
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    t = await startTestServer('jwt_age', { JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey), JWT_MAX_AGE_SECONDS: '3600' });
  });
  afterAll(() => t.close());

  test('a token without exp is refused, even when freshly issued', async () => {
    await refused(await token({ iat: now() }), /"exp"/);
  });

  test('a token issued longer ago than JWT_MAX_AGE_SECONDS is refused although its exp is far ahead', async () => {
    await refused(await token({ iat: now() - 3600 - 120, exp: now() + 86400 * 365 }), /"iat"/);
  });

  test('a token without iat is refused while a max age is set; one issued in the future is refused too', async () => {
    await refused(await token({ exp: now() + 300 }), /"iat"/);
    await refused(await token({ iat: now() + 3600, exp: now() + 7200 }), /"iat"/);
  });

  test('an expired token is refused', async () => {
    await refused(await token({ iat: now() - 600, exp: now() - 300 }), /"exp"/);
  });

  test('a token with exp and a recent iat is accepted', async () => {
    const res = await t.gql(ME, {}, { key: await token({ iat: now() - 60, exp: now() + 300 }) });
    expect(res.status).toBe(200);
    expect(res.body.data.me).toEqual({ email: 'admin@countersign.local', role: 'ADMIN' });
  });

  test('JWT_MAX_AGE_SECONDS=0 turns the age check off, but exp is still required', async () => {
    const pair = await generateKeyPair('ES256');
    const u = await startTestServer('jwt_no_age', { JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey), JWT_MAX_AGE_SECONDS: '0' });
    try {
      const sign = (exp?: number) => {
        const jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('admin@countersign.local');
        return (exp ? jwt.setExpirationTime(exp) : jwt).sign(pair.privateKey);
      };
      expect((await u.gql(ME, {}, { key: await sign(now() + 300) })).body.data.me.role).toBe('ADMIN');
      expect((await u.gql(ME, {}, { key: await sign() })).status).toBe(401);
    } finally {
      await u.close();
    }
  });
});

describe('attacker: a revoked ADMIN_API_KEY left in the configuration, hoping a restart brings it back', () => {
  test('after revocation and a restart with the same ADMIN_API_KEY the key is refused (401) and one warning says why', async () => {
    const t = await startTestServer('admin_key_revoked');
    try {
      const other = await t.keyFor('ADMIN');
      const keys = await listAll(t, 'apiKeys', 'id name', { userId: '00000000-0000-4000-8000-000000000001' }, { key: other.key });
      const configured = keys.find((k: { name: string }) => k.name === 'ADMIN_API_KEY');
      const revoked = await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } userErrors { code } } }', { id: configured.id }, { key: other.key });
      expect(revoked.body.data.revokeApiKey.userErrors).toEqual([]);
      expect((await t.gql(ME)).status).toBe(401);
      await t.app.stop();

      const lines: string[] = [];
      const sink = new Writable({ write(chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
      const restarted = await startApp(loadConfig({
        NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: t.databaseUrl, ADMIN_API_KEY: t.adminKey, LOG_LEVEL: 'info',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-test-data-')), SECRET_KEY: randomBytes(32).toString('hex'),
      }), pino({ level: 'info' }, sink));
      try {
        const ask = (key: string) => fetch(restarted.graphqlUrl, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query: ME }),
        });
        const res = await ask(t.adminKey);
        expect(res.status).toBe(401);
        expect(((await res.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
        expect((await ask(other.key)).status).toBe(200);
        expect(await t.sql('SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = $1', [configured.id])).toEqual([{ revoked: true }]);
        const warnings = lines.map((line) => JSON.parse(line)).filter((l) => /ADMIN_API_KEY/.test(l.msg));
        expect(warnings).toEqual([expect.objectContaining({ level: 40, apiKeyId: configured.id, msg: expect.stringMatching(/revoked/) })]);
        expect(lines.join('\n')).not.toContain(t.adminKey);
      } finally {
        await restarted.stop();
      }
    } finally {
      await t.close();
    }
  });
});
