// The Lua scripts of the Redis store: one per operation, so the seq, the idempotency index and the
// membership check of an append (and every other decision) happen in one atomic step on the server,
// whichever node asks. Each follows StoreState's rules line for line; the contract suite and its
// property tests against NaiveStoreModel hold them to it.
//
// Encodings (all ids are [A-Za-z0-9_.:-], so ':' ',' '-' and NUL never occur inside one):
// - members hash: user -> spans "from:to,from:to", `to` is '-' while the span is open (a current
//   member's spans end in ':-').
// - meta hash: kind, lastSeq, and mv: the membership version (span bounds set: one per join, one more
//   per removal; AppendResult.membersVersion). Conversations created before mv existed have none, and
//   their appends report none.
// - cursors hash: user -> "delivered:read".
// - index hash: from NUL cmid -> "seq:ts".
// - messages stream: entry id "seq-0", fields f (from), c (cmid), t (ts), then b (body) or j (the body
//   JSON-encoded, for a string that is not well-formed UTF-16 and would not survive UTF-8 as is).

/** Shared by every script: current-member test and the record a create or membership change returns. */
const prelude = `
local function is_current(spans)
  return spans and string.sub(spans, -2) == ':-'
end
local function record(meta, members, cursors)
  return {redis.call('HGET', meta, 'kind'), redis.call('HGET', meta, 'lastSeq'),
    redis.call('HGETALL', members), redis.call('HGETALL', cursors)}
end
`;

/** KEYS meta members index messages; ARGV from cmid ts bodyField body. */
export const appendScript = `
if not redis.call('HGET', KEYS[1], 'kind') then return {'not_found'} end
local key = ARGV[1] .. '\\0' .. ARGV[2]
local hit = redis.call('HGET', KEYS[3], key)
if hit then return {'duplicate', hit, redis.call('HGET', KEYS[1], 'mv')} end
-- A removed member's retry of an already-sequenced message still gets its ack (above); a new one not.
if not is_current(redis.call('HGET', KEYS[2], ARGV[1])) then return {'forbidden'} end
local seq = redis.call('HINCRBY', KEYS[1], 'lastSeq', 1)
redis.call('HSET', KEYS[3], key, seq .. ':' .. ARGV[3])
-- XADD refuses an id not above the stream's last: a second guard that seqs only grow.
redis.call('XADD', KEYS[4], seq .. '-0', 'f', ARGV[1], 'c', ARGV[2], 't', ARGV[3], ARGV[4], ARGV[5])
return {'ok', seq, redis.call('HGET', KEYS[1], 'mv')}
`;

/** KEYS meta messages; ARGV firstSeq count. Answers lastSeq and the entries from firstSeq on. */
export const readScript = `
local last = redis.call('HGET', KEYS[1], 'lastSeq')
if not last then return {'not_found'} end
local count = tonumber(ARGV[2])
local mv = redis.call('HGET', KEYS[1], 'mv')
if count <= 0 or tonumber(ARGV[1]) > tonumber(last) then return {'ok', last, {}, mv} end
return {'ok', last, redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', count), mv}
`;

/** KEYS meta members cursors; ARGV kind, then the members (repeats allowed). */
export const createScript = `
local wanted, order = {}, {}
for i = 2, #ARGV do
  if not wanted[ARGV[i]] then wanted[ARGV[i]] = true; order[#order + 1] = ARGV[i] end
end
local kind = redis.call('HGET', KEYS[1], 'kind')
if kind then
  local same = kind == ARGV[1]
  if same then
    local flat = redis.call('HGETALL', KEYS[2])
    local current = 0
    for i = 1, #flat, 2 do
      if is_current(flat[i + 1]) then
        current = current + 1
        if not wanted[flat[i]] then same = false end
      end
    end
    if current ~= #order then same = false end
  end
  return {same and 'exists' or 'conflict', record(KEYS[1], KEYS[2], KEYS[3])}
end
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'lastSeq', 0, 'mv', #order)
for _, user in ipairs(order) do
  redis.call('HSET', KEYS[2], user, '1:-')
  redis.call('HSET', KEYS[3], user, '0:0')
end
return {'created', record(KEYS[1], KEYS[2], KEYS[3])}
`;

/**
 * KEYS meta members cursors; ARGV removeCount, the removed users, then the added ones. Removals first,
 * then additions, each after the current lastSeq; a joiner's cursors start at the join.
 */
export const membersScript = `
local kind = redis.call('HGET', KEYS[1], 'kind')
if not kind then return {'not_found'} end
local removes = tonumber(ARGV[1])
if kind == 'direct' and #ARGV > 1 then return {'conflict'} end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq'))
local mv = tonumber(redis.call('HGET', KEYS[1], 'mv'))
for i = 2, 1 + removes do
  local spans = redis.call('HGET', KEYS[2], ARGV[i])
  if is_current(spans) then
    redis.call('HSET', KEYS[2], ARGV[i], string.sub(spans, 1, -2) .. last)
    if mv then mv = mv + 1 end
  end
end
for i = 2 + removes, #ARGV do
  local user = ARGV[i]
  local spans = redis.call('HGET', KEYS[2], user)
  if not is_current(spans) then
    local span = (last + 1) .. ':-'
    redis.call('HSET', KEYS[2], user, spans and (spans .. ',' .. span) or span)
    if mv then mv = mv + 1 end
    local cursors = redis.call('HGET', KEYS[3], user)
    local delivered, read = last, last
    if cursors then
      local cut = string.find(cursors, ':', 1, true)
      delivered = math.max(tonumber(string.sub(cursors, 1, cut - 1)), last)
      read = math.max(tonumber(string.sub(cursors, cut + 1)), last)
    end
    redis.call('HSET', KEYS[3], user, delivered .. ':' .. read)
  end
end
if mv then redis.call('HSET', KEYS[1], 'mv', mv) end
return {'ok', record(KEYS[1], KEYS[2], KEYS[3])}
`;

/** KEYS meta members cursors; ARGV user kind seq. The cursor becomes max(old, min(seq, lastSeq)). */
export const cursorScript = `
if not redis.call('HGET', KEYS[1], 'kind') then return {'not_found'} end
if not is_current(redis.call('HGET', KEYS[2], ARGV[1])) then return {'forbidden'} end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq'))
local delivered, read = 0, 0
local cursors = redis.call('HGET', KEYS[3], ARGV[1])
if cursors then
  local cut = string.find(cursors, ':', 1, true)
  delivered = tonumber(string.sub(cursors, 1, cut - 1))
  read = tonumber(string.sub(cursors, cut + 1))
end
local old = delivered
if ARGV[2] == 'read' then old = read end
local target = math.min(tonumber(ARGV[3]), last)
if target <= old then return {'ok', old, 0} end
if ARGV[2] == 'read' then read = target else delivered = target end
redis.call('HSET', KEYS[3], ARGV[1], delivered .. ':' .. read)
return {'ok', target, 1}
`;

/** KEYS meta members cursors: the record, or nothing for an unknown conversation. */
export const recordScript = `
if not redis.call('HGET', KEYS[1], 'kind') then return {'not_found'} end
return {'ok', record(KEYS[1], KEYS[2], KEYS[3])}
`;

export const redisScripts = {
  chatsimAppend: { keys: 4, lua: prelude + appendScript },
  chatsimRead: { keys: 2, lua: readScript },
  chatsimCreate: { keys: 3, lua: prelude + createScript },
  chatsimMembers: { keys: 3, lua: prelude + membersScript },
  chatsimCursor: { keys: 3, lua: prelude + cursorScript },
  chatsimRecord: { keys: 3, lua: prelude + recordScript },
} as const;
