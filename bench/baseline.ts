import express from 'express';
import { listenComparator } from './comparatorServer.js';

/**
 * The bare baseline every scenario is compared with: Express 5 parsing a JSON, form or text body
 * and echoing it as JSON. Same framework and process model as the service, none of its work.
 * Listens on 127.0.0.1:$PORT (bench/comparatorServer.ts) and prints one line `listening <port>` when ready.
 */
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '64kb' }));
app.use(express.urlencoded({ extended: false, limit: '64kb' }));
app.use(express.text({ type: ['application/xml', 'text/*'], limit: '64kb' }));
app.all('/{*path}', (req, res) => {
  res.json({ method: req.method, path: req.path, body: req.body ?? null });
});

listenComparator(app, (port) => process.stdout.write(`listening ${port}\n`));
