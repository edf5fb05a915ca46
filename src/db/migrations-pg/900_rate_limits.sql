-- Shared rate limits (docs/http.md §11): rate-limiter-flexible's RateLimiterPostgres table, made
-- here rather than by the library so instances starting at once do not race to create it. Every
-- limiter shares it; its keyPrefix keeps their keys apart.
CREATE TABLE rate_limits (
  key     VARCHAR(255) PRIMARY KEY,
  points  INTEGER NOT NULL DEFAULT 0,
  expire  BIGINT
);
