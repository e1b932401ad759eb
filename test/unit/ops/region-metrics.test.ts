/** This node's and the region's figures without a server: the cluster's events and its registry, read at a scrape. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sample } from '../../helpers/metrics.js';
import { countingMoved, createMetrics, type Metrics, type RegionReaders, watchRegion } from '../../../server/metrics.js';

async function text(m: Metrics): Promise<string> {
  return m.registry.metrics();
}


function region(over: Partial<RegionReaders> = {}): RegionReaders {
  return { nodeId: 'a', mode: 'region', live: () => 0, draining: () => false, nodes: async () => [], ...over };
}

describe('region metrics', () => {
  it('name the node and count the region\'s nodes by draining, as its registry says', async () => {
    let live = 2;
    let draining = false;
    const m = createMetrics({
      mediaSessions: () => 0,
      region: region({
        live: () => live, draining: () => draining,
        nodes: async () => [{ draining: false }, { draining: draining }, { draining: true }],
      }),
    });
    let all = await text(m);
    expect(sample(all, 'openconsult_node_info{node="a",mode="region"}')).toBe(1);
    expect(sample(all, 'openconsult_node_live_consultations')).toBe(2);
    expect(sample(all, 'openconsult_node_draining')).toBe(0);
    expect(sample(all, 'openconsult_region_nodes{draining="false"}')).toBe(2);
    expect(sample(all, 'openconsult_region_nodes{draining="true"}')).toBe(1);
    expect(sample(all, 'openconsult_region_registry_up')).toBe(1);
    live = 0;
    draining = true;
    all = await text(m);
    expect(sample(all, 'openconsult_node_live_consultations')).toBe(0);
    expect(sample(all, 'openconsult_node_draining')).toBe(1);
    expect(sample(all, 'openconsult_region_nodes{draining="false"}')).toBe(1);
    expect(sample(all, 'openconsult_region_nodes{draining="true"}')).toBe(2);
  });

  it('keep the scrape answering when the registry cannot be read: no node count, registry down', async () => {
    let calls = 0;
    const m = createMetrics({
      mediaSessions: () => 0,
      region: region({ live: () => 1, nodes: async () => { calls += 1; throw new Error('redis away'); } }),
    });
    const all = await text(m);
    expect(all).not.toMatch(/^openconsult_region_nodes\{/m);
    expect(sample(all, 'openconsult_region_registry_up')).toBe(0);
    expect(sample(all, 'openconsult_node_live_consultations')).toBe(1);
    expect(calls).toBe(1); // one registry read serves both gauges of a scrape
  });

  it('count placements by origin and destination, lost nodes and displaced consultations', async () => {
    const m = createMetrics({ mediaSessions: () => 0, region: region() });
    const cluster = Object.assign(new EventEmitter(), { nodeId: 'a' });
    watchRegion(cluster, m);
    cluster.emit('placed', 'c1', 'a', null);
    cluster.emit('placed', 'c2', 'b', null);
    cluster.emit('placed', 'c3', 'a', 'c');
    cluster.emit('placed', 'c4', 'a', 'c');
    cluster.emit('nodeLost', 'c');
    cluster.emit('displaced', 'c5');
    const all = await text(m);
    expect(sample(all, 'openconsult_placements_total{from="new",to="this_node"}')).toBe(1);
    expect(sample(all, 'openconsult_placements_total{from="new",to="other_node"}')).toBe(1);
    expect(sample(all, 'openconsult_placements_total{from="lost_node",to="this_node"}')).toBe(2);
    expect(sample(all, 'openconsult_region_nodes_lost_total')).toBe(1);
    expect(sample(all, 'openconsult_region_displaced_total')).toBe(1);
  });

  it('count the handshake\'s `moved` answers, not those that connect here', async () => {
    const m = createMetrics({ mediaSessions: () => 0 });
    const where = countingMoved(async (id: string) => (id === 'here' ? { here: true as const } : { here: false as const, path: '/node/b/socket.io' }), m);
    expect(await where('here')).toEqual({ here: true });
    expect(await where('x')).toEqual({ here: false, path: '/node/b/socket.io' });
    expect(sample(await text(m), 'openconsult_socket_moved_total')).toBe(1);
  });
});
