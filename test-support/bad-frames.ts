// fast-check arbitraries for client frames a conforming server must refuse, each with the error code
// protocol.md prescribes. Every frame is invalid by construction (not by sampling luck), so a test can
// predict the answer to each one: `bad_request`, or `too_large` for a well-formed send whose body is
// over 4096 UTF-8 bytes.

import fc from 'fast-check';

export type BadFrame = {
  /** A text frame, or the bytes of a binary frame. */
  data: string | Buffer;
  expected: 'bad_request' | 'too_large';
  /** What kind of bad frame this is, for failure messages. */
  kind: string;
};

const knownTypes = ['hello', 'send', 'sync', 'delivered', 'read', 'typing', 'watch'];
const loneSurrogates = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];
const oddUnicode = ['\u0000', '\u200B', '\uFEFF', '\u202E', 'é', '€', '😀', '𝕏', ...loneSurrogates];
/** Numbers no seq may be: unsafe, fractional, negative or infinite (written raw, since JSON has no Infinity). */
const badNumberTexts = ['1e400', '-1e400', '9007199254740993', '1e21', '1.5', '-1', '-0.5'];

/** Strings that are never ids: empty, too long, outside [A-Za-z0-9_.:-], or with odd unicode. */
const notAnId = fc.oneof(
  fc.constant(''),
  fc.constant('x'.repeat(65)),
  fc.constantFrom('has space', 'slash/slash', 'semi;colon', 'quote"d', 'new\nline'),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...oddUnicode)).map(([s, u]) => `${s}${u}`),
);

/** JSON values of every type but the one named. */
function notA(type: 'string' | 'number' | 'boolean' | 'array' | 'object'): fc.Arbitrary<unknown> {
  const values: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 8 }),
    number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    boolean: fc.boolean(),
    array: fc.array(fc.integer(), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
    null: fc.constant(null),
  };
  return fc.oneof(
    ...Object.entries(values)
      .filter(([name]) => name !== type)
      .map(([, arbitrary]) => arbitrary),
  );
}

const notAnIdValue = fc.oneof(notAnId, notA('string'));
const notASeq = fc.oneof(fc.integer({ max: -1 }), fc.constantFrom(0.5, 1.25, -0.25), notA('number'));

function text(kind: string): (value: unknown) => BadFrame {
  return (value) => ({ data: JSON.stringify(value), expected: 'bad_request', kind });
}

function deeplyNested(depth: number, leaf: string): string {
  return `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
}

/**
 * Frames with the right `t` and one field broken. `conv` is a conversation the sender is a member
 * of, so nothing but the broken field stands between the frame and a valid answer.
 */
function brokenField(conv: string): fc.Arbitrary<BadFrame> {
  const frames: fc.Arbitrary<Record<string, unknown>>[] = [
    fc.record({
      t: fc.constant('send'),
      conv: notAnIdValue,
      cmid: fc.constant('c1'),
      body: fc.constant('x'),
    }),
    fc.record({
      t: fc.constant('send'),
      conv: fc.constant(conv),
      cmid: notAnIdValue,
      body: fc.constant('x'),
    }),
    fc.record({
      t: fc.constant('send'),
      conv: fc.constant(conv),
      cmid: fc.constant('c1'),
      body: notA('string'),
    }),
    fc.record({ t: fc.constant('sync'), conv: notAnIdValue, after: fc.constant(0) }),
    fc.record({ t: fc.constant('sync'), conv: fc.constant(conv), after: notASeq }),
    fc.record({
      t: fc.constant('sync'),
      conv: fc.constant(conv),
      after: fc.constant(0),
      limit: fc.oneof(fc.integer({ min: 501 }), fc.constant(0), notASeq),
    }),
    fc.record({ t: fc.constantFrom('delivered', 'read'), conv: notAnIdValue, seq: fc.constant(1) }),
    fc.record({ t: fc.constantFrom('delivered', 'read'), conv: fc.constant(conv), seq: notASeq }),
    fc.record({ t: fc.constant('typing'), conv: fc.constant(conv), on: notA('boolean') }),
    fc.record({ t: fc.constant('typing'), conv: notAnIdValue, on: fc.boolean() }),
    fc.record({ t: fc.constant('watch'), users: notA('array') }),
    fc.record({ t: fc.constant('watch'), users: fc.tuple(fc.constant('ok'), notAnIdValue) }),
    fc.record({
      t: fc.constant('watch'),
      users: fc.constant(Array.from({ length: 501 }, (_, i) => `u${i}`)),
    }),
    // A hello after the welcome: well-formed, and still refused.
    fc.record({ t: fc.constant('hello'), token: fc.string({ minLength: 1, maxLength: 20 }) }),
    fc.record({ t: fc.constant('hello'), token: notA('string') }),
  ];
  const missing = fc
    .tuple(
      fc.constantFrom(
        ['send', 'conv'],
        ['send', 'cmid'],
        ['send', 'body'],
        ['sync', 'after'],
        ['typing', 'on'],
      ),
      fc.constant(conv),
    )
    .map(([[t, field], c]) => {
      const full: Record<string, unknown> = { t, conv: c, cmid: 'c1', body: 'x', after: 0, on: true };
      delete full[field!];
      return full;
    });
  return fc.oneof(...frames, missing).map(text('broken field'));
}

/** Well-formed sends whose body is over 4096 UTF-8 bytes, often in fewer than 4096 UTF-16 units. */
function tooLargeSend(conv: string): fc.Arbitrary<BadFrame> {
  const chunk = fc.constantFrom('a', 'é', '€', '😀', '\uD800');
  return fc
    .tuple(
      fc.array(chunk, { maxLength: 40 }),
      chunk,
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 1, max: 1_000_000 }),
    )
    .map(([prefix, pad, extra, n]) => {
      let body = prefix.join('');
      const padBytes = Buffer.byteLength(pad);
      const missing = Math.max(0, 4097 - Buffer.byteLength(body));
      body += pad.repeat(Math.ceil(missing / padBytes) + extra);
      return {
        data: JSON.stringify({ t: 'send', conv, cmid: `big-${n}`, body }),
        expected: 'too_large',
        kind: 'too large body',
      };
    });
}

/** Any frame a server must answer with an error, never with a success. */
export function badFrame(conv: string): fc.Arbitrary<BadFrame> {
  const bad =
    (kind: string) =>
    (data: string | Buffer): BadFrame => ({ data, expected: 'bad_request', kind });
  return fc.oneof(
    fc
      .string({ maxLength: 200, unit: 'binary' })
      .filter((s) => !parsesToKnownFrameType(s))
      .map(bad('garbage text')),
    fc.uint8Array({ minLength: 0, maxLength: 300 }).map((bytes) => bad('binary')(Buffer.from(bytes))),
    fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
      .map(text('not an object')),
    fc.record({ t: notA('string') }).map(text('t not a string')),
    fc
      .record({ t: fc.string({ maxLength: 40 }).filter((t) => !knownTypes.includes(t)) })
      .map(text('unknown type')),
    fc
      .record({ t: fc.constantFrom(...loneSurrogates, '\u0000', 'send\u0000', 'SEND', ' send') })
      .map(text('odd unicode type')),
    fc
      .tuple(fc.constantFrom('sync', 'delivered', 'read'), fc.constantFrom(...badNumberTexts))
      .map(([t, n]) =>
        bad('huge or odd number')(`{"t":"${t}","conv":"${conv}","${t === 'sync' ? 'after' : 'seq'}":${n}}`),
      ),
    fc
      .integer({ min: 1, max: 20_000 })
      .map((depth) => bad('deeply nested array')(deeplyNested(depth, '{"t":"send"}'))),
    fc
      .integer({ min: 1, max: 5000 })
      .map((depth) =>
        bad('deeply nested field')(
          `{"t":"send","conv":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},"cmid":"c","body":"x"}`,
        ),
      ),
    brokenField(conv),
    tooLargeSend(conv),
  );
}

function parsesToKnownFrameType(text: string): boolean {
  try {
    const value = JSON.parse(text) as unknown;
    return (
      typeof value === 'object' &&
      value !== null &&
      knownTypes.includes((value as { t?: unknown }).t as string)
    );
  } catch {
    return false;
  }
}
