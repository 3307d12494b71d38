// Sends a simulated run's spans to an OTLP/HTTP collector (Jaeger, Tempo, the OpenTelemetry
// Collector) after the run: the OTLP/JSON file's lines are export requests already, so each is
// POSTed as it is, one at a time, in order. After the run, not during it: the simulator never waits
// on the network, and what the collector gets is exactly what the file holds.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { tracingLimits } from './limits.ts';

export class OtlpSendError extends Error {
  override name = 'OtlpSendError';
}

/** POSTs one OTLP/JSON export request; throws OtlpSendError saying what the endpoint answered. */
export async function postOtlpJson(url: string, body: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(tracingLimits.exportTimeoutMs),
    });
  } catch (error) {
    throw new OtlpSendError(`the OTLP endpoint ${url} is unreachable: ${(error as Error).message}`);
  }
  if (!response.ok)
    throw new OtlpSendError(
      `the OTLP endpoint ${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
    );
}

/** Checks the endpoint takes OTLP/JSON before a run, with an empty export request (valid OTLP). */
export function checkOtlpEndpoint(url: string): Promise<void> {
  return postOtlpJson(url, '{"resourceSpans":[]}');
}

/** POSTs every line of an OTLP/JSON lines file; resolves to the number of requests sent. */
export async function sendOtlpJsonLines(url: string, file: string): Promise<number> {
  let sent = 0;
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (line.length === 0) continue;
    await postOtlpJson(url, line);
    sent++;
  }
  return sent;
}
