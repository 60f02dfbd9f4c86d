-- pixelway schema v2: per-account output format settings. NULL means "the server default"
-- ([delivery] use_best_format / auto_avif).

ALTER TABLE accounts ADD COLUMN use_best_format INTEGER;
ALTER TABLE accounts ADD COLUMN auto_avif INTEGER;
