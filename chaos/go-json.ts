// JSON in and out the way Toxiproxy's Go server does it, where a client can tell: keys matched
// case-insensitively, null leaving a field as it was, unknown keys ignored, type errors worded like
// encoding/json's, and <, >, & escaped in output.

export class GoJsonError extends Error {}

type Kind = 'string' | 'bool' | 'float32' | 'int' | 'int64';

/** Parses a request body; the first JSON value counts, as with Go's json.Decoder. */
export function parseBody(text: string): unknown {
  if (text.trim() === '') throw new GoJsonError('EOF');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GoJsonError((error as Error).message);
  }
}

export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/** The body as a struct (an object); `null` decodes to nothing, as in Go. */
export function asStruct(value: unknown, goType: string): Record<string, unknown> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new GoJsonError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}`);
  return value as Record<string, unknown>;
}

/** A field by its JSON name: an exact match first, then any case-insensitive one (Go's rule). */
export function field(struct: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(struct, name)) return struct[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(struct)) if (key.toLowerCase() === lower) return struct[key];
  return undefined;
}

/** Decodes one field; undefined when absent or null (Go keeps the field's value). */
export function decodeField(
  struct: Record<string, unknown>,
  name: string,
  kind: 'string',
  goStruct: string,
): string | undefined;
export function decodeField(
  struct: Record<string, unknown>,
  name: string,
  kind: 'bool',
  goStruct: string,
): boolean | undefined;
export function decodeField(
  struct: Record<string, unknown>,
  name: string,
  kind: 'float32' | 'int' | 'int64',
  goStruct: string,
): number | undefined;
export function decodeField(
  struct: Record<string, unknown>,
  name: string,
  kind: Kind,
  goStruct: string,
): string | boolean | number | undefined {
  const value = field(struct, name);
  if (value === undefined || value === null) return undefined;
  const wrong = (shown: string) =>
    new GoJsonError(
      `json: cannot unmarshal ${shown} into Go struct field ${goStruct}.${name} of type ${kind}`,
    );
  if (kind === 'string') {
    if (typeof value !== 'string') throw wrong(jsonKind(value));
    return value;
  }
  if (kind === 'bool') {
    if (typeof value !== 'boolean') throw wrong(jsonKind(value));
    return value;
  }
  if (typeof value !== 'number') throw wrong(jsonKind(value));
  if (kind === 'float32') return value;
  const limit = kind === 'int64' || kind === 'int' ? 2 ** 63 : 0;
  if (!Number.isInteger(value) || Math.abs(value) >= limit) throw wrong(`number ${value}`);
  return value;
}

/** Go's json.Marshal: HTML-sensitive characters escaped. */
export function goStringify(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
