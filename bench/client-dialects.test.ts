import { describe, expect, it } from 'vitest';
import { clientDialects } from './client-dialects.ts';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('raw-echo dialect', () => {
  const d = clientDialects['raw-echo'];
  it('keys a send by its number and reads the echo back as its answer', () => {
    const spec = { id: 'c1' };
    const { key, data } = d.frame(spec, 41, 'xx');
    expect(key).toBe('41');
    expect(d.read(spec, Buffer.from(data))).toEqual({ answers: '41' });
    expect(d.greeting(spec)).toBeNull();
    expect(d.read(spec, Buffer.from('not json'))).toEqual({});
  });
});

describe('raw-broadcast dialect', () => {
  const d = clientDialects['raw-broadcast'];
  const me = { id: 'r0m1', room: 'r 0' };
  const other = { id: 'r0m10', room: 'r 0' };
  it('joins its room by query and tells its own copies from the others', () => {
    expect(d.url('ws://127.0.0.1:1', me)).toBe('ws://127.0.0.1:1/?room=r%200');
    const mine = d.frame(me, 7, 'body');
    expect(d.read(me, Buffer.from(mine.data))).toEqual({ delivery: true, answers: mine.key });
    // r0m10 starts like r0m1: the closing quote in the prefix keeps them apart.
    const theirs = d.frame(other, 7, 'body');
    expect(d.read(me, Buffer.from(theirs.data))).toEqual({ delivery: true });
  });
});

describe('chat dialect', () => {
  const d = clientDialects.chat;
  const spec = { id: 'd0a', conv: 'd0', token: 'jwt' };
  it('greets with hello and frames sends with a per-user cmid', () => {
    expect(JSON.parse(d.greeting(spec)!)).toEqual({ t: 'hello', token: 'jwt' });
    const { key, data } = d.frame(spec, 3, 'hi');
    expect(key).toBe('d0a.3');
    expect(JSON.parse(data)).toEqual({ t: 'send', conv: 'd0', cmid: 'd0a.3', body: 'hi' });
  });

  it('reads welcome, ack, msg in any key order, and err', () => {
    expect(d.read(spec, bytes({ t: 'welcome', user: 'd0a', convs: [] }))).toEqual({ ready: true });
    expect(d.read(spec, bytes({ t: 'ack', conv: 'd0', cmid: 'd0a.3', seq: 1, ts: 1 }))).toEqual({
      answers: 'd0a.3',
    });
    expect(d.read(spec, bytes({ t: 'msg', conv: 'd0', seq: 1 }))).toEqual({ delivery: true });
    expect(d.read(spec, bytes({ conv: 'd0', t: 'msg', seq: 1 }))).toEqual({ delivery: true });
    expect(d.read(spec, bytes({ t: 'err', code: 'rate_limited', ref: 'd0a.4' }))).toEqual({
      errorCode: 'rate_limited',
      answers: 'd0a.4',
    });
    expect(d.read(spec, bytes({ t: 'err', code: 'bad_request' }))).toEqual({ errorCode: 'bad_request' });
    expect(d.read(spec, bytes({ t: 'receipt' }))).toEqual({});
  });
});
