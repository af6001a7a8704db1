import { assertConformsToOpenApi } from './openapi-conformance';
import type { TestServer } from './test-server';

export interface RestAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** A REST call as a partner makes it; the answer is checked against the OpenAPI document before the test sees it. */
export async function restCall(t: Pick<TestServer, 'url' | 'adminKey'>, method: 'GET' | 'POST', path: string, body?: unknown,
  key: string | null = t.adminKey): Promise<RestAnswer> {
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const answer = { status: response.status, headers: response.headers, body: await response.json() as any };
  assertConformsToOpenApi(method, path, answer.status, answer.body);
  return answer;
}

export function restPost(t: Pick<TestServer, 'url' | 'adminKey'>, path: string, body: unknown, key: string | null = t.adminKey): Promise<RestAnswer> {
  return restCall(t, 'POST', path, body, key);
}

export function restGet(t: Pick<TestServer, 'url' | 'adminKey'>, path: string, key: string | null = t.adminKey): Promise<RestAnswer> {
  return restCall(t, 'GET', path, undefined, key);
}
