"""State that every gateway process must see the same: live events, staff presence, rate limits, short-lived
values (the WeChat access token, leases). Each is a small interface with an in-process implementation (the
default profile, one process) and a Redis one (the scale-out profile); :func:`open_shared` picks by settings."""
