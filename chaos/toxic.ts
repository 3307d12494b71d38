// A toxic as the API knows it (Toxiproxy's ToxicWrapper): a named, typed instance on one stream of a
// proxy, with its attributes and toxicity. Its JSON is Toxiproxy's, key order included.

import type { Attributes, ToxicKind } from './toxics/toxic-kind.ts';

export type Direction = 'upstream' | 'downstream';

export type Toxic = {
  name: string;
  kind: ToxicKind;
  /** As sent (matched case-insensitively), e.g. "Upstream". */
  stream: string;
  direction: Direction;
  /** Go's float32: stored as sent, not range-checked. */
  toxicity: number;
  attributes: Attributes;
};

export type ToxicJson = {
  attributes: Attributes;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
};

export function toxicJson(toxic: Toxic): ToxicJson {
  return {
    attributes: { ...toxic.attributes },
    name: toxic.name,
    type: toxic.kind.type,
    stream: toxic.stream,
    toxicity: float32(toxic.toxicity),
  };
}

/** A number as Go's json.Marshal prints a float32: the shortest decimal that reads back as the same float32. */
export function float32(value: number): number {
  const stored = Math.fround(value);
  if (!Number.isFinite(stored)) return stored;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(stored.toPrecision(digits));
    if (Math.fround(candidate) === stored) return candidate;
  }
  return stored;
}
