/**
 * Prometheus metrics (served at `/metrics` on the admin listener, see http/admin/metrics.ts).
 *
 * Hot-path cost: recording a decision is a few Map lookups, an increment and a bucket search in
 * a Float64Array; nothing is allocated once a label combination has been seen. (prom-client's
 * labelled children re-hash their labels into a new string and object on every observation,
 * which is why Gatehouse keeps its own series and renders them at scrape time.) Durations come
 * from `performance.now()`, a plain number. prom-client still provides the process metrics.
 *
 * Label values are bounded: routes come from the config, mechanisms from the pipeline, outcomes
 * and surfaces from the fixed lists below. Nothing a client sends becomes a label.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export type Surface = 'gateway' | 'verify';
export type Outcome =
  | 'allowed'
  | 'unauthenticated'
  | 'forbidden'
  | 'bad_request'
  | 'rate_limited'
  | 'no_route'
  | 'unavailable';
const DENIAL_OUTCOMES: Readonly<Record<number, Outcome>> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  429: 'rate_limited',
};

/** The outcome label of a denial, by its status (any other status counts as `forbidden`). */
export const denialOutcome = (status: number): Outcome => DENIAL_OUTCOMES[status] ?? 'forbidden';

export type UpstreamOutcome = 'response' | 'timeout' | 'connect_error' | 'reset' | 'error';

export interface CacheReading {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

/** The route label of a decision made without a route (forward auth when no routes are configured). */
export const NO_ROUTE_LABEL = '-';

export interface GatehouseMetrics {
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
  /** One authentication decision, and how long it took (seconds). */
  decision(surface: Surface, route: string, mechanism: string, outcome: Outcome, seconds: number): void;
  /** One upstream exchange of the gateway, until response headers (seconds). */
  upstream(route: string, outcome: UpstreamOutcome, seconds: number): void;
  /** A cache whose own counters and size are read at scrape time. */
  observeCache(cache: string, read: () => CacheReading): void;
  /** Routes loaded at startup or by a reload (SIGHUP), and how many are in force. */
  routesLoaded(outcome: 'startup' | 'success' | 'failure', count: number): void;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Exposition format 0.0.4: label values escape backslash, double quote and newline. */
const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const renderLabels = (names: readonly string[], values: readonly string[]): string =>
  names.map((name, i) => `${name}="${escapeLabel(values[i] as string)}"`).join(',');

interface CounterSeries {
  readonly labels: string;
  value: number;
}

interface HistogramSeries {
  readonly labels: string;
  /** Per bucket (not cumulative), plus one for +Inf. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * Series indexed along their label values (a Map per label), created on first use. `at()` with
 * the same values never allocates after the first time.
 */
class SeriesTree<T> {
  private readonly root = new Map<string, unknown>();
  readonly all: T[] = [];
  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: string) => T,
  ) {}

  /** The series for these label values (as many as the metric has labels). */
  at(a: string, b = '', c = '', d = ''): T {
    const depth = this.labelNames.length;
    let node = this.root;
    let leafKey = a;
    if (depth >= 2) {
      node = descend(node, a);
      leafKey = b;
    }
    if (depth >= 3) {
      node = descend(node, b);
      leafKey = c;
    }
    if (depth >= 4) {
      node = descend(node, c);
      leafKey = d;
    }
    let leaf = node.get(leafKey) as T | undefined;
    if (leaf === undefined) {
      leaf = this.make(renderLabels(this.labelNames, [a, b, c, d].slice(0, depth)));
      node.set(leafKey, leaf);
      this.all.push(leaf);
    }
    return leaf;
  }
}

function descend(node: Map<string, unknown>, key: string): Map<string, unknown> {
  let next = node.get(key) as Map<string, unknown> | undefined;
  if (next === undefined) {
    next = new Map();
    node.set(key, next);
  }
  return next;
}

class CounterMetric {
  readonly series: SeriesTree<CounterSeries>;
  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    this.series = new SeriesTree(labelNames, (labels) => ({ labels, value: 0 }));
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const series of this.series.all) lines.push(`${this.name}{${series.labels}} ${series.value}`);
    return lines.join('\n');
  }
}

class HistogramMetric {
  readonly series: SeriesTree<HistogramSeries>;
  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    this.series = new SeriesTree(labelNames, (labels) => ({
      labels,
      buckets: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
    }));
  }

  observe(series: HistogramSeries, value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    series.buckets[i] = (series.buckets[i] as number) + 1;
    series.sum += value;
    series.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const series of this.series.all) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.buckets[i] as number;
        lines.push(`${this.name}_bucket{${series.labels},le="${bound}"} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{${series.labels},le="+Inf"} ${series.count}`);
      lines.push(`${this.name}_sum{${series.labels}} ${series.sum}`);
      lines.push(`${this.name}_count{${series.labels}} ${series.count}`);
    }
    return lines.join('\n');
  }
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): GatehouseMetrics {
  const processRegistry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: processRegistry });

  const requests = new CounterMetric(
    'gatehouse_requests_total',
    'Authentication decisions by surface (gateway, verify), route, mechanism and outcome.',
    ['surface', 'route', 'mechanism', 'outcome'],
  );
  const decisionSeconds = new HistogramMetric(
    'gatehouse_verify_duration_seconds',
    'Time to reach an authentication decision (route match and credential verification), by surface.',
    ['surface'],
    LATENCY_BUCKETS,
  );
  const upstreamSeconds = new HistogramMetric(
    'gatehouse_upstream_duration_seconds',
    'Time from sending a request upstream to receiving its response headers, by route and outcome.',
    ['route', 'outcome'],
    UPSTREAM_BUCKETS,
  );
  const cacheLookups = new CounterMetric(
    'gatehouse_cache_lookups_total',
    'Verification cache lookups by cache and result (hit, miss); hit ratio = hit / (hit + miss).',
    ['cache', 'result'],
  );
  const reloads = new CounterMetric(
    'gatehouse_routes_reloads_total',
    'Route configuration reloads (SIGHUP) by result; a failed reload keeps the previous routes.',
    ['result'],
  );
  let routesInForce = 0;
  const observedCaches = new Map<string, () => CacheReading>();

  return {
    contentType: processRegistry.contentType,
    async render() {
      const entries: string[] = [];
      for (const [cache, read] of observedCaches) {
        const reading = read();
        cacheLookups.series.at(cache, 'hit').value = reading.hits;
        cacheLookups.series.at(cache, 'miss').value = reading.misses;
        entries.push(`gatehouse_cache_entries{cache="${escapeLabel(cache)}"} ${reading.entries}`);
      }
      const own = [
        requests.render(),
        decisionSeconds.render(),
        upstreamSeconds.render(),
        cacheLookups.render(),
        reloads.render(),
        `# HELP gatehouse_routes Route policies in force.\n# TYPE gatehouse_routes gauge\ngatehouse_routes ${routesInForce}`,
        [
          '# HELP gatehouse_cache_entries Entries held by each verification cache.',
          '# TYPE gatehouse_cache_entries gauge',
          ...entries,
        ].join('\n'),
      ].join('\n\n');
      return `${own}\n\n${await processRegistry.metrics()}`;
    },
    decision(surface, route, mechanism, outcome, seconds) {
      requests.series.at(surface, route, mechanism, outcome).value++;
      decisionSeconds.observe(decisionSeconds.series.at(surface), seconds);
    },
    upstream(route, outcome, seconds) {
      upstreamSeconds.observe(upstreamSeconds.series.at(route, outcome), seconds);
    },
    observeCache(cache, read) {
      observedCaches.set(cache, read);
    },
    routesLoaded(outcome, count) {
      if (outcome !== 'startup') reloads.series.at(outcome).value++;
      routesInForce = count;
    },
  };
}
