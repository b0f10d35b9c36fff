//! The Lua scripts. Each runs atomically on the server, which is what makes
//! publishing idempotent across relays and trimming safe against a group
//! that moves (or is reset) at the same moment. Every key a script touches is
//! passed in `KEYS`, so a hash-tagged prefix (`{lapor}`) keeps them on one
//! cluster slot.

/// Publishes a batch in order, each `event_id` at most once.
///
/// `KEYS[1]` stream, `KEYS[2]` published counter, `KEYS[3]` duplicates
/// counter, `KEYS[4..]` one dedupe key per event. `ARGV[1]` dedupe TTL in
/// seconds, then per event `event_id`, `event_type`, `envelope`.
/// Returns `{added, stream length}`.
///
/// The marker check comes before the XADD and the marker is written after
/// it: as the script is atomic this is exactly `SET NX` + "XADD only if it
/// succeeded", except that an XADD that fails (say on `maxmemory`) leaves no
/// marker behind, so the relay's retry publishes the event instead of it
/// being silently dropped.
pub(crate) const PUBLISH: &str = r#"
local added = 0
for i = 4, #KEYS do
  local a = 2 + (i - 4) * 3
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('XADD', KEYS[1], '*',
      'event_id', ARGV[a], 'event_type', ARGV[a + 1], 'envelope', ARGV[a + 2])
    redis.call('SET', KEYS[i], '1', 'EX', ARGV[1])
    added = added + 1
  else
    redis.call('INCR', KEYS[3])
  end
end
if added > 0 then
  redis.call('INCRBY', KEYS[2], added)
end
return {added, redis.call('XLEN', KEYS[1])}
"#;

/// Helpers shared by the scripts that read `XINFO` (RESP2 flat arrays).
const LUA_HELPERS: &str = r#"
local function field(flat, name)
  for i = 1, #flat, 2 do
    if flat[i] == name then return flat[i + 1] end
  end
  return nil
end
local function parse_id(id)
  local dash = string.find(id, '-', 1, true)
  if dash == nil then return tonumber(id), 0 end
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function less(a_ms, a_seq, b_ms, b_seq)
  return a_ms < b_ms or (a_ms == b_ms and a_seq < b_seq)
end
"#;

/// Removes the entries every group has acknowledged.
///
/// `KEYS[1]` stream. For each group the first entry it may still need is its
/// oldest pending entry, or (none pending, or pending only above it after a
/// reset) the entry after its last-delivered id. `XTRIM MINID` to the least
/// of those; with no groups nothing is trimmed. Returns how many were removed.
pub(crate) fn trim() -> String {
    format!(
        "{LUA_HELPERS}{}",
        r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local min_ms, min_seq = nil, nil
for _, g in ipairs(groups) do
  local ms, seq = parse_id(field(g, 'last-delivered-id'))
  seq = seq + 1
  if field(g, 'pending') > 0 then
    local summary = redis.call('XPENDING', KEYS[1], field(g, 'name'))
    local p_ms, p_seq = parse_id(summary[2])
    if less(p_ms, p_seq, ms, seq) then ms, seq = p_ms, p_seq end
  end
  if min_ms == nil or less(ms, seq, min_ms, min_seq) then min_ms, min_seq = ms, seq end
end
return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', min_ms, min_seq))
"#
    )
}

/// Forgets consumers that own no pending entry and have been idle at least
/// `ARGV[1]` ms, except `ARGV[2]` (the caller). Checked and deleted in one
/// step, so a consumer that fetches meanwhile cannot lose its entries.
/// `KEYS[1]` stream. Returns how many were removed.
pub(crate) fn prune_consumers() -> String {
    format!(
        "{LUA_HELPERS}{}",
        r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local min_idle = tonumber(ARGV[1])
local removed = 0
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local group = field(g, 'name')
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], group)) do
    local name = field(c, 'name')
    if name ~= ARGV[2] and field(c, 'pending') == 0 and field(c, 'idle') >= min_idle then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], group, name)
      removed = removed + 1
    end
  end
end
return removed
"#
    )
}
