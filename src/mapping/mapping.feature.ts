import { readBody } from '../http/body.js';
import { handle, send } from '../http/respond.js';
import { route } from '../http/routing.js';
import type { Feature } from '../webhook/registry.js';
import { readPreviewRequest } from './preview.request.js';
import { compileMapping, previewMapping } from './preview.service.js';

/** `POST /mapping/preview` (CONTRACT 5): try a response mapping on a pasted document. */
export function createMappingFeature(): Feature {
  return {
    name: 'mapping',
    routes(router) {
      route(router, '/mapping/preview', {
        post: [
          readBody(),
          handle((req, res) => {
            const { document, mapping } = readPreviewRequest(res.locals.input);
            send(req, res, 200, { ...previewMapping(document, compileMapping(mapping)) });
          }),
        ],
      });
    },
  };
}
