// What a hello's token check costs the node (issue #11, the 100,000 connects): CPU per HS256
// verification through jose with the secret as raw bytes (jose imports it into WebCrypto every time)
// against a key imported once (reference-server/runtime/auth.ts), one at a time and 100 at once.
//   npx tsx bench/jwt-verify.ts [verifications]

import { jwtVerify, SignJWT } from 'jose';

const count = Number(process.argv[2] ?? 20_000);
const raw = new TextEncoder().encode('bench-jwt-verify-0123456789abcdef');
const imported = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
  'verify',
]);
const token = await new SignJWT({})
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject('u123')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(raw);
const verify = (key: Uint8Array | CryptoKey) =>
  jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });

async function measure(name: string, key: Uint8Array | CryptoKey, atOnce: number): Promise<void> {
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i += atOnce)
    await Promise.all(Array.from({ length: atOnce }, () => verify(key)));
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${name}, ${atOnce} at once: ${((used.user + used.system) / count).toFixed(1)} µs CPU per verification\n`,
  );
}

for (let round = 1; round <= 2; round++) {
  process.stdout.write(`round ${round} (${count} verifications each)\n`);
  for (const atOnce of [1, 100]) {
    await measure('raw secret', raw, atOnce);
    await measure('imported key', imported, atOnce);
  }
}
