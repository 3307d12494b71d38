// Helpers for the server's HTTP API (protocol.md, "HTTP"). `request` returns status and parsed body
// whatever they are, for tests of the error paths; the `must*` helpers throw a readable error unless
// the call succeeded, for tests that only need the call as setup.

import type { Message } from '../reference-server/protocol/frames.ts';
import { testLimits } from './limits.ts';

export type HttpResponse<T = unknown> = { status: number; body: T; text: string; contentType: string };
export type RequestOptions = {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
};
export type ConversationSpec = { id: string; kind: 'direct' | 'group'; members: string[] };
export type MessagesBody = { messages: Message[]; lastSeq: number };
export type ReceiptsBody = {
  conv: string;
  lastSeq: number;
  members: { user: string; delivered: number; read: number }[];
};
export type ErrorBody = { code: string; message: string };

export class HttpApi {
  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(testLimits.socketTimeoutMs),
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (contentType.includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error(
          `${method} ${path}: ${response.status} with a content-type of ${contentType} but invalid JSON: ${text}`,
        );
      }
    }
    return { status: response.status, body: parsed as T, text, contentType };
  }

  createConversation(adminToken: string, spec: ConversationSpec): Promise<HttpResponse> {
    return this.request('POST', '/v1/admin/conversations', { token: adminToken, body: spec });
  }

  changeMembers(
    adminToken: string,
    conv: string,
    change: { add?: string[]; remove?: string[] },
  ): Promise<HttpResponse> {
    return this.request('POST', `/v1/admin/conversations/${encodeURIComponent(conv)}/members`, {
      token: adminToken,
      body: change,
    });
  }

  messages(token: string, conv: string, after = 0, limit?: number): Promise<HttpResponse<MessagesBody>> {
    const query = `after=${after}${limit === undefined ? '' : `&limit=${limit}`}`;
    return this.request('GET', `/v1/conversations/${encodeURIComponent(conv)}/messages?${query}`, { token });
  }

  receipts(token: string, conv: string): Promise<HttpResponse<ReceiptsBody>> {
    return this.request('GET', `/v1/conversations/${encodeURIComponent(conv)}/receipts`, { token });
  }

  async mustCreateConversation(adminToken: string, spec: ConversationSpec): Promise<void> {
    const response = await this.createConversation(adminToken, spec);
    if (response.status !== 201 && response.status !== 200)
      throw new Error(`creating conversation ${spec.id}: ${response.status} ${response.text}`);
  }

  async mustChangeMembers(
    adminToken: string,
    conv: string,
    change: { add?: string[]; remove?: string[] },
  ): Promise<void> {
    const response = await this.changeMembers(adminToken, conv, change);
    if (response.status !== 200)
      throw new Error(`changing members of ${conv}: ${response.status} ${response.text}`);
  }

  /** Every message of `conv` readable by the token's user, paging through `limit`-sized pages. */
  async allMessages(token: string, conv: string, pageLimit = 500): Promise<Message[]> {
    const all: Message[] = [];
    let after = 0;
    for (let page = 0; page < testLimits.httpPagesMax; page++) {
      const response = await this.messages(token, conv, after, pageLimit);
      if (response.status !== 200)
        throw new Error(`reading ${conv} after ${after}: ${response.status} ${response.text}`);
      const { messages, lastSeq } = response.body;
      all.push(...messages);
      const last = messages.at(-1);
      if (!last || last.seq >= lastSeq) return all;
      after = last.seq;
    }
    throw new Error(`reading ${conv}: more than ${testLimits.httpPagesMax} pages`);
  }
}
