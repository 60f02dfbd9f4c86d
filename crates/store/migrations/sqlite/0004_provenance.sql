-- pixelway schema v4: where each entity comes from. `managed_by` names the config file entry
-- that declares it (NULL: created through the management API or the dashboard);
-- `config_generation` is the start-up that last applied it, so entities the file no longer
-- declares can be found and removed. Named transformations get an id (the API addresses them
-- by it), an enabled flag and a creation time.

ALTER TABLE accounts ADD COLUMN managed_by TEXT;
ALTER TABLE accounts ADD COLUMN config_generation TEXT;
ALTER TABLE origins ADD COLUMN managed_by TEXT;
ALTER TABLE origins ADD COLUMN config_generation TEXT;
ALTER TABLE endpoints ADD COLUMN managed_by TEXT;
ALTER TABLE endpoints ADD COLUMN config_generation TEXT;
ALTER TABLE custom_domains ADD COLUMN managed_by TEXT;
ALTER TABLE custom_domains ADD COLUMN config_generation TEXT;
ALTER TABLE named_transformations ADD COLUMN managed_by TEXT;
ALTER TABLE named_transformations ADD COLUMN config_generation TEXT;

ALTER TABLE named_transformations ADD COLUMN id TEXT;
ALTER TABLE named_transformations ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE named_transformations ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE named_transformations SET id = lower(hex(randomblob(16))) WHERE id IS NULL;
CREATE UNIQUE INDEX named_transformations_by_id ON named_transformations (id);
