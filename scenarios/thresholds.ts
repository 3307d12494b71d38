// SLO thresholds in k6's syntax: each metric maps to a list of expressions such as `p(99)<250` or
// `count<1`, and a run breaches its SLOs (exit code 2) when any expression is false. Parsing and
// validation live here so a scenario file is refused at the boundary, with the reason, before a run;
// the runner hands in the measured values and gets one verdict per expression back.

/**
 * How a metric is aggregated: a trend (latency-like: percentiles, avg, min, max) or a rate (a share
 * of events, as k6's `http_req_failed`: `rate` is the share, `count` the number).
 */
export type MetricKind = 'trend' | 'rate';

/** The metrics a threshold may name, with what they measure. Other helpers add metrics here. */
export const thresholdMetrics = {
  ackLatency: {
    kind: 'trend',
    unit: 'ms',
    description:
      'time from a send (scheduled, so a slow server cannot hide behind a waiting generator) to its ack, for sends after the warm-up',
  },
  fanoutLag: {
    kind: 'trend',
    unit: 'ms',
    description:
      "per message, from its first recipient device's display to its last one's (messages first shown after the warm-up, on two devices or more)",
  },
  repeatedPushes: {
    kind: 'rate',
    unit: 'pushes (count) or share of pushes (rate)',
    description:
      "pushed messages (`msg`) a device had already displayed: protocol.md lets pushes repeat, so this is the cost of a server's fan-out bookkeeping, not a loss (a server that pushed everything twice passed every property)",
  },
  failedSends: {
    kind: 'rate',
    unit: 'sends (count) or share of sends (rate)',
    description: 'sends the client gave up on (retries spent or a final error)',
  },
} as const satisfies Record<string, { kind: MetricKind; unit: string; description: string }>;
export type ThresholdMetric = keyof typeof thresholdMetrics;

export const thresholdMetricNames = Object.keys(thresholdMetrics) as ThresholdMetric[];

const operators = ['<=', '>=', '==', '!=', '<', '>'] as const;
type Operator = (typeof operators)[number];

export type Aggregation =
  | { kind: 'percentile'; p: number }
  | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' };

export type Threshold = {
  metric: ThresholdMetric;
  /** As written in the scenario, e.g. `p(99)<250`. */
  expression: string;
  aggregation: Aggregation;
  operator: Operator;
  value: number;
};

const aggregationsOf: Record<MetricKind, readonly string[]> = {
  trend: ['p(N)', 'avg', 'min', 'max', 'med'],
  rate: ['rate', 'count'],
};

const expressionPattern =
  /^\s*(p\(\s*([0-9]+(?:\.[0-9]+)?)\s*\)|[a-z]+)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$/;

/** Parses one expression for `metric`; returns the threshold or a message that says what is wrong. */
export function parseThreshold(metric: ThresholdMetric, expression: string): Threshold | string {
  const { kind } = thresholdMetrics[metric];
  const allowed = aggregationsOf[kind].join(', ');
  const match = expressionPattern.exec(expression);
  if (match === null)
    return `"${expression}" is not a threshold expression; write AGGREGATION OPERATOR NUMBER, e.g. ${kind === 'trend' ? '"p(99)<250"' : '"rate<0.01"'} (aggregations of ${metric}: ${allowed}; operators: ${operators.join(' ')})`;
  const [, aggregationText, percentile, operator, valueText] = match as unknown as [
    string,
    string,
    string | undefined,
    Operator,
    string,
  ];
  let aggregation: Aggregation;
  if (percentile !== undefined) {
    const p = Number(percentile);
    if (!(p > 0 && p <= 100)) return `"${expression}": a percentile must be above 0 and at most 100`;
    aggregation = { kind: 'percentile', p };
  } else aggregation = { kind: aggregationText as 'avg' };
  const name = aggregation.kind === 'percentile' ? 'p(N)' : aggregation.kind;
  if (!aggregationsOf[kind].includes(name))
    return `"${expression}": ${metric} is a ${kind}; its aggregations are ${allowed}`;
  return { metric, expression, aggregation, operator, value: Number(valueText) };
}

/** A metric's measured values, as the runner knows them. */
export type MetricSource = {
  /** trend: the value at quantile q (0..1), and the count, sum, min and max of the observations. */
  quantile?(q: number): number;
  avg?: number;
  min?: number;
  max?: number;
  count?: number;
  /** rate: the share of events that count (0..1). */
  rate?: number;
  /** What stands behind the figure (e.g. which sends failed, with which codes): shown with a breach. */
  detail?: string;
};

/** `detail`: the source's, on a breached threshold only, so a red SLO says what to look at. */
export type ThresholdVerdict = {
  name: string;
  limit: number;
  actual: number;
  pass: boolean;
  detail?: string;
};

export function aggregate(aggregation: Aggregation, source: MetricSource): number {
  switch (aggregation.kind) {
    case 'percentile':
      return source.quantile?.(aggregation.p / 100) ?? Number.NaN;
    case 'med':
      return source.quantile?.(0.5) ?? Number.NaN;
    default:
      return source[aggregation.kind] ?? Number.NaN;
  }
}

export function compare(actual: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

/**
 * One verdict per expression. A metric the runner did not measure cannot pass: its `actual` is NaN
 * and the verdict fails (a threshold that judged nothing is not a green).
 */
export function evaluateThresholds(
  thresholds: Readonly<Partial<Record<ThresholdMetric, readonly string[]>>>,
  sources: Readonly<Partial<Record<ThresholdMetric, MetricSource>>>,
): ThresholdVerdict[] {
  const verdicts: ThresholdVerdict[] = [];
  for (const metric of thresholdMetricNames) {
    for (const expression of thresholds[metric] ?? []) {
      const threshold = parseThreshold(metric, expression);
      if (typeof threshold === 'string') throw new Error(`unvalidated threshold: ${threshold}`);
      const source = sources[metric];
      const actual = source === undefined ? Number.NaN : aggregate(threshold.aggregation, source);
      const pass = !Number.isNaN(actual) && compare(actual, threshold.operator, threshold.value);
      verdicts.push({
        name: `${metric} ${threshold.expression.replace(/\s+/g, '')}`,
        limit: threshold.value,
        actual,
        pass,
        ...(!pass && source?.detail !== undefined ? { detail: source.detail } : {}),
      });
    }
  }
  return verdicts;
}
