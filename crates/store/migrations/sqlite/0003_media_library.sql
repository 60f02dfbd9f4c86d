-- pixelway schema v3: the Media Library as the management API sees it. Files get their folder,
-- kind, dimensions, description, custom metadata and a version number; tags live in their own
-- table (searchable with IN / NOT IN); folders exist on their own (created empty, or implied by
-- an upload); client-side upload tokens are remembered until they expire (each is usable once);
-- purge requests keep their status.

ALTER TABLE files ADD COLUMN folder TEXT NOT NULL DEFAULT '/';
ALTER TABLE files ADD COLUMN file_type TEXT NOT NULL DEFAULT 'image';
ALTER TABLE files ADD COLUMN format TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN width BIGINT;
ALTER TABLE files ADD COLUMN height BIGINT;
ALTER TABLE files ADD COLUMN has_alpha INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN custom_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE files ADD COLUMN custom_coordinates TEXT;
ALTER TABLE files ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- The folder of every existing file: its path up to the last '/' (rtrim drops the characters
-- of the name, which holds no '/').
UPDATE files SET folder = '/' || rtrim(path, replace(path, '/', ''));

CREATE INDEX files_by_folder ON files (account_id, folder);

CREATE TABLE file_tags (
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (file_id, tag)
);
CREATE INDEX file_tags_by_tag ON file_tags (tag);

CREATE TABLE folders (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- '/a/b/' style: leading and trailing slash.
    path       TEXT NOT NULL,
    -- The last segment: 'b'.
    name       TEXT NOT NULL,
    -- The folder it is in: '/a/'.
    parent     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, path)
);
CREATE INDEX folders_by_parent ON folders (account_id, parent);

-- The folders of existing files (their last segment: what follows the last '/' of the path
-- without its trailing '/').
INSERT INTO folders (account_id, path, name, parent, created_at, updated_at)
    SELECT DISTINCT account_id, folder,
        substr(rtrim(folder, '/'), length(rtrim(rtrim(folder, '/'), replace(rtrim(folder, '/'), '/', ''))) + 1),
        rtrim(rtrim(folder, '/'), replace(rtrim(folder, '/'), '/', '')),
        0, 0
    FROM files WHERE folder <> '/';

CREATE TABLE upload_tokens (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token      TEXT NOT NULL,
    expire     BIGINT NOT NULL,
    PRIMARY KEY (account_id, token)
);

CREATE TABLE purge_requests (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    -- The library path it purged; a prefix when wildcard = 1 (the URL ended in '*').
    path       TEXT NOT NULL,
    wildcard   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
