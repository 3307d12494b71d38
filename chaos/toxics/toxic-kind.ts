// What a toxic type is to the proxy: its attributes (named and typed as Toxiproxy's Go structs, so
// the JSON is the same), how it moves chunks through a stub, and the few type-specific rules of the
// link model (buffer size, per-connection state, cleanup on removal, RST on close).

import type { ToxicStub } from '../toxic-stub.ts';

export type GoIntType = 'int' | 'int64';
export type Attributes = Record<string, number>;

export type ToxicKind = {
  type: string;
  /** Go struct name, for decode errors that read like Toxiproxy's. */
  goStruct: string;
  /** Attribute names and Go types, in Toxiproxy's JSON order. */
  attributes: readonly (readonly [name: string, type: GoIntType])[];
  /** Input queue capacity in chunks (Toxiproxy's BufferedToxic). */
  bufferChunks?: number;
  /** Rules Toxiproxy does not check but would crash or hang on; a message means 400. */
  validate?(attributes: Attributes): string | null;
  pipe(stub: ToxicStub, attributes: Attributes, random: () => number): Promise<void>;
  /** Fresh per-connection state when the toxic joins a link (Toxiproxy's StatefulToxic). */
  newState?(): unknown;
  /** Runs on removal, whatever the toxicity roll chose (Toxiproxy's CleanupToxic). */
  cleanup?(stub: ToxicStub): void;
  /** Present in a link's chain at accept: both sockets close with RST (SetLinger(0)). */
  lingerZero?: boolean;
};

export function zeroAttributes(kind: ToxicKind): Attributes {
  return Object.fromEntries(kind.attributes.map(([name]) => [name, 0]));
}
