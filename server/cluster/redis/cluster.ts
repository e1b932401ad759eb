/** The region on Redis: being built (issue 16). */
import type { Cluster } from '../cluster.js';
import type { ClusterDeps } from '../open.js';

export const RedisCluster = {
  async open(_opts: ClusterDeps & { url: string; nodeId: string; nodeTimeoutSeconds: number }): Promise<Cluster> {
    throw new Error('the Redis region is not built yet');
  },
};
