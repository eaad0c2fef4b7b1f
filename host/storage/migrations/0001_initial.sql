-- Plenum pool database, schema version 1.
-- Applied in one transaction by plenum-storage at open; never edit a published migration,
-- add the next one instead.

CREATE TABLE tenants (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    sip_domain      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    pstn_enabled    INTEGER NOT NULL CHECK (pstn_enabled IN (0, 1)),
    policy_document TEXT    NOT NULL DEFAULT '',
    -- Not a foreign key: a tenant exists before its profiles do.
    default_profile TEXT,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE location_profiles (
    tenant                 TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    region                 TEXT NOT NULL,
    external_access_prefix TEXT,
    PRIMARY KEY (tenant, name)
) STRICT;

CREATE TABLE normalization_rules (
    tenant      TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 0),
    name        TEXT    NOT NULL,
    pattern     TEXT    NOT NULL,
    translation TEXT    NOT NULL,
    PRIMARY KEY (tenant, profile, position),
    UNIQUE (tenant, profile, name),
    FOREIGN KEY (tenant, profile) REFERENCES location_profiles (tenant, name) ON DELETE CASCADE
) STRICT;

CREATE TABLE access_numbers (
    number    TEXT    NOT NULL PRIMARY KEY,   -- E.164, unique in the pool (reverse lookup)
    tenant    TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display   TEXT    NOT NULL,
    region    TEXT    NOT NULL,
    languages TEXT    NOT NULL,               -- comma-separated language tags, default first
    priority  INTEGER NOT NULL CHECK (priority >= 0)
) STRICT;
CREATE INDEX access_numbers_by_tenant ON access_numbers (tenant, region, priority);

CREATE TABLE users (
    sip_uri             TEXT    NOT NULL PRIMARY KEY,
    tenant              TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name        TEXT    NOT NULL,
    line                TEXT    UNIQUE,        -- E.164, unique in the pool
    extension           TEXT,
    location_profile    TEXT,
    is_organizer        INTEGER NOT NULL CHECK (is_organizer IN (0, 1)),
    -- PIN: argon2id PHC string, never the PIN.
    pin_hash            TEXT,
    pin_set_at          INTEGER,
    pin_local_failures  INTEGER NOT NULL DEFAULT 0 CHECK (pin_local_failures >= 0),
    pin_window_start    INTEGER,
    pin_global_failures INTEGER NOT NULL DEFAULT 0 CHECK (pin_global_failures >= 0),
    pin_locked_until    INTEGER,
    pin_locked          INTEGER NOT NULL DEFAULT 0 CHECK (pin_locked IN (0, 1)),
    -- SIP digest: HA1 = H(user:realm:password) in lowercase hex, never the password.
    ha1_md5             TEXT,
    ha1_sha256          TEXT,
    UNIQUE (tenant, extension),
    UNIQUE (sip_uri, tenant),                  -- target of conferences (organizer, tenant)
    FOREIGN KEY (tenant, location_profile) REFERENCES location_profiles (tenant, name)
) STRICT;

CREATE TABLE gateways (
    name             TEXT    NOT NULL PRIMARY KEY,
    tenant           TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    address          TEXT    NOT NULL UNIQUE,  -- IP or IP:port the calls come from
    transport        TEXT    NOT NULL CHECK (transport IN ('udp', 'tcp')),
    srtp             INTEGER NOT NULL CHECK (srtp IN (0, 1)),
    location_profile TEXT    NOT NULL,
    FOREIGN KEY (tenant, location_profile) REFERENCES location_profiles (tenant, name)
) STRICT;

CREATE TABLE conferences (
    id               INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,  -- never reused (the audit log names it)
    tenant           TEXT    NOT NULL,
    organizer        TEXT    NOT NULL,
    conference_id    TEXT    NOT NULL,         -- C3P msci:conference-id
    subject          TEXT    NOT NULL DEFAULT '',
    pstn_id          TEXT    UNIQUE,
    passcode_hash    TEXT,                     -- argon2id PHC string, never the passcode
    admission_policy TEXT    NOT NULL
        CHECK (admission_policy IN ('closedAuthenticated', 'openAuthenticated', 'anonymous')),
    lobby_bypass     INTEGER NOT NULL CHECK (lobby_bypass IN (0, 1)),
    expires_at       INTEGER NOT NULL,
    revision         INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (organizer, conference_id),
    FOREIGN KEY (organizer, tenant) REFERENCES users (sip_uri, tenant) ON DELETE CASCADE
) STRICT;
CREATE INDEX conferences_by_expiry ON conferences (expires_at);
CREATE INDEX conferences_by_tenant ON conferences (tenant);

-- One row: the next number the PSTN ID sequence hands out.
CREATE TABLE pstn_sequence (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL CHECK (next >= 1)
) STRICT;
INSERT INTO pstn_sequence (id, next) VALUES (1, 1);

CREATE TABLE plugin_versions (
    tenant      TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL
        CHECK (kind IN ('normalizer', 'attendant', 'meeting-policy', 'focus-factory')),
    digest      TEXT    NOT NULL CHECK (length(digest) = 64),  -- sha256 of bytes, lowercase hex
    name        TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    description TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    bytes       BLOB    NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, digest)
) STRICT;

-- The digests are not foreign keys: a binding may name a plugin bundled with the host.
CREATE TABLE plugin_bindings (
    tenant          TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL
        CHECK (kind IN ('normalizer', 'attendant', 'meeting-policy', 'focus-factory')),
    active_digest   TEXT    NOT NULL CHECK (length(active_digest) = 64),
    previous_digest TEXT    CHECK (length(previous_digest) = 64),
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind)
) STRICT;

-- Append-only. No foreign keys: the log outlives the tenants and conferences it mentions.
CREATE TABLE audit (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    tenant     TEXT,
    event      TEXT    NOT NULL,
    conference INTEGER,
    subject    TEXT    NOT NULL,
    detail     TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_by_tenant ON audit (tenant, id);
