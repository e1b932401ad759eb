/**
 * The region's atomic steps as Lua scripts (Redis runs each alone, so two nodes never interleave).
 * They name keys built from prefixes rather than declared KEYS: the region runs on one Redis
 * server (or a primary with replicas), not on a sharded Redis Cluster.
 */

/**
 * place: keep the holder if it is this node or its record is alive; otherwise place on the
 * least-loaded alive node that is not draining (ties: this node, which saves the page a
 * redirect; every node draining: the least loaded). The chosen node's load counts the placement at
 * once, so placements between two reports spread instead of piling on one node.
 * KEYS: placement, nodes set. ARGV: node prefix, me, my load, my draining (1/0), placement ttl ms.
 * Returns [holder, placed now (1/0), lost holder it replaces or ''].
 */
export const placeScript = `
local me = ARGV[2]
local cur = redis.call('GET', KEYS[1])
if cur == me or (cur and redis.call('EXISTS', ARGV[1] .. cur) == 1) then return {cur, 0, ''} end
local bestDrain, bestLoad = tonumber(ARGV[4]), tonumber(ARGV[3])
local mine = redis.call('GET', ARGV[1] .. me)
if mine then bestLoad = math.max(bestLoad, cjson.decode(mine).load) end
local best = me
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if id ~= me then
    local raw = redis.call('GET', ARGV[1] .. id)
    if raw then
      local rec = cjson.decode(raw)
      local d = rec.draining and 1 or 0
      if d < bestDrain or (d == bestDrain and rec.load < bestLoad) then best, bestDrain, bestLoad = id, d, rec.load end
    end
  end
end
redis.call('SET', KEYS[1], best, 'PX', ARGV[5])
local raw = redis.call('GET', ARGV[1] .. best)
if raw then
  local rec = cjson.decode(raw)
  rec.load = rec.load + 1
  redis.call('SET', ARGV[1] .. best, cjson.encode(rec), 'KEEPTTL')
end
return {best, 1, cur or ''}
`;

/** release: forget the placement only if this node still holds it. KEYS: placement. ARGV: me. */
export const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** ownerOf: the holder, if its record is alive. KEYS: placement. ARGV: node prefix. */
export const ownerScript = `
local cur = redis.call('GET', KEYS[1])
if cur and redis.call('EXISTS', ARGV[1] .. cur) == 1 then return cur end
return false
`;

/**
 * report (every NODE_TIMEOUT/3): write this node's record, re-assert the placements of the
 * consultations it holds (absent or a lost node's: ours again, as after a Redis restart; another
 * alive node's: displaced), and remove the nodes whose record expired. SREM answers 1 to one
 * caller only, so exactly one surviving node sees each loss.
 * KEYS: my record, nodes set. ARGV: record JSON, record ttl ms, me, node prefix, placement prefix,
 * placement ttl ms, held ids…  Returns [displaced ids, lost node ids].
 */
export const reportScript = `
local me = ARGV[3]
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], me)
local displaced, lost = {}, {}
for i = 7, #ARGV do
  local k = ARGV[5] .. ARGV[i]
  local cur = redis.call('GET', k)
  if cur and cur ~= me and redis.call('EXISTS', ARGV[4] .. cur) == 1 then
    table.insert(displaced, ARGV[i])
  else
    redis.call('SET', k, me, 'PX', ARGV[6])
  end
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[4] .. id) == 0 and redis.call('SREM', KEYS[2], id) == 1 then table.insert(lost, id) end
end
return {displaced, lost}
`;

/** leave (a clean stop, not a loss): drop this node's record and membership. KEYS: my record, nodes set. ARGV: me. */
export const leaveScript = `
redis.call('DEL', KEYS[1])
return redis.call('SREM', KEYS[2], ARGV[1])
`;
