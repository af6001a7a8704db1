import { dirname, join } from 'node:path';
import express, { type Router } from 'express';
import { EXAMPLE_OPERATIONS } from './explorer-examples';

const ASSETS: Record<string, { file: string; type: string }> = {
  'react.js': { file: join(dirname(require.resolve('react/package.json')), 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { file: join(dirname(require.resolve('react-dom/package.json')), 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { file: join(dirname(require.resolve('graphiql/package.json')), 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: join(dirname(require.resolve('graphiql/package.json')), 'graphiql.min.css'), type: 'text/css' },
};

/** Serialises a value into a <script> block without letting `</script>` or U+2028 end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function explorerHtml(endpoint: string): string {
  const tabs = EXAMPLE_OPERATIONS.map((op) => ({ query: op.query, variables: op.variables ?? undefined, headers: op.headers }));
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Countersign API explorer</title>
  <link rel="stylesheet" href="/explorer/assets/graphiql.css">
  <style>html, body, #explorer { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="explorer">Loading the explorer…</div>
  <script src="/explorer/assets/react.js"></script>
  <script src="/explorer/assets/react-dom.js"></script>
  <script src="/explorer/assets/graphiql.js"></script>
  <script>
    const tabs = ${scriptJson(tabs)};
    // subscriptions go over graphql-ws on the same path; the headers editor's Authorization becomes its connectionParams
    const fetcher = GraphiQL.createFetcher({ url: ${scriptJson(endpoint)}, subscriptionUrl: location.origin.replace(/^http/, 'ws') + ${scriptJson(endpoint)} });
    const root = ReactDOM.createRoot(document.getElementById('explorer'));
    root.render(React.createElement(GraphiQL, {
      fetcher,
      defaultTabs: tabs,
      defaultHeaders: ${scriptJson(JSON.stringify({ Authorization: 'Bearer <paste your API key>' }, null, 2))},
      headerEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers',
    }));
  </script>
</body>
</html>`;
}

/** The explorer page (GraphiQL) and its assets, served from node_modules so it works with no internet. */
export function explorerRouter(endpoint = '/graphql'): Router {
  const router = express.Router();
  const html = explorerHtml(endpoint);
  const sendPage: express.RequestHandler = (_req, res) => {
    res.set('Content-Security-Policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
    res.type('html').send(html);
  };
  router.get('/explorer/assets/:name', (req, res) => {
    const asset = ASSETS[req.params.name];
    if (!asset) {
      res.status(404).json({ errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    res.type(asset.type).sendFile(asset.file, { maxAge: '1d' });
  });
  router.get('/explorer', sendPage);
  router.get(endpoint, (req, res, next) => {
    const wantsHtml = req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
    if (wantsHtml && !req.query.query) sendPage(req, res, next);
    else next();
  });
  return router;
}
