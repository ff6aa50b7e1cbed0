import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

const maxLoggedUserLength = 256;

/**
 * One line per admin request, refused ones too (no token, a wrong one, rate-limited): who asked
 * (the client address as the per-IP limits see it, so TRUST_PROXY applies), what (the route and
 * the user it targets) and how it ended (the status). Placed in front of a route's other handlers.
 */
export function auditAdmin(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const user = req.params.user;
    res.once('finish', () => {
      const status = res.statusCode;
      logger[status === 401 || status === 429 ? 'warn' : 'info'](
        {
          audit: 'admin',
          ip: req.ip,
          method: req.method,
          route: (req.route as { path?: string } | undefined)?.path,
          ...(user === undefined ? {} : { user: user.slice(0, maxLoggedUserLength) }),
          status,
        },
        'admin request',
      );
    });
    next();
  };
}
