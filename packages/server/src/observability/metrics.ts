/**
 * Prometheus metrics (served at `/metrics` on the admin listener, see http/admin/metrics.ts).
 *
 * Hot-path cost: recording a decision is a few Map lookups and a counter increment. The labelled
 * children prom-client hands out are created once per label combination and kept here, so a
 * request allocates nothing (prom-client would otherwise hash the label values on every call).
 * Durations come from `performance.now()`, which returns a plain number.
 *
 * Label values are bounded: routes come from the config, mechanisms from the pipeline, outcomes
 * and surfaces from the fixed lists below. Nothing a client sends becomes a label.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Surface = 'gateway' | 'verify';
export type Outcome =
  | 'allowed'
  | 'unauthenticated'
  | 'forbidden'
  | 'bad_request'
  | 'rate_limited'
  | 'no_route'
  | 'unavailable';
export type UpstreamOutcome = 'response' | 'timeout' | 'connect_error' | 'reset' | 'error';

/** The route label of a decision made without a route (forward auth when no routes are configured). */
export const NO_ROUTE_LABEL = '-';

export interface GatehouseMetrics {
  readonly registry: Registry;
  /** One authentication decision, and how long it took (seconds). */
  decision(surface: Surface, route: string, mechanism: string, outcome: Outcome, seconds: number): void;
  /** One upstream exchange of the gateway, until response headers (seconds). */
  upstream(route: string, outcome: UpstreamOutcome, seconds: number): void;
  /**
   * One lookup in a verification cache (API keys, JWKS, introspection…). Authenticators call this
   * so `/metrics` can show the hit ratio per cache.
   */
  cacheLookup(cache: string, hit: boolean): void;
  /** Routes loaded at startup or by a reload (SIGHUP), and how many are in force. */
  routesLoaded(outcome: 'startup' | 'success' | 'failure', count: number): void;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const UPSTREAM_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Labelled children are kept in nested maps along their label values, created on first use, so
 * later lookups allocate nothing.
 */
type Tree<T> = Map<string, T>;
function subtree<T>(tree: Tree<Tree<T>>, key: string): Tree<T> {
  let node = tree.get(key);
  if (node === undefined) {
    node = new Map();
    tree.set(key, node);
  }
  return node;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): GatehouseMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'gatehouse_requests_total',
    help: 'Authentication decisions by surface (gateway, verify), route, mechanism and outcome.',
    labelNames: ['surface', 'route', 'mechanism', 'outcome'] as const,
    registers: [registry],
  });
  const decisionSeconds = new Histogram({
    name: 'gatehouse_verify_duration_seconds',
    help: 'Time to reach an authentication decision (route match and credential verification), by surface.',
    labelNames: ['surface'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: 'gatehouse_upstream_duration_seconds',
    help: 'Time from sending a request upstream to receiving its response headers, by route and outcome.',
    labelNames: ['route', 'outcome'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [registry],
  });
  const cacheLookups = new Counter({
    name: 'gatehouse_cache_lookups_total',
    help: 'Verification cache lookups by cache and result (hit, miss); hit ratio = hit / (hit + miss).',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'gatehouse_routes_reloads_total',
    help: 'Route configuration reloads (SIGHUP) by result; a failed reload keeps the previous routes.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const routes = new Gauge({
    name: 'gatehouse_routes',
    help: 'Route policies in force.',
    registers: [registry],
  });

  type RequestChild = ReturnType<typeof requests.labels>;
  const requestChildren: Tree<Tree<Tree<Tree<RequestChild>>>> = new Map();
  const decisionChildren: Tree<ReturnType<typeof decisionSeconds.labels>> = new Map();
  const upstreamChildren: Tree<Tree<ReturnType<typeof upstreamSeconds.labels>>> = new Map();
  const cacheChildren: Tree<Tree<ReturnType<typeof cacheLookups.labels>>> = new Map();

  return {
    registry,
    decision(surface, route, mechanism, outcome, seconds) {
      const byOutcome = subtree(subtree(subtree(requestChildren, surface), route), mechanism);
      let counter = byOutcome.get(outcome);
      if (counter === undefined) {
        counter = requests.labels(surface, route, mechanism, outcome);
        byOutcome.set(outcome, counter);
      }
      counter.inc();
      let histogram = decisionChildren.get(surface);
      if (histogram === undefined) {
        histogram = decisionSeconds.labels(surface);
        decisionChildren.set(surface, histogram);
      }
      histogram.observe(seconds);
    },
    upstream(route, outcome, seconds) {
      const byOutcome = subtree(upstreamChildren, route);
      let histogram = byOutcome.get(outcome);
      if (histogram === undefined) {
        histogram = upstreamSeconds.labels(route, outcome);
        byOutcome.set(outcome, histogram);
      }
      histogram.observe(seconds);
    },
    cacheLookup(cache, hit) {
      const result = hit ? 'hit' : 'miss';
      const byResult = subtree(cacheChildren, cache);
      let counter = byResult.get(result);
      if (counter === undefined) {
        counter = cacheLookups.labels(cache, result);
        byResult.set(result, counter);
      }
      counter.inc();
    },
    routesLoaded(outcome, count) {
      if (outcome !== 'startup') reloads.labels(outcome).inc();
      routes.set(count);
    },
  };
}
