import http from 'node:http';
import type { Express, NextFunction, Request, Response } from 'express';

/**
 * How the service's Node server hands requests to the Express app without changing any object's
 * prototype (docs/http.md §8.7).
 *
 * Express's own listener (`app.handle`) gives each request and response the app's prototypes with
 * `Object.setPrototypeOf`. V8 then keeps much of each request's objects past the young
 * generation: measured with a bare Express 5 app at 2,200 requests/s, about 4 MB survived each
 * scavenge and a full mark-compact ran every 1–2 s, stalling the event loop by 30–130 ms each
 * time; the same server without the prototype change kept nothing and never ran one. Here
 * the server builds requests and responses from subclasses of Node's classes whose prototypes
 * inherit from the app's `request` and `response`, so they already have Express's methods and
 * `req.app`, and the listener does the rest of `app.handle`: the req/res links, `res.locals`,
 * then the app's router.
 */

export interface ExpressMessages {
  IncomingMessage: typeof http.IncomingMessage;
  ServerResponse: typeof http.ServerResponse;
}

/** Request and response classes born with `app`'s prototypes (Express's request/response methods, `req.app`). */
export function expressMessages(app: Express): ExpressMessages {
  class AppRequest extends http.IncomingMessage {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  class AppResponse extends http.ServerResponse {}
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  return { IncomingMessage: AppRequest, ServerResponse: AppResponse as unknown as typeof http.ServerResponse };
}

/**
 * The server's listener: `app.handle` without the prototype change (the classes of
 * `expressMessages(app)` made it unnecessary) and without its X-Powered-By header (the service
 * turns it off, src/app.ts). The app's last handlers answer every request, so
 * `done` runs only if an error escapes them: a bare 500, or the connection closed when the reply
 * had begun, as Express's final handler does.
 */
export function expressListener(app: Express): http.RequestListener {
  const router = (app as unknown as { router: (req: Request, res: Response, next: NextFunction) => void }).router;
  return (incoming, outgoing) => {
    const req = incoming as Request;
    const res = outgoing as unknown as Response;
    req.res = res;
    res.req = req;
    res.locals ??= Object.create(null) as Response['locals'];
    router(req, res, (err?: unknown) => {
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      res.statusCode = err ? 500 : 404;
      res.end();
    });
  };
}
