/** Where the region keeps each thing in Redis: one place for every key name. */
export interface Keys {
  /** Set of the node ids that reported (a member whose record expired is lost). */
  nodes: string;
  /** Prefix of a node's record (`{load, draining, at}`, expires after NODE_TIMEOUT). */
  nodePrefix: string;
  /** Prefix of a consultation's placement (the id of the node that holds it). */
  placementPrefix: string;
  /** Prefix of a room's view as its node published it (JSON, expires unless refreshed). */
  roomPrefix: string;
  /** The stream of messages between nodes (cluster.ts ClusterMessages). */
  messages: string;
  /** The socket.io adapter's stream and channels. */
  socketIo: string;
}

export function keys(prefix: string): Keys {
  return {
    nodes: `${prefix}nodes`,
    nodePrefix: `${prefix}node:`,
    placementPrefix: `${prefix}at:`,
    roomPrefix: `${prefix}room:`,
    messages: `${prefix}messages`,
    socketIo: `${prefix}socket.io`,
  };
}
