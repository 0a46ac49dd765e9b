"""The shared limiter's state in Redis: two keys and the two Lua scripts that change them.

State, under one hash tag (so a Redis Cluster keeps both keys on one node):

- ``{key}:state``, a hash: ``window`` (how many calls may be in flight, all processes
  together), ``round`` (bumped at each cut), ``resume_at`` (end of the pause a 429 asked
  for), ``next_at`` (the next free send time under ``max_rate`` or the learned pace),
  ``min_rtt`` (about the fastest a call completes), ``pace`` / ``pace_at`` (the learned
  pace and when it started growing), ``cut_at`` / ``grants`` (the last cut, the calls let
  through since), ``limited`` (429s counted);
- ``{key}:leases``, a sorted set: one member per call in flight, scored by the time its lease
  expires. Expired leases are dropped at the start of every script, so a process that dies
  holding slots gives them back when their leases run out.

Each script runs atomically on the server (Redis runs one script at a time), and both keys
carry a ``PEXPIRE``: nothing stays in Redis after its users stop. Times are milliseconds; the
scripts read the server's ``TIME`` so that every process shares one clock, unless the caller
passes ``now`` (tests drive a fake clock that way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Grant", "SharedState", "Snapshot"]

_NOW = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
"""

# ARGV: now, lease, lease_ttl, initial_window, state_ttl, wait_pause ('1'/'0'), interval.
# Returns {granted, round, wait, window, resume_at}: wait is the pause left (not granted,
# paused), -1 (not granted, window full) or the delay before sending under max_rate.
ACQUIRE = (
    _NOW
    + """
local s = redis.call('HMGET', KEYS[1], 'window', 'round', 'resume_at', 'next_at', 'pace',
                    'pace_at')
local window = tonumber(s[1]) or tonumber(ARGV[4])
local round = tonumber(s[2]) or 0
local resume_at = tonumber(s[3]) or 0
if not s[1] then
  redis.call('HSET', KEYS[1], 'window', window, 'round', round)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if ARGV[6] == '1' and resume_at > now then
  return {0, round, tostring(resume_at - now), tostring(window), tostring(resume_at)}
end
if redis.call('ZCARD', KEYS[2]) >= window then
  return {0, round, '-1', tostring(window), tostring(resume_at)}
end
local delay = 0
local interval = tonumber(ARGV[7])
local pace = tonumber(s[5])
if pace then
  -- the learned pace (calls per ms) grows by 2 % of itself a second from the end of the pause
  interval = math.max(interval, 1 / (pace * (1 + 0.00002 * math.max(0, now - tonumber(s[6])))))
end
redis.call('HINCRBY', KEYS[1], 'grants', 1)
if interval > 0 then
  local next_at = math.max(tonumber(s[4]) or 0, now)
  delay = next_at - now
  redis.call('HSET', KEYS[1], 'next_at', tostring(next_at + interval))
end
redis.call('ZADD', KEYS[2], tostring(now + delay + tonumber(ARGV[3])), ARGV[2])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(last[2]) - now) + 1)
return {1, round, tostring(delay), tostring(window), tostring(resume_at)}
"""
)

# ARGV: now, lease, outcome ('ok' / 'limited' / 'other'), round of the attempt, pause,
# initial_window, max_window, state_ttl, rtt (0: unknown), queue allowance, pace horizon.
# Returns {round, window}.
RELEASE = (
    _NOW
    + """
local held = redis.call('ZREM', KEYS[2], ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'window', 'round', 'resume_at', 'min_rtt')
local window = tonumber(s[1]) or tonumber(ARGV[6])
local round = tonumber(s[2]) or 0
local outcome = ARGV[3]
local rtt = tonumber(ARGV[9])
local min_rtt = tonumber(s[4])
if rtt > 0 then
  if not min_rtt or rtt < min_rtt then
    min_rtt = rtt
  else
    min_rtt = min_rtt + (rtt - min_rtt) * 0.001  -- the floor follows a lasting change slowly
  end
  redis.call('HSET', KEYS[1], 'min_rtt', tostring(min_rtt))
end
if outcome == 'ok' then
  -- additive increase, about one more slot per window's worth of successes — while the
  -- calls in flight travel rather than queue (TCP Vegas): window * (1 - min_rtt / rtt)
  -- estimates how many of them wait in a queue somewhere, gaining nothing
  if rtt <= 0 or window * (1 - min_rtt / rtt) < tonumber(ARGV[10]) then
    window = math.min(tonumber(ARGV[7]), window + 1 / window)
  end
  redis.call('HSET', KEYS[1], 'window', tostring(window), 'round', round)
elseif outcome == 'limited' then
  redis.call('HINCRBY', KEYS[1], 'limited', 1)
  -- multiplicative decrease, once per round: a 429 of a call sent before the last cut met
  -- the same exhausted budget as the one that made the cut
  local resume_at = math.max(tonumber(s[3]) or 0, now + tonumber(ARGV[5]))
  if tonumber(ARGV[4]) == round then
    local in_flight = redis.call('ZCARD', KEYS[2]) + held
    round = round + 1
    window = math.max(1, math.min(window, in_flight) / 2)
    -- rounds back to back: the calls granted over the whole last cycle, its pause included,
    -- are what the account sustains; pace a little under that from the end of this pause
    local c = redis.call('HMGET', KEYS[1], 'cut_at', 'grants')
    local cut_at = tonumber(c[1])
    local grants = tonumber(c[2]) or 0
    if cut_at and now > cut_at and now - cut_at <= tonumber(ARGV[11]) and grants >= 10 then
      redis.call('HSET', KEYS[1], 'pace', tostring(0.95 * grants / (now - cut_at)),
                 'pace_at', tostring(resume_at))
    end
    redis.call('HSET', KEYS[1], 'cut_at', tostring(now), 'grants', 0)
  end
  redis.call('HSET', KEYS[1], 'window', tostring(window), 'round', round,
             'resume_at', tostring(resume_at))
end
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {round, tostring(window)}
"""
)


class Grant(NamedTuple):
    """What the acquire script answered."""

    granted: bool
    round: int
    #: Seconds: the pause left (refused while paused), -1.0 (refused: the window is full),
    #: or the delay before sending under ``max_rate`` (granted).
    wait: float
    window: float
    #: When the current pause ends, in the scripts' clock (seconds); tells pauses apart.
    resume_at: float


class Snapshot(NamedTuple):
    """The shared state as stored (for tests, benchmarks and ``repr``)."""

    window: float | None
    round: int
    in_flight: int
    limited: int


class SharedState:
    """One limiter's keys in Redis and the scripts that update them atomically."""

    __slots__ = (
        "_acquire",
        "_initial_window",
        "_interval_ms",
        "_lease_ttl_ms",
        "_leases_key",
        "_max_window",
        "_queue_allowance",
        "_release",
        "_state_key",
        "_state_ttl_ms",
        "client",
    )

    def __init__(
        self,
        client: Redis,
        key: str,
        *,
        initial_window: float,
        max_window: float,
        lease_ttl: float,
        state_ttl: float,
        max_rate: float | None,
        queue_allowance: float = 4.0,
    ) -> None:
        self.client = client
        self._queue_allowance = repr(float(queue_allowance))
        self._state_key = f"{{{key}}}:state"
        self._leases_key = f"{{{key}}}:leases"
        self._initial_window = repr(float(initial_window))
        self._max_window = repr(float(max_window))
        self._lease_ttl_ms = repr(lease_ttl * 1000.0)
        self._state_ttl_ms = str(max(1, round(state_ttl * 1000.0)))
        self._interval_ms = repr(1000.0 / max_rate) if max_rate else "0"
        self._acquire = client.register_script(ACQUIRE)
        self._release = client.register_script(RELEASE)

    @property
    def keys(self) -> tuple[str, str]:
        """The two Redis keys: the state hash and the leases sorted set."""
        return (self._state_key, self._leases_key)

    async def acquire(self, lease: str, *, wait_pause: bool, now: float | None = None) -> Grant:
        """Try to take a slot named ``lease``; ``now`` in seconds (None: the server's clock)."""
        granted, round_, wait, window, resume_at = await self._acquire(
            keys=self.keys,
            args=(
                _ms(now),
                lease,
                self._lease_ttl_ms,
                self._initial_window,
                self._state_ttl_ms,
                "1" if wait_pause else "0",
                self._interval_ms,
            ),
        )
        wait_s = float(wait)
        return Grant(
            bool(granted),
            int(round_),
            wait_s if wait_s < 0 else wait_s / 1000.0,
            float(window),
            float(resume_at) / 1000.0,
        )

    async def release(
        self,
        lease: str,
        *,
        outcome: str,
        round: int,
        pause: float = 0.0,
        rtt: float = 0.0,
        now: float | None = None,
    ) -> tuple[int, float]:
        """Give ``lease`` back with the attempt's outcome; return the new (round, window).

        ``rtt`` is how long the attempt took (seconds; 0 when unknown): the window grows on
        a success only while ``window * (1 - fastest / rtt)``, the calls that queue rather
        than travel, stays under ``queue_allowance``.
        """
        round_, window = await self._release(
            keys=self.keys,
            args=(
                _ms(now),
                lease,
                outcome,
                str(round),
                repr(pause * 1000.0),
                self._initial_window,
                self._max_window,
                self._state_ttl_ms,
                repr(rtt * 1000.0),
                self._queue_allowance,
                "15000",  # pace horizon: a longer cycle says nothing about the limit
            ),
        )
        return int(round_), float(window)

    async def snapshot(self) -> Snapshot:
        """Read the state (expired leases included until the next script drops them)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hmget(self._state_key, ["window", "round", "limited"])
        pipe.zcard(self._leases_key)
        (window, round_, limited), in_flight = await pipe.execute()
        return Snapshot(
            None if window is None else float(window),
            int(round_ or 0),
            int(in_flight),
            int(limited or 0),
        )


def _ms(now: float | None) -> str:
    return "" if now is None else repr(now * 1000.0)
