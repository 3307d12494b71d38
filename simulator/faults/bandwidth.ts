// Toxiproxy's `bandwidth` toxic: the server-to-client direction of some links limited to a rate.

import { rateLimitedLink } from './rate-limited-link.ts';

export const bandwidth = rateLimitedLink('bandwidth', 64 * 1024);
