// The protocol's HTTP API as the live driver uses it: admin conversation creation and membership
// changes (provisioning), and member reads of messages and receipts (the final read). Only what
// protocol.md promises is assumed; answers are checked for shape, and a server that answers
// something else is reported as such. Requests retry on 429/503 and network errors, bounded.

import type { Message } from '../../reference-server/protocol/frames.ts';
import { membersChangeBody } from '../admin-ledger.ts';
import { liveLimits } from './limits.ts';

export class AdminApiError extends Error {
  readonly code = 'CHATSIM_ERR_HTTP';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

type Answer = { status: number; body: unknown };

export class AdminApi {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  /** 201 created or 200 the same again; anything else throws. */
  async createConversation(id: string, kind: 'direct' | 'group', members: string[]): Promise<void> {
    const answer = await this.request('POST', '/v1/admin/conversations', this.adminToken, {
      id,
      kind,
      members,
    });
    if (answer.status !== 201 && answer.status !== 200)
      throw new AdminApiError(
        `POST /v1/admin/conversations ${id} answered ${answer.status} ${describe(answer.body)}`,
        answer.status,
      );
  }

  /** The answer's body: protocol.md leaves it open; a server may return the conversation's lastSeq. */
  async changeMembers(conv: string, add: string[], remove: string[]): Promise<Answer> {
    return this.request(
      'POST',
      `/v1/admin/conversations/${encodeURIComponent(conv)}/members`,
      this.adminToken,
      membersChangeBody({ add, remove }),
    );
  }

  /** One page of messages readable by the token's user. */
  async readMessages(
    conv: string,
    token: string,
    after: number,
    limit: number,
  ): Promise<{ status: number; messages: Message[]; lastSeq: number }> {
    const answer = await this.request(
      'GET',
      `/v1/conversations/${encodeURIComponent(conv)}/messages?after=${after}&limit=${limit}`,
      token,
    );
    if (answer.status !== 200) return { status: answer.status, messages: [], lastSeq: 0 };
    const body = answer.body as { messages?: unknown; lastSeq?: unknown };
    if (!Array.isArray(body?.messages) || typeof body.lastSeq !== 'number')
      throw new AdminApiError(
        `GET messages of ${conv} answered 200 without {messages: [...], lastSeq}: ${describe(answer.body)}`,
        200,
      );
    return { status: 200, messages: body.messages as Message[], lastSeq: body.lastSeq };
  }

  async receipts(conv: string, token: string): Promise<Answer> {
    return this.request('GET', `/v1/conversations/${encodeURIComponent(conv)}/receipts`, token);
  }

  async request(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
    await this.acquire();
    try {
      let last: Answer | Error = new Error('no attempt');
      for (let attempt = 0; attempt < liveLimits.httpAttemptsMax; attempt++) {
        if (attempt > 0) await delay(100 * 2 ** attempt);
        try {
          const response = await fetch(`${this.baseUrl}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(liveLimits.httpTimeoutMs),
          });
          const text = await response.text();
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            // Not JSON: kept as text for the message.
          }
          last = { status: response.status, body: parsed };
          if (response.status !== 429 && response.status !== 503) return last;
        } catch (error) {
          last = error as Error;
        }
      }
      if (last instanceof Error)
        throw new AdminApiError(`${method} ${this.baseUrl}${path} failed: ${causeOf(last)}`, 0);
      return last;
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < liveLimits.httpConcurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

function describe(body: unknown): string {
  return JSON.stringify(body)?.slice(0, 200) ?? '';
}

export function causeOf(error: Error): string {
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
