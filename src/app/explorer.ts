import { dirname, join } from 'node:path';
import express, { type Router } from 'express';
import { EXAMPLE_OPERATIONS } from './explorer-examples';
import { SERVER_VERSION } from './version';

const ASSETS: Record<string, { file: string; type: string }> = {
  'react.js': { file: join(dirname(require.resolve('react/package.json')), 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { file: join(dirname(require.resolve('react-dom/package.json')), 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { file: join(dirname(require.resolve('graphiql/package.json')), 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: join(dirname(require.resolve('graphiql/package.json')), 'graphiql.min.css'), type: 'text/css' },
};

/** Where the page keeps the key (GraphiQL keeps its tabs, their Headers included, under `graphiql:*`). */
export const EXPLORER_KEY_STORAGE = 'countersign:apiKey';

/** Serialises a value into a <script> block without letting `</script>` or U+2028 end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The page's own script. With no stored key it shows a small form; a key is checked with `{ me }` before it is kept
 * (local storage) and written into every tab's Headers that held no other credentials; then GraphiQL mounts and
 * introspects with it, so the docs and autocompletion work at once. "Change key" unmounts GraphiQL and does it again.
 */
const CLIENT_SCRIPT = `
const KEY_STORAGE = config.keyStorage;
const root = ReactDOM.createRoot(document.getElementById('explorer'));
const form = document.getElementById('key-form');
const input = document.getElementById('api-key');
const problem = document.getElementById('key-problem');
const who = document.getElementById('who');
const changeKey = document.getElementById('change-key');
let currentKey = null;

const authorizationOf = (key) => 'Bearer ' + key;
const headersText = (key) => JSON.stringify({ Authorization: authorizationOf(key) }, null, 2);

// A tab's Headers get the new key unless they carry credentials of their own (another key, a JWT).
function withKey(text, previousKey, key) {
  let headers;
  try { headers = text ? JSON.parse(text) : {}; } catch (e) { return text; }
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return text;
  const name = Object.keys(headers).find((k) => k.toLowerCase() === 'authorization');
  const value = name ? String(headers[name]) : '';
  const ours = !name || /^Bearer\\s*(<[^>]*>)?\\s*$/.test(value) || (previousKey && value === authorizationOf(previousKey));
  if (!ours) return text;
  if (name) delete headers[name];
  return JSON.stringify(Object.assign({ Authorization: authorizationOf(key) }, headers), null, 2);
}

function rewriteStoredHeaders(previousKey, key) {
  try {
    const state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
    if (state && Array.isArray(state.tabs)) {
      state.tabs.forEach((tab) => { tab.headers = withKey(tab.headers, previousKey, key); });
      localStorage.setItem('graphiql:tabState', JSON.stringify(state));
    }
    const headers = localStorage.getItem('graphiql:headers');
    if (headers !== null) localStorage.setItem('graphiql:headers', withKey(headers, previousKey, key));
  } catch (e) { /* GraphiQL starts from the example tabs */ }
}

async function whoAmI(key) {
  let response;
  try {
    response = await fetch(config.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: authorizationOf(key) },
      body: JSON.stringify({ query: '{ me { email role } }' }),
    });
  } catch (e) {
    throw new Error('The server did not answer (' + e.message + ').');
  }
  const body = await response.json().catch(() => null);
  if (body && body.data && body.data.me) return body.data.me;
  const error = body && body.errors && body.errors[0];
  throw new Error(error ? error.message + (error.extensions && error.extensions.code ? ' (' + error.extensions.code + ')' : '') : 'HTTP ' + response.status);
}

// GraphiQL saves its tabs half a second after a change; writes of a GraphiQL that was since unmounted are dropped,
// or they would put the old key back into the tabs' Headers.
let generation = 0;
function storageFor(mine) {
  const live = () => mine === generation;
  return {
    getItem: (name) => localStorage.getItem(name),
    setItem: (name, value) => { if (live()) localStorage.setItem(name, value); },
    removeItem: (name) => { if (live()) localStorage.removeItem(name); },
    get length() { return Object.keys(localStorage).filter((name) => name.startsWith('graphiql:')).length; },
    clear: () => { if (live()) Object.keys(localStorage).filter((name) => name.startsWith('graphiql:')).forEach((name) => localStorage.removeItem(name)); },
  };
}

function showForm(message) {
  generation += 1;
  root.render(null);
  document.body.classList.add('asking');
  changeKey.hidden = true;
  who.textContent = '';
  problem.textContent = message || '';
  problem.hidden = !message;
  form.hidden = false;
  input.focus();
}

function mountExplorer(key, me) {
  form.hidden = true;
  document.body.classList.remove('asking');
  who.textContent = 'Signed in as ' + me.email + ' (' + me.role + ')';
  changeKey.hidden = false;
  // subscriptions go over graphql-ws on the same path; the Headers (Authorization) become its connectionParams
  const base = GraphiQL.createFetcher({ url: config.endpoint, subscriptionUrl: location.origin.replace(/^http/, 'ws') + config.endpoint });
  // The Headers editor wins; a tab whose Headers name no Authorization still sends the stored key.
  const fetcher = (params, options) => {
    const headers = Object.assign({}, options && options.headers);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) headers.Authorization = authorizationOf(key);
    return base(params, Object.assign({}, options, { headers }));
  };
  generation += 1;
  root.render(React.createElement(GraphiQL, {
    key: key + ':' + generation, // a new key mounts a new GraphiQL, which introspects again
    storage: storageFor(generation),
    fetcher,
    defaultTabs: config.tabs.map((tab) => Object.assign({}, tab, { headers: headersText(key) })),
    defaultHeaders: headersText(key),
    headers: headersText(key), // the blank tab GraphiQL opens beside stored tabs gets the key too
    headerEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: 'variables',
  }));
}

async function useKey(key, previousKey) {
  const me = await whoAmI(key);
  localStorage.setItem(KEY_STORAGE, key);
  rewriteStoredHeaders(previousKey, key);
  currentKey = key;
  mountExplorer(key, me);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = input.value.trim().replace(/^Bearer\\s+/i, '');
  if (!key) { problem.textContent = 'Paste an API key first.'; problem.hidden = false; return; }
  try {
    await useKey(key, currentKey || localStorage.getItem(KEY_STORAGE));
    input.value = '';
  } catch (e) {
    problem.textContent = 'That key was refused: ' + e.message;
    problem.hidden = false;
  }
});
changeKey.addEventListener('click', () => showForm(''));

const stored = localStorage.getItem(KEY_STORAGE);
if (stored) useKey(stored, stored).catch((e) => showForm('The stored key was refused: ' + e.message));
else showForm('');
`;

function explorerHtml(endpoint: string): string {
  const tabs = EXAMPLE_OPERATIONS.map((op) => ({ query: op.query, variables: op.variables ? JSON.stringify(op.variables, null, 2) : undefined }));
  const config = { endpoint, tabs, keyStorage: EXPLORER_KEY_STORAGE };
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="countersign-version" content="${SERVER_VERSION}">
  <title>Countersign API explorer</title>
  <link rel="stylesheet" href="/explorer/assets/graphiql.css">
  <style>
    html, body { height: 100%; margin: 0; font-family: system-ui, sans-serif; }
    body { display: flex; flex-direction: column; }
    #bar { display: flex; gap: 1em; align-items: center; padding: 6px 12px; font-size: 14px; border-bottom: 1px solid #ddd; }
    #bar strong { font-weight: 600; }
    #bar .grow { flex: 1; }
    #explorer { flex: 1; min-height: 0; }
    body.asking #explorer { display: none; }
    #key-form { max-width: 34em; margin: 4em auto; padding: 1.5em 2em; border: 1px solid #ddd; border-radius: 8px; }
    #key-form h1 { font-size: 1.3em; margin-top: 0; }
    #key-form input { width: 100%; box-sizing: border-box; padding: 8px; font: 14px monospace; }
    #key-form button { margin-top: 1em; padding: 8px 16px; }
    #key-problem { color: #b00020; }
    code { background: #f3f3f3; padding: 0 3px; }
  </style>
</head>
<body class="asking">
  <div id="bar">
    <strong>Countersign API explorer</strong>
    <span id="version">version ${SERVER_VERSION}</span>
    <span class="grow"></span>
    <span id="who"></span>
    <button id="change-key" type="button" hidden>Change key</button>
  </div>
  <form id="key-form" hidden>
    <h1>Paste your API key</h1>
    <p>Every request needs a key. The first admin key was printed once by <code>npm start</code>; make another with
      <code>npm run cli -- apikey create --user admin@countersign.local --name me</code>.</p>
    <p>The key goes into the <b>Headers</b> of every tab as <code>Authorization: Bearer …</code> and is kept in this
      browser's local storage (nowhere else); "Change key" replaces it.</p>
    <label for="api-key">API key</label>
    <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck="false" placeholder="cs_…">
    <p id="key-problem" role="alert" hidden></p>
    <button type="submit">Open the explorer</button>
  </form>
  <div id="explorer"></div>
  <script src="/explorer/assets/react.js"></script>
  <script src="/explorer/assets/react-dom.js"></script>
  <script src="/explorer/assets/graphiql.js"></script>
  <script>
    (function (config) {${CLIENT_SCRIPT}})(${scriptJson(config)});
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
