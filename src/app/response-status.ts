import type { ApolloServerPlugin } from '@apollo/server';
import Negotiator from 'negotiator';

/** Errors that refuse the whole request before anything runs: the document, its variables, or our limits on them. */
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'OPERATION_RESOLUTION_FAILURE']);

const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';
// Apollo Server's own candidates, in its order, so the status follows the content type it is about to choose.
const CANDIDATES = [JSON_MEDIA_TYPE, 'application/graphql-response+json; charset=utf-8', 'application/json; callbackSpec=1.0; charset=utf-8'];

/** The media type of the answer to a request with this Accept header (none → application/json, as Apollo does). */
function responseMediaType(accept: string | undefined): string | undefined {
  if (!accept) return JSON_MEDIA_TYPE;
  return new Negotiator({ headers: { accept } }).mediaType(CANDIDATES);
}

/**
 * GraphQL over HTTP: a request error (parse, validation — our depth, alias and cost limits among them — or variable
 * coercion) is answered with status 200 when the answer is `application/json`, since such clients read the body and
 * not the status; `application/graphql-response+json` keeps Apollo's 400. Authentication (401), body limits (413),
 * malformed HTTP requests (400 BAD_REQUEST) and an unreachable database (503) keep their statuses for either type.
 */
export const graphqlOverHttpStatus: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ request, response }) {
        if (response.http.status !== 400 || response.body.kind !== 'single') return;
        const { data, errors } = response.body.singleResult;
        if (data !== undefined || !errors?.length) return;
        if (!errors.every((e) => REQUEST_ERROR_CODES.has(String(e.extensions?.code)))) return;
        if (responseMediaType(request.http?.headers.get('accept')) !== JSON_MEDIA_TYPE) return;
        response.http.status = 200;
      },
    };
  },
};
