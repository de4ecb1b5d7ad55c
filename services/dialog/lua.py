"""Lua scripts: every read-modify-write of a conversation happens inside Redis, atomically.

Keys (S = prefix + "dlg:{s<n>}:" for the conversation's shard n, C = S + "c:" + cid). Every key
of a script carries the shard's hash tag, so a script touches one slot of a Redis Cluster:
  C           hash   status, lang, topic, slots (JSON), seq, v (version), created, updated, last_text,
                     last_role, turns
  C:w         list   the window: at most `cap` compact turns (RPUSH + LTRIM, never rewritten)
  C:p         hash   seq -> message JSON not yet committed to SQL (read-your-writes; writer HDELs)
  C:lock      string "lease|fence" with PX expiry (the holder)
  C:q         list   waiting "lease|ttl_ms" in arrival order
  C:lf        string last granted fence (seeded from the clock so it stays monotonic after a flush)
  S:wake:<l>  list   one element pushed when lease l is granted (the waiter BLPOPs it)
  S:stream    stream transcript events for the SQL writer (consumer group)
  S:active    zset   cid -> last activity (dashboard listing)
"""

from __future__ import annotations

_FENCE = """
local function next_fence(lf)
  if redis.call('EXISTS', lf) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', lf, string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
  end
  local f = redis.call('INCR', lf)
  redis.call('EXPIRE', lf, 604800)
  return f
end
local function grant_next(lock, q, lf, wake_prefix, wake_ttl)
  local e = redis.call('LPOP', q)
  if not e then return 0 end
  local sep = string.find(e, '|', 1, true)
  local lease = string.sub(e, 1, sep - 1)
  local ttl = string.sub(e, sep + 1)
  local f = next_fence(lf)
  redis.call('SET', lock, lease .. '|' .. f, 'PX', ttl)
  local wk = wake_prefix .. lease
  redis.call('RPUSH', wk, f)
  redis.call('PEXPIRE', wk, wake_ttl)
  return 1
end
"""

# KEYS: lock, q, lf   ARGV: lease, ttl_ms, queue_ttl_ms
ACQUIRE = _FENCE + """
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('LLEN', KEYS[2]) == 0 then
  local f = next_fence(KEYS[3])
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. f, 'PX', ARGV[2])
  return {1, f}
end
redis.call('RPUSH', KEYS[2], ARGV[1] .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {0, redis.call('PTTL', KEYS[1])}
"""

# KEYS: lock, q, lf   ARGV: lease, wake_prefix, wake_ttl_ms
RELEASE = _FENCE + """
local cur = redis.call('GET', KEYS[1])
if not cur or string.sub(cur, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return 0 end
redis.call('DEL', KEYS[1])
grant_next(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3])
return 1
"""

# A holder died without releasing: once its lease expired, hand the lock to the queue's head.
# KEYS: lock, q, lf   ARGV: wake_prefix, wake_ttl_ms
PROMOTE = _FENCE + """
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, redis.call('PTTL', KEYS[1])} end
return {1, grant_next(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])}
"""

# A waiter gives up: leave the queue, or pass the lock on if it was granted meanwhile.
# KEYS: lock, q, lf, wake   ARGV: lease, ttl_ms, wake_prefix, wake_ttl_ms
CANCEL = _FENCE + """
redis.call('DEL', KEYS[4])
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
  grant_next(KEYS[1], KEYS[2], KEYS[3], ARGV[3], ARGV[4])
  return 2
end
redis.call('LREM', KEYS[2], 0, ARGV[1] .. '|' .. ARGV[2])
return 1
"""

# Record one turn. KEYS: conv, window, pending, lf, stream, active
# ARGV: cid, expected_v ('' = any), fence ('' = none), ttl_s, cap, window_entry, slots_json, topic,
#       now, last_text, last_role, event_json, n_msgs, msg_1 [, msg_2]
RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then return {-3, 0} end
if ARGV[3] ~= '' then
  local lf = tonumber(redis.call('GET', KEYS[4]) or '0')
  if tonumber(ARGV[3]) < lf then return {-2, lf} end
end
local n = tonumber(ARGV[13])
local last = redis.call('HINCRBY', KEYS[1], 'seq', n)
local first = last - n + 1
for i = 1, n do redis.call('HSET', KEYS[3], tostring(first + i - 1), ARGV[13 + i]) end
redis.call('RPUSH', KEYS[2], ARGV[6])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HINCRBY', KEYS[1], 'turns', 1)
redis.call('HSET', KEYS[1], 'slots', ARGV[7], 'topic', ARGV[8], 'updated', ARGV[9], 'last_text', ARGV[10],
           'last_role', ARGV[11])
local ttl = tonumber(ARGV[4])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[6], ARGV[9], ARGV[1])
local st = redis.call('HMGET', KEYS[1], 'status', 'lang')
redis.call('XADD', KEYS[5], '*', 'kind', 'turn', 'cid', ARGV[1], 'seq', tostring(first), 'status', st[1] or 'bot',
           'lang', st[2] or 'en', 'slots', ARGV[7], 'data', ARGV[12])
return {last, first}
"""

# Create (or restore from SQL) only if absent. KEYS: conv, window, stream, active, lf
# ARGV: cid, ttl_s, status, lang, slots_json, topic, seq, now, last_text, last_role, emit ('1' = new
#       conversation event for the writer), n_window, window entries...
CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'lang', ARGV[4], 'slots', ARGV[5], 'topic', ARGV[6],
           'seq', ARGV[7], 'v', '1', 'created', ARGV[8], 'updated', ARGV[8], 'last_text', ARGV[9],
           'last_role', ARGV[10], 'turns', ARGV[12])
redis.call('DEL', KEYS[2])
local n = tonumber(ARGV[12])
for i = 1, n do redis.call('RPUSH', KEYS[2], ARGV[12 + i]) end
local ttl = tonumber(ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl)
if n > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[1])
if ARGV[11] == '1' then
  redis.call('XADD', KEYS[3], '*', 'kind', 'conv', 'cid', ARGV[1], 'seq', '0', 'status', ARGV[3],
             'lang', ARGV[4], 'slots', ARGV[5], 'data', '[]')
end
return 1
"""

# KEYS: conv, window, stream, active   ARGV: cid, status, ttl_s, now
SET_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
local st = redis.call('HMGET', KEYS[1], 'lang', 'slots')
redis.call('XADD', KEYS[3], '*', 'kind', 'status', 'cid', ARGV[1], 'seq', '0', 'status', ARGV[2],
           'lang', st[1] or 'en', 'slots', st[2] or '{}', 'data', '[]')
return 1
"""
