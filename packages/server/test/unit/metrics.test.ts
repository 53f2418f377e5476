/** The metrics recorder: exposition format, cumulative histogram buckets, escaping. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';

describe('metrics', () => {
  it('renders counters, cumulative histograms and the routes gauge in the Prometheus text format', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.decision('gateway', 'data', 'apikey', 'allowed', 0.0003);
    metrics.decision('gateway', 'data', 'apikey', 'allowed', 0.002);
    metrics.decision('verify', '-', 'none', 'unauthenticated', 5);
    metrics.upstream('data', 'timeout', 30);
    metrics.observeCache('apikey', () => ({ hits: 2, misses: 1, entries: 0 }));
    metrics.routesLoaded('startup', 3);
    metrics.routesLoaded('failure', 3);
    const text = await metrics.render();
    expect(text).toContain('# TYPE gatehouse_requests_total counter');
    expect(text).toContain(
      'gatehouse_requests_total{surface="gateway",route="data",mechanism="apikey",outcome="allowed"} 2',
    );
    expect(text).toContain(
      'gatehouse_requests_total{surface="verify",route="-",mechanism="none",outcome="unauthenticated"} 1',
    );
    expect(text).toContain('# TYPE gatehouse_verify_duration_seconds histogram');
    expect(text).toContain('gatehouse_verify_duration_seconds_bucket{surface="gateway",le="0.0001"} 0');
    expect(text).toContain('gatehouse_verify_duration_seconds_bucket{surface="gateway",le="0.0005"} 1');
    expect(text).toContain('gatehouse_verify_duration_seconds_bucket{surface="gateway",le="0.0025"} 2');
    expect(text).toContain('gatehouse_verify_duration_seconds_bucket{surface="verify",le="1"} 0');
    expect(text).toContain('gatehouse_verify_duration_seconds_bucket{surface="verify",le="+Inf"} 1');
    expect(text).toContain('gatehouse_verify_duration_seconds_sum{surface="verify"} 5');
    expect(text).toContain('gatehouse_verify_duration_seconds_count{surface="gateway"} 2');
    expect(text).toContain('gatehouse_upstream_duration_seconds_bucket{route="data",outcome="timeout",le="30"} 1');
    expect(text).toContain('gatehouse_cache_lookups_total{cache="apikey",result="hit"} 2');
    expect(text).toContain('gatehouse_cache_lookups_total{cache="apikey",result="miss"} 1');
    expect(text).toContain('gatehouse_routes_reloads_total{result="failure"} 1');
    expect(text).not.toContain('result="startup"');
    expect(text).toMatch(/^gatehouse_routes 3$/m);
  });

  it('reads observed caches at scrape time', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const stats = { hits: 0, misses: 0, entries: 0 };
    metrics.observeCache('apikey', () => stats);
    stats.hits = 41;
    stats.misses = 2;
    stats.entries = 7;
    const text = await metrics.render();
    expect(text).toContain('gatehouse_cache_lookups_total{cache="apikey",result="hit"} 41');
    expect(text).toContain('gatehouse_cache_lookups_total{cache="apikey",result="miss"} 2');
    expect(text).toContain('gatehouse_cache_entries{cache="apikey"} 7');
  });

  it('escapes label values', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeCache('we"ird\\cache\nname', () => ({ hits: 1, misses: 0, entries: 0 }));
    expect(await metrics.render()).toContain(
      'gatehouse_cache_lookups_total{cache="we\\"ird\\\\cache\\nname",result="hit"} 1',
    );
  });
});
