import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/otp/rest/openapi';

/**
 * Checks a REST answer against the OpenAPI document the server serves: the path and method must be documented, the
 * status listed for it, and the JSON body valid against that status's schema. Every REST helper in test/support calls
 * it, so every answer a REST test receives is checked.
 */
type Operation = { responses: Record<string, { content?: { 'application/json'?: { schema: object } } }> };

const document = openApiDocument() as { paths: Record<string, Record<string, Operation>>; components: object };
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: document.components });
const compiled = new Map<string, ValidateFunction>();

/** The documented path template a concrete path matches (`/api/otp/{id}` for `/api/otp/123`). */
function template(path: string): string | null {
  const bare = path.split('?')[0];
  return Object.keys(document.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare)) ?? null;
}

/** Why the answer does not conform, or null when it does. */
export function nonConformance(method: string, path: string, status: number, body: unknown): string | null {
  const documented = template(path);
  if (!documented) return `${path} is not in the OpenAPI document`;
  const operation = document.paths[documented][method.toLowerCase()];
  if (!operation) return `${method} ${documented} is not in the OpenAPI document`;
  const response = operation.responses[String(status)];
  if (!response) return `${method} ${documented} does not document status ${status}`;
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return null;
  const key = `${method} ${documented} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    // `$ref`s into the document resolve against the registered components
    validate = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')));
    compiled.set(key, validate);
  }
  return validate(body) ? null : `${key}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 500)}`;
}

export function assertConformsToOpenApi(method: string, path: string, status: number, body: unknown): void {
  const problem = nonConformance(method, path, status, body);
  if (problem) throw new Error(`REST answer does not conform to openapi.json: ${problem}`);
}
