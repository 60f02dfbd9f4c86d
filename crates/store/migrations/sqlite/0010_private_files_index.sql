-- Whether an account has a private file is asked on every change to the account and for every
-- account at start: one index entry per private file answers it without reading the account's
-- other files.
CREATE INDEX IF NOT EXISTS files_private ON files (account_id) WHERE is_private = 1;
