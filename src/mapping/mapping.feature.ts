import { readBody } from '../http/body.js';
import { handle, send } from '../http/respond.js';
import { route } from '../http/routing.js';
import type { Feature } from '../webhook/registry.js';
import { readPreviewRequest } from './preview.request.js';
import { compileMapping, parseDocument, previewMapping } from './preview.service.js';

/** `POST /mapping/preview` (docs/http.md §5): try a response mapping on a pasted document. */
export function createMappingFeature(): Feature {
  return {
    name: 'mapping',
    routes(router) {
      route(router, '/mapping/preview', {
        post: [
          readBody(),
          handle((req, res) => {
            const { document, mapping } = readPreviewRequest(res.locals.input);
            const paths = compileMapping(mapping);
            const doc = typeof document === 'string' ? parseDocument(document) : document;
            send(req, res, 200, { ...previewMapping(doc, paths) });
          }),
        ],
      });
    },
  };
}
