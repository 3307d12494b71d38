// Slow consumers: clients that read far slower than the node writes. Their send buffers pass the
// node's bound and the node must close them with 4509; they reconnect and resume.

import { rateLimitedLink } from './rate-limited-link.ts';

export const slowConsumer = rateLimitedLink('slow-consumer', 2 * 1024);
