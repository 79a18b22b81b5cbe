"""Lua scripts of the Redis job store: each change to a job is one atomic step.

A job is one JSON document (``job``), decoded, changed and stored again inside
the script, so counters, errors, usage and the revision move together and an
email's outcome is recorded once however often it is reported (DESIGN §7).
The rules are ``BatchJob``'s (domain/model.py), written again here because
they must run inside Redis; the JobStore contract suite holds both to the same
assertions.

``KEYS`` of every script: 1 the job, 2 every unfinished job (a set). The
user's keys are made inside from the job's ``user_id`` and the key prefix, the
last argument: ``<prefix>user:<id>:active`` (unfinished jobs, a set) and
``<prefix>user:<id>:jobs`` (all jobs, a sorted set by creation time), so a
change costs one round trip. Arguments are strings; times are ISO-8601 from
the caller's clock. The scripts that change a job publish its new revision on ``<job
key>:changed`` and answer the job's JSON (false when the job is gone).

Each outcome counted is also pushed, in the same script, onto the job's
outcome log ``<job key>:outcomes`` (a list of JSON entries ``{n, e, o, i, s,
x}``: seq, email id, outcome, intent, status, error); the log gets a TTL of
its own when the job finishes (``OUTCOME_LOG_TAIL``, at most the retention).
"""

from __future__ import annotations

# Shared by the scripts that record outcomes: finish the job when nothing is left.
_COMMON = """
pcall(cjson.encode_number_precision, 17)
local PREFIX = ARGV[#ARGV]
local function user_key(job, suffix)
  return PREFIX .. 'user:' .. job.user_id .. suffix
end
local function is_finished(job)
  return job.status ~= 'queued' and job.status ~= 'processing'
end
local function log_outcome(job, email, outcome, intent, status, err)
  local seq = job.succeeded + job.failed + job.cancelled
  local entry = {n = seq, e = email, o = outcome, i = intent, s = status, x = err}
  redis.call('RPUSH', KEYS[1] .. ':outcomes', cjson.encode(entry))
end
local function after_outcome(job, now, expires_at, retention_ms, log_ttl_ms)
  if job.status == 'queued' then job.status = 'processing' end
  job.updated_at = now
  job.revision = job.revision + 1
  if job.left > 0 then return end
  if job.cancel_requested then
    job.status = 'cancelled'
  elseif job.failed == job.total then
    job.status = 'failed'
  else
    job.status = 'completed'
  end
  job.completed_at = now
  job.expires_at = tonumber(expires_at)
  job.email_ids = {}
  job.pending = {}
  redis.call('SREM', user_key(job, ':active'), job.id)
  redis.call('SREM', KEYS[2], job.id)
  redis.call('PEXPIRE', KEYS[1] .. ':outcomes', tonumber(log_ttl_ms))
  -- The job, and the user's list once nothing of theirs is running, expire.
  job.ttl_ms = tonumber(retention_ms)
end
local function save(job)
  local ttl = job.ttl_ms
  job.ttl_ms = nil
  local raw = cjson.encode(job)
  if ttl then
    redis.call('SET', KEYS[1], raw, 'PX', ttl)
    if redis.call('SCARD', user_key(job, ':active')) == 0 then
      redis.call('PEXPIRE', user_key(job, ':jobs'), ttl)
    end
  else
    redis.call('SET', KEYS[1], raw, 'KEEPTTL')
  end
  redis.call('PUBLISH', KEYS[1] .. ':changed', job.revision)
  return raw
end
"""

#: ARGV: job JSON, max active, creation score, job id, user id, prefix.
#: Answers 1, or 0 when the user has ``max active`` unfinished jobs already.
#: Run twice with the same job (a retry whose first reply was lost), it answers 1 again.
CREATE = """
local active = ARGV[6] .. 'user:' .. ARGV[5] .. ':active'
local jobs = ARGV[6] .. 'user:' .. ARGV[5] .. ':jobs'
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
if redis.call('SCARD', active) >= tonumber(ARGV[2]) then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then
  return redis.error_reply('job id already taken')
end
redis.call('SADD', active, ARGV[4])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('ZADD', jobs, ARGV[3], ARGV[4])
redis.call('PERSIST', jobs)
return 1
"""

#: ARGV: now, prefix.
START = (
    _COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local job = cjson.decode(raw)
if job.revision ~= 0 then return raw end
job.status = 'processing'
job.updated_at = ARGV[1]
job.revision = 1
return save(job)
"""
)

#: ARGV: email id, now, error ('' for a success), prompt tokens, completion
#: tokens, cost ('' when unpriced), llm calls, llm calls saved, expires_at
#: (epoch s), retention (ms), outcome log TTL (ms), intent ('' unknown),
#: status ('' unknown), prefix.
RECORD = (
    _COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local job = cjson.decode(raw)
local email = ARGV[1]
if is_finished(job) or job.pending[email] == nil then return raw end
job.pending[email] = nil
job.left = job.left - 1
local function known(value)
  if value == '' then return cjson.null end
  return value
end
if ARGV[3] == '' then
  job.succeeded = job.succeeded + 1
  log_outcome(job, email, 'succeeded', known(ARGV[12]), known(ARGV[13]), cjson.null)
else
  job.failed = job.failed + 1
  table.insert(job.errors, {email_id = email, error = ARGV[3], at = ARGV[2]})
  log_outcome(job, email, 'failed', known(ARGV[12]), known(ARGV[13]), ARGV[3])
end
job.prompt_tokens = job.prompt_tokens + tonumber(ARGV[4])
job.completion_tokens = job.completion_tokens + tonumber(ARGV[5])
if ARGV[6] == '' or job.cost_usd == cjson.null then
  job.cost_usd = cjson.null
else
  job.cost_usd = job.cost_usd + tonumber(ARGV[6])
end
-- Jobs stored before these counters existed have none yet.
job.llm_calls = (tonumber(job.llm_calls) or 0) + tonumber(ARGV[7])
job.llm_calls_saved = (tonumber(job.llm_calls_saved) or 0) + tonumber(ARGV[8])
after_outcome(job, ARGV[2], ARGV[9], ARGV[10], ARGV[11])
return save(job)
"""
)

#: ARGV: email ids (JSON list), now, reason ('' for none), expires_at (epoch s),
#: retention (ms), outcome log TTL (ms), statuses (JSON object: email id ->
#: status), prefix. The first cancellation gives the job its reason.
CANCEL = (
    _COMMON
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local job = cjson.decode(raw)
if is_finished(job) then return raw end
local fresh = 0
local statuses = cjson.decode(ARGV[7])
for _, email in ipairs(cjson.decode(ARGV[1])) do
  if job.pending[email] ~= nil then
    job.pending[email] = nil
    fresh = fresh + 1
    job.cancelled = job.cancelled + 1
    log_outcome(job, email, 'cancelled', cjson.null, statuses[email] or cjson.null, cjson.null)
  end
end
if fresh == 0 and job.cancel_requested then return raw end
if not job.cancel_requested and ARGV[3] ~= '' then job.cancel_reason = ARGV[3] end
job.cancel_requested = true
job.left = job.left - fresh
after_outcome(job, ARGV[2], ARGV[4], ARGV[5], ARGV[6])
return save(job)
"""
)
