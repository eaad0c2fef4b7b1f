//! `plenum serve`: open the pool database (seeding the demo world into an empty data dir),
//! start the plugin runtime and restore every tenant's active plugins, and serve the admin API
//! until interrupted.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use plenum_runtime::fallback::Plugins;
use plenum_runtime::registry::Registry;
use plenum_runtime::{Plugin, Runtime};
use plenum_storage::{AuditEvent, AuditRecord, DemoCredentials, Pool, SqlitePool};
use plenum_types::{Digest, PluginKind, TenantId};

use crate::admin::{self, TenantView};
use crate::config::Config;
use crate::repo::PoolRepository;

/// The name of the admin token file in the data dir.
pub const TOKEN_FILE: &str = "admin.token";
/// The name of the demo credentials file in the data dir.
pub const CREDENTIALS_FILE: &str = "demo-credentials.txt";

/// What the admin API (and later SIP) works with.
pub struct Services {
    pool: Arc<dyn Pool>,
    registry: Arc<Registry>,
    plugins: Plugins,
    /// The media engine's counters, once it runs.
    pub media_stats: std::sync::OnceLock<Arc<crate::media::EngineStats>>,
    /// The SIP core's meetings, once it runs.
    pub live: std::sync::OnceLock<crate::sip::LiveHandle>,
    /// The bound on argon2id checks, and the passcodes already verified.
    pub slow: crate::passcodes::SlowHashes,
}

impl Services {
    /// The plugin registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The plugins with their failure policies.
    pub fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    /// The pool database.
    pub fn pool(&self) -> &Arc<dyn Pool> {
        &self.pool
    }

    /// Whether the tenant exists.
    pub fn tenant_exists(&self, id: &TenantId) -> anyhow::Result<bool> {
        Ok(self.pool.tenant(id)?.is_some())
    }

    /// Every tenant.
    pub fn tenants(&self) -> anyhow::Result<Vec<TenantView>> {
        Ok(self
            .pool
            .tenants()?
            .into_iter()
            .map(|t| TenantView {
                id: t.id.to_string(),
                name: t.name,
                domain: t.sip_domain,
            })
            .collect())
    }

    /// Record a plugin change in the audit log (a failure to audit is logged, not fatal).
    pub fn audit_plugin(&self, tenant: &TenantId, event: &str, kind: PluginKind, digest: &Digest) {
        let Some(event) = AuditEvent::from_name(event) else {
            return;
        };
        self.audit_admin(tenant, event, &format!("{kind} {}", digest.to_hex()));
    }

    /// Audit an admin's change to a tenant.
    pub fn audit_admin(&self, tenant: &TenantId, event: AuditEvent, detail: &str) {
        let record = AuditRecord {
            id: 0,
            at: plenum_types::unix_now(),
            tenant: Some(tenant.clone()),
            event,
            conference: None,
            subject: "admin".into(),
            detail: detail.to_owned(),
        };
        if let Err(e) = self.pool.audit(&record) {
            tracing::error!(error = %e, "cannot write audit record");
        }
    }
}

/// Start everything and run until Ctrl-C or SIGTERM.
pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    let data_dir = cfg.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    let token = admin_token(&data_dir)?;
    let services = tokio::task::spawn_blocking({
        let cfg = cfg.clone();
        move || start(&cfg)
    })
    .await??;
    let services = Arc::new(services);

    let listener = tokio::net::TcpListener::bind(cfg.admin.listen)
        .await
        .with_context(|| format!("binding the admin API to {}", cfg.admin.listen))?;
    let admin_addr = listener.local_addr()?;
    tracing::info!(addr = %admin_addr, "admin API listening");
    println!(
        "plenum: admin API on http://{admin_addr} (token in {})",
        data_dir.join(TOKEN_FILE).display()
    );
    let packs = match &cfg.media.prompt_packs {
        Some(dir) => plenum_assets::PromptPacks::load(dir)
            .map_err(|e| anyhow::anyhow!("prompt packs in {}: {e}", dir.display()))?,
        None => plenum_assets::PromptPacks::empty(),
    };
    for w in packs.warnings() {
        tracing::warn!(warning = %w, "prompt pack");
    }
    let prompts = Arc::new(plenum_assets::Prompts::new(
        plenum_assets::Catalog::embedded(),
        packs,
    ));
    let media = crate::sip::MediaSetup {
        ports: (cfg.media.rtp_port_min, cfg.media.rtp_port_max),
        shared_port: cfg.media.shared_port,
        prompts,
    };
    let peers = crate::sip::Peers {
        gateways: crate::sip::configured_gateways(&services, &cfg.gateways)?,
    };
    let bound = crate::sip::start(
        &cfg.sip_listen()?,
        media,
        cfg.digest_algorithms()?,
        peers,
        Arc::clone(&services),
    )
    .await?;
    for (transport, addr) in &bound.listening {
        let t = match transport {
            crate::config::Transport::Udp => "udp",
            crate::config::Transport::Tcp => "tcp",
        };
        println!("plenum: SIP on {t} {addr}");
    }
    println!("plenum: ready");
    let _ = std::io::stdout().flush();

    let app = admin::router(Arc::clone(&services), token);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Open the pool (seeding the demo world first if there is none), start the runtime, restore
/// every tenant's plugins.
fn start(cfg: &Config) -> anyhow::Result<Services> {
    let db_path = cfg.data_dir.join("plenum.db");
    let runtime = Runtime::new(cfg.plugin_limits(), Some(&cfg.data_dir.join("cache")))?;
    tracing::info!(allocation = ?runtime.allocation(), "plugin runtime ready");
    if needs_seed(&db_path)? {
        let creds = seed_into(&db_path, &runtime)?;
        announce_demo(&cfg.data_dir, &creds)?;
    } else if cfg.data_dir.join(CREDENTIALS_FILE).exists() {
        println!(
            "plenum: demo credentials are in {}",
            cfg.data_dir.join(CREDENTIALS_FILE).display()
        );
    }
    let pool: Arc<dyn Pool> = Arc::new(
        SqlitePool::open(&db_path).with_context(|| format!("opening {}", db_path.display()))?,
    );
    let registry = Arc::new(Registry::new(
        runtime.clone(),
        Arc::new(PoolRepository(Arc::clone(&pool))),
    ));
    let report = registry.restore()?;
    tracing::info!(
        restored = report.restored,
        failed = report.failed.len(),
        "plugin bindings restored"
    );
    for (tenant, kind, why) in &report.failed {
        tracing::error!(%tenant, %kind, %why, "tenant falls back to the bundled plugin");
    }
    let plugins = Plugins::new(Arc::clone(&registry), load_bundled(&runtime)?);
    Ok(Services {
        pool,
        registry,
        plugins,
        media_stats: std::sync::OnceLock::new(),
        live: std::sync::OnceLock::new(),
        slow: crate::passcodes::SlowHashes::default(),
    })
}

/// Whether the data dir has no pool database yet (or one with no tenant in it).
fn needs_seed(db_path: &Path) -> anyhow::Result<bool> {
    if !db_path.exists() {
        return Ok(true);
    }
    let pool =
        SqlitePool::open(db_path).with_context(|| format!("opening {}", db_path.display()))?;
    Ok(pool.is_empty()?)
}

/// Seed the demo world into a new database beside `db_path` and move it into place only when
/// everything is in, so that a failed first start leaves no half-seeded pool behind.
fn seed_into(db_path: &Path, runtime: &Runtime) -> anyhow::Result<DemoCredentials> {
    let tmp = db_path.with_extension("db.seeding");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
    }
    let creds = {
        let pool: Arc<dyn Pool> = Arc::new(
            SqlitePool::open(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
        );
        let registry = Registry::new(runtime.clone(), Arc::new(PoolRepository(Arc::clone(&pool))));
        seed(&pool, &registry)?
    };
    // The pool is closed (checkpointed) here; move any WAL left behind along with it.
    for suffix in ["-wal", "-shm"] {
        let from = format!("{}{suffix}", tmp.display());
        if Path::new(&from).exists() {
            std::fs::rename(&from, format!("{}{suffix}", db_path.display()))?;
        }
    }
    std::fs::rename(&tmp, db_path)
        .with_context(|| format!("moving {} into place", tmp.display()))?;
    Ok(creds)
}

fn load_bundled(runtime: &Runtime) -> anyhow::Result<HashMap<PluginKind, Arc<Plugin>>> {
    let mut map = HashMap::new();
    for kind in PluginKind::ALL {
        if let Some(b) = plenum_bundled::default_for(kind) {
            let plugin = runtime
                .load(b.bytes)
                .with_context(|| format!("loading bundled plugin {}", b.name))?;
            map.insert(kind, plugin);
        }
    }
    Ok(map)
}

/// Seed the demo world: tenants, numbers, users (storage), then each tenant's plugins and
/// policy document.
fn seed(pool: &Arc<dyn Pool>, registry: &Registry) -> anyhow::Result<DemoCredentials> {
    let now = plenum_types::unix_now();
    let creds = plenum_storage::seed_demo(pool.as_ref(), now)?;
    for tenant in pool.tenants()? {
        let strict = tenant.id.as_str() == "fabrikam";
        for b in plenum_bundled::DEFAULTS {
            let b = if strict && b.kind == PluginKind::MeetingPolicy {
                &plenum_bundled::MEETING_POLICY_STRICT
            } else {
                b
            };
            registry
                .install_bundled(&tenant.id, b.kind, b.bytes, now)
                .with_context(|| format!("installing bundled {} for {}", b.name, tenant.id))?;
        }
        let document = if strict {
            plenum_bundled::FABRIKAM_POLICY
        } else {
            plenum_bundled::CONTOSO_POLICY
        };
        let mut updated = tenant.clone();
        updated.policy_document = document.to_owned();
        pool.update_tenant(&updated)?;
    }
    Ok(creds)
}

/// Tell the operator how to use the demo world, and keep the secrets in a 0600 file.
fn announce_demo(data_dir: &Path, creds: &DemoCredentials) -> anyhow::Result<()> {
    let mut text = String::from(
        "Plenum demo world\n\
         tenants: contoso (contoso.example, profile Redmond), fabrikam (fabrikam.example, strict policy)\n\
         access numbers: +14255550100 (Redmond: en-US, de-DE, fr-FR), +442075550100 (London: en-GB), +493055550100 (fabrikam)\n\
         gateways: 127.0.0.2 -> contoso (plain RTP, profile Redmond), 127.0.0.3 -> fabrikam\n\
         users (SIP URI / extension / PIN / SIP digest password):\n",
    );
    for u in &creds.users {
        text.push_str(&format!(
            "  {} / {} / {} / {}\n",
            u.sip_uri,
            u.extension,
            u.pin.expose(),
            u.sip_password.expose()
        ));
    }
    let path = data_dir.join(CREDENTIALS_FILE);
    write_private(&path, text.as_bytes())?;
    println!(
        "plenum: first start: seeded the demo world into {}",
        data_dir.display()
    );
    print!("{text}");
    println!(
        "plenum: these credentials are kept in {} (mode 0600)",
        path.display()
    );
    Ok(())
}

/// The admin token: read from the data dir, or created there (0600) on first start.
fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join(TOKEN_FILE);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_owned();
        if t.len() >= 32 {
            return Ok(t);
        }
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, token.as_bytes())?;
    Ok(token)
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The token file of a data dir, for the CLI.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKEN_FILE)
}

/// A stored location profile as the normalizer plugin sees it.
pub fn location_profile(
    p: &plenum_storage::ProfileRecord,
) -> plenum_plugin_api::types::LocationProfile {
    plenum_plugin_api::types::LocationProfile {
        name: p.name.clone(),
        region: p.region.clone(),
        external_access_prefix: p.external_access_prefix.clone(),
        rules: p
            .rules
            .iter()
            .map(|r| plenum_plugin_api::types::NormalizationRule {
                name: r.name.clone(),
                pattern: r.pattern.clone(),
                translation: r.translation.clone(),
            })
            .collect(),
    }
}
