/** Opens the region this node belongs to: Redis when REDIS_URL is set, otherwise the single node. */
import type { Config } from '../../config/settings.js';
import type { Logger } from '../log.js';
import type { Cluster } from './cluster.js';
import { SingleNode } from './single.js';

export interface ClusterDeps {
  /** How many consultations this node holds live (its load). */
  load: () => number;
  /** Their ids: each report re-asserts this node's placement of them (after a Redis restart, nothing else would). */
  held: () => string[];
  logger: Logger;
}

export async function openCluster(config: Pick<Config, 'redisUrl' | 'nodeId' | 'nodeTimeout'>, deps: ClusterDeps): Promise<Cluster> {
  if (!config.redisUrl) return new SingleNode(config.nodeId, deps.load);
  // Loaded only in the region mode: the embedded default never touches Redis.
  const { RedisCluster } = await import('./redis/cluster.js');
  return RedisCluster.open({ url: config.redisUrl, nodeId: config.nodeId, nodeTimeoutSeconds: config.nodeTimeout, ...deps });
}
