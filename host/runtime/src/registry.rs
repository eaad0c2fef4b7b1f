//! Per-tenant plugin versions: upload, activate, roll back, list, restore.
//!
//! Each tenant has, per kind, an active version and the one before it. Reads are lock-free
//! (`ArcSwap` of an immutable map); a change builds a new map and swaps it in, so a call in
//! flight keeps the `Arc<Plugin>` it took and finishes on that version while new calls get the
//! new one. Every change is written to the [`Repository`] before it is published, so a restart
//! ([`Registry::restore`]) brings back the same active set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use arc_swap::ArcSwap;
use plenum_plugin_api::types::PluginInfo;
use plenum_sdk::harness::CanaryFailure;
use plenum_types::{Digest, PluginKind, TenantId, UnixTime};

use crate::{LoadError, Plugin, Runtime, digest_of, target};

/// The tenant label of canary calls in the counters.
pub const CANARY_TENANT: &str = "(canary)";

/// A repository failure (the storage layer's error, boxed).
pub type RepoError = Box<dyn std::error::Error + Send + Sync>;

/// A version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    /// Tenant.
    pub tenant: TenantId,
    /// Kind.
    pub kind: PluginKind,
    /// Content digest.
    pub digest: Digest,
    /// What the plugin says about itself.
    pub info: PluginInfo,
    /// Size in bytes.
    pub size: usize,
    /// When it was uploaded.
    pub uploaded_at: UnixTime,
}

/// The active version of a kind for a tenant, and the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// In use for new calls.
    pub active: Digest,
    /// What rollback returns to.
    pub previous: Option<Digest>,
}

/// Where versions and bindings persist (the pool database in production).
pub trait Repository: Send + Sync {
    /// Store a version (idempotent for the same tenant, kind and digest).
    fn put_version(&self, version: &StoredVersion, bytes: &[u8]) -> Result<(), RepoError>;
    /// A version's bytes.
    fn version_bytes(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Option<Vec<u8>>, RepoError>;
    /// A tenant's versions of a kind.
    fn versions(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
    ) -> Result<Vec<StoredVersion>, RepoError>;
    /// The binding of a kind for a tenant.
    fn binding(&self, tenant: &TenantId, kind: PluginKind) -> Result<Option<Binding>, RepoError>;
    /// Set the binding of a kind for a tenant.
    fn set_binding(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        binding: &Binding,
    ) -> Result<(), RepoError>;
    /// Every binding, for restore.
    fn bindings(&self) -> Result<Vec<(TenantId, PluginKind, Binding)>, RepoError>;
}

/// Why a registry operation failed. Nothing changes when one fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The component cannot be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The plugin failed one of its own canaries under production limits.
    #[error("refused: {0}")]
    Canary(CanaryFailure),
    /// No such version was uploaded for this tenant and kind.
    #[error("no {kind} version {} uploaded for tenant {tenant}", digest.short())]
    NotUploaded {
        /// Tenant.
        tenant: TenantId,
        /// Kind.
        kind: PluginKind,
        /// Digest asked for.
        digest: Digest,
    },
    /// Rollback with nothing to roll back to.
    #[error("tenant {tenant} has no previous {kind} version to roll back to")]
    NoPrevious {
        /// Tenant.
        tenant: TenantId,
        /// Kind.
        kind: PluginKind,
    },
    /// The repository failed.
    #[error("plugin repository: {0}")]
    Repository(RepoError),
}

/// What an upload did.
#[derive(Debug, Clone)]
pub struct UploadReport {
    /// The version's digest.
    pub digest: Digest,
    /// Its kind.
    pub kind: PluginKind,
    /// What it says about itself.
    pub info: PluginInfo,
    /// Canaries passed.
    pub canaries: usize,
    /// Whether the compiled artifact came from the cache.
    pub cached: bool,
    /// Microseconds to load (compile or deserialize, check, pre-instantiate).
    pub load_micros: u128,
    /// Microseconds to run the canaries.
    pub canary_micros: u128,
}

/// A version's standing, for `plenum plugin list`.
#[derive(Debug, Clone)]
pub struct VersionStatus {
    /// The stored version.
    pub version: StoredVersion,
    /// Whether it is active, the previous one, or only uploaded.
    pub state: VersionState,
    /// Calls made to it since start.
    pub calls: u64,
    /// Faults since start.
    pub faults: u64,
}

/// Active, previous, or staged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// In use.
    Active,
    /// What rollback returns to.
    Previous,
    /// Uploaded, not in use.
    Staged,
}

impl std::fmt::Display for VersionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VersionState::Active => "active",
            VersionState::Previous => "previous",
            VersionState::Staged => "staged",
        })
    }
}

/// What a restore brought back.
#[derive(Debug, Default)]
pub struct RestoreReport {
    /// Bindings restored.
    pub restored: usize,
    /// Bindings that could not be restored, with the reason; these tenants use the bundled
    /// default of the kind until an admin acts.
    pub failed: Vec<(TenantId, PluginKind, String)>,
}

#[derive(Clone)]
struct Live {
    active: Arc<Plugin>,
    previous: Option<Arc<Plugin>>,
}

type LiveMap = HashMap<(TenantId, PluginKind), Live>;

/// The per-tenant registry.
pub struct Registry {
    runtime: Runtime,
    repo: Arc<dyn Repository>,
    live: ArcSwap<LiveMap>,
    write: Mutex<()>,
    loaded: Mutex<HashMap<Digest, Weak<Plugin>>>,
}

impl Registry {
    /// An empty registry over `repo`; call [`Registry::restore`] to bring back what it holds.
    pub fn new(runtime: Runtime, repo: Arc<dyn Repository>) -> Registry {
        Registry {
            runtime,
            repo,
            live: ArcSwap::from_pointee(HashMap::new()),
            write: Mutex::new(()),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The active version of `kind` for `tenant`, if the tenant has one. The caller keeps the
    /// `Arc` for as long as its call needs one version.
    pub fn current(&self, tenant: &TenantId, kind: PluginKind) -> Option<Arc<Plugin>> {
        self.live
            .load()
            .get(&(tenant.clone(), kind))
            .map(|l| Arc::clone(&l.active))
    }

    /// The binding in effect.
    pub fn binding(&self, tenant: &TenantId, kind: PluginKind) -> Option<Binding> {
        self.live
            .load()
            .get(&(tenant.clone(), kind))
            .map(|l| Binding {
                active: l.active.digest(),
                previous: l.previous.as_ref().map(|p| p.digest()),
            })
    }

    /// Upload a version: load and check it, run its canaries under production limits, store
    /// it. It is not active until [`Registry::activate`].
    pub fn upload(
        &self,
        tenant: &TenantId,
        declared: Option<PluginKind>,
        bytes: &[u8],
        now: UnixTime,
    ) -> Result<UploadReport, RegistryError> {
        self.upload_plugin(tenant, declared, bytes, now)
            .map(|(_, report)| report)
    }

    /// Upload and activate in one step (what `plenum plugin deploy --activate` does).
    pub fn deploy(
        &self,
        tenant: &TenantId,
        declared: Option<PluginKind>,
        bytes: &[u8],
        now: UnixTime,
    ) -> Result<UploadReport, RegistryError> {
        let (plugin, report) = self.upload_plugin(tenant, declared, bytes, now)?;
        self.activate_plugin(tenant, plugin)?;
        Ok(report)
    }

    /// Install a plugin the host ships (already checked by the build's own tests and by the
    /// native-vs-Wasm comparison): stored and activated like an upload, without running its
    /// canaries again, so that a first start on a loaded machine cannot trip on a deadline.
    pub fn install_bundled(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        bytes: &[u8],
        now: UnixTime,
    ) -> Result<Digest, RegistryError> {
        let plugin = self.runtime.load(bytes)?;
        if plugin.kind() != kind {
            return Err(LoadError::KindMismatch {
                declared: kind,
                found: plugin.kind(),
            }
            .into());
        }
        let version = StoredVersion {
            tenant: tenant.clone(),
            kind,
            digest: plugin.digest(),
            info: plugin.info().clone(),
            size: plugin.size(),
            uploaded_at: now,
        };
        self.repo
            .put_version(&version, bytes)
            .map_err(RegistryError::Repository)?;
        self.remember(&plugin);
        let digest = plugin.digest();
        self.activate_plugin(tenant, plugin)?;
        Ok(digest)
    }

    fn upload_plugin(
        &self,
        tenant: &TenantId,
        declared: Option<PluginKind>,
        bytes: &[u8],
        now: UnixTime,
    ) -> Result<(Arc<Plugin>, UploadReport), RegistryError> {
        let (plugin, stats) = self.runtime.load_measured(bytes)?;
        if let Some(declared) = declared
            && declared != plugin.kind()
        {
            return Err(LoadError::KindMismatch {
                declared,
                found: plugin.kind(),
            }
            .into());
        }
        let started = Instant::now();
        // Canary calls are counted under their own label, apart from the tenant's traffic.
        let canaries =
            target::check_canaries(&plugin, CANARY_TENANT).map_err(RegistryError::Canary)?;
        let canary_micros = started.elapsed().as_micros();
        let version = StoredVersion {
            tenant: tenant.clone(),
            kind: plugin.kind(),
            digest: plugin.digest(),
            info: plugin.info().clone(),
            size: plugin.size(),
            uploaded_at: now,
        };
        self.repo
            .put_version(&version, bytes)
            .map_err(RegistryError::Repository)?;
        self.remember(&plugin);
        tracing::info!(tenant = %tenant, kind = %plugin.kind(), version = %plugin.digest().short(),
            name = %plugin.info().name, canaries, "plugin uploaded");
        let report = UploadReport {
            digest: plugin.digest(),
            kind: plugin.kind(),
            info: plugin.info().clone(),
            canaries,
            cached: stats.cached,
            load_micros: stats.micros,
            canary_micros,
        };
        Ok((plugin, report))
    }

    /// Make an uploaded version the active one; the active one becomes the previous.
    pub fn activate(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<(), RegistryError> {
        let plugin = self.plugin(tenant, kind, digest)?;
        self.activate_plugin(tenant, plugin)
    }

    fn activate_plugin(&self, tenant: &TenantId, plugin: Arc<Plugin>) -> Result<(), RegistryError> {
        let _w = self
            .write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (kind, digest) = (plugin.kind(), plugin.digest());
        let current = self.live.load().get(&(tenant.clone(), kind)).cloned();
        if current
            .as_ref()
            .is_some_and(|l| l.active.digest() == digest)
        {
            return Ok(());
        }
        let live = Live {
            active: plugin,
            previous: current.map(|l| l.active),
        };
        self.publish(tenant, kind, live)?;
        tracing::info!(tenant = %tenant, %kind, version = %digest.short(), "plugin activated");
        Ok(())
    }

    /// Return to the previous version; the active one becomes the previous.
    pub fn rollback(&self, tenant: &TenantId, kind: PluginKind) -> Result<Digest, RegistryError> {
        let _w = self
            .write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.live.load().get(&(tenant.clone(), kind)).cloned();
        let Some(Live {
            active,
            previous: Some(previous),
        }) = current
        else {
            return Err(RegistryError::NoPrevious {
                tenant: tenant.clone(),
                kind,
            });
        };
        let digest = previous.digest();
        self.publish(
            tenant,
            kind,
            Live {
                active: previous,
                previous: Some(active),
            },
        )?;
        tracing::info!(tenant = %tenant, %kind, version = %digest.short(), "plugin rolled back");
        Ok(digest)
    }

    /// A tenant's versions of every kind with their standing and counters.
    pub fn list(&self, tenant: &TenantId) -> Result<Vec<VersionStatus>, RegistryError> {
        let mut out = Vec::new();
        for kind in PluginKind::ALL {
            let binding = self.binding(tenant, kind);
            for version in self
                .repo
                .versions(tenant, kind)
                .map_err(RegistryError::Repository)?
            {
                let state = match binding {
                    Some(b) if b.active == version.digest => VersionState::Active,
                    Some(b) if b.previous == Some(version.digest) => VersionState::Previous,
                    _ => VersionState::Staged,
                };
                let key = crate::CounterKey {
                    tenant: tenant.to_string(),
                    kind,
                    digest: version.digest,
                };
                let counters = self.runtime.counters();
                out.push(VersionStatus {
                    calls: counters.calls_of(&key),
                    faults: counters.total_faults_of(&key),
                    version,
                    state,
                });
            }
        }
        Ok(out)
    }

    /// Bring back every binding the repository holds (at start-up). A version that no longer
    /// loads is reported and skipped; its tenant falls back to the bundled default.
    pub fn restore(&self) -> Result<RestoreReport, RegistryError> {
        let _w = self
            .write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut report = RestoreReport::default();
        let mut map: LiveMap = (**self.live.load()).clone();
        for (tenant, kind, binding) in self.repo.bindings().map_err(RegistryError::Repository)? {
            let active = match self.plugin(&tenant, kind, &binding.active) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(tenant = %tenant, %kind, error = %e, "cannot restore active plugin; using the bundled default");
                    report.failed.push((tenant, kind, e.to_string()));
                    continue;
                }
            };
            let previous = binding
                .previous
                .and_then(|d| self.plugin(&tenant, kind, &d).ok());
            map.insert((tenant, kind), Live { active, previous });
            report.restored += 1;
        }
        self.live.store(Arc::new(map));
        Ok(report)
    }

    /// Persist, then publish.
    fn publish(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        live: Live,
    ) -> Result<(), RegistryError> {
        let binding = Binding {
            active: live.active.digest(),
            previous: live.previous.as_ref().map(|p| p.digest()),
        };
        self.repo
            .set_binding(tenant, kind, &binding)
            .map_err(RegistryError::Repository)?;
        let mut map: LiveMap = (**self.live.load()).clone();
        map.insert((tenant.clone(), kind), live);
        self.live.store(Arc::new(map));
        Ok(())
    }

    /// The loaded plugin for an uploaded version (loaded from the repository if need be).
    fn plugin(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Arc<Plugin>, RegistryError> {
        let not_uploaded = || RegistryError::NotUploaded {
            tenant: tenant.clone(),
            kind,
            digest: *digest,
        };
        let bytes = self
            .repo
            .version_bytes(tenant, kind, digest)
            .map_err(RegistryError::Repository)?;
        let bytes = bytes.ok_or_else(not_uploaded)?;
        if let Some(p) = self.recall(digest) {
            return Ok(p);
        }
        if digest_of(&bytes) != *digest {
            return Err(RegistryError::Load(LoadError::Invalid(
                "stored bytes do not match their digest".into(),
            )));
        }
        let plugin = self.runtime.load(&bytes)?;
        if plugin.kind() != kind {
            return Err(LoadError::KindMismatch {
                declared: kind,
                found: plugin.kind(),
            }
            .into());
        }
        self.remember(&plugin);
        Ok(plugin)
    }

    fn remember(&self, plugin: &Arc<Plugin>) {
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loaded.retain(|_, w| w.strong_count() > 0);
        loaded.insert(plugin.digest(), Arc::downgrade(plugin));
    }

    fn recall(&self, digest: &Digest) -> Option<Arc<Plugin>> {
        let loaded = self
            .loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loaded.get(digest).and_then(Weak::upgrade)
    }
}

/// A [`Repository`] in memory, for tests and for running without a database.
#[derive(Default)]
pub struct MemoryRepository {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    versions: Vec<(StoredVersion, Vec<u8>)>,
    bindings: HashMap<(TenantId, PluginKind), Binding>,
}

impl MemoryRepository {
    fn inner(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Repository for MemoryRepository {
    fn put_version(&self, version: &StoredVersion, bytes: &[u8]) -> Result<(), RepoError> {
        let mut inner = self.inner();
        let same = |v: &StoredVersion| {
            v.tenant == version.tenant && v.kind == version.kind && v.digest == version.digest
        };
        if !inner.versions.iter().any(|(v, _)| same(v)) {
            inner.versions.push((version.clone(), bytes.to_vec()));
        }
        Ok(())
    }

    fn version_bytes(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Option<Vec<u8>>, RepoError> {
        Ok(self
            .inner()
            .versions
            .iter()
            .find(|(v, _)| v.tenant == *tenant && v.kind == kind && v.digest == *digest)
            .map(|(_, b)| b.clone()))
    }

    fn versions(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
    ) -> Result<Vec<StoredVersion>, RepoError> {
        Ok(self
            .inner()
            .versions
            .iter()
            .filter(|(v, _)| v.tenant == *tenant && v.kind == kind)
            .map(|(v, _)| v.clone())
            .collect())
    }

    fn binding(&self, tenant: &TenantId, kind: PluginKind) -> Result<Option<Binding>, RepoError> {
        Ok(self.inner().bindings.get(&(tenant.clone(), kind)).copied())
    }

    fn set_binding(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        binding: &Binding,
    ) -> Result<(), RepoError> {
        self.inner()
            .bindings
            .insert((tenant.clone(), kind), *binding);
        Ok(())
    }

    fn bindings(&self) -> Result<Vec<(TenantId, PluginKind, Binding)>, RepoError> {
        let mut all: Vec<_> = self
            .inner()
            .bindings
            .iter()
            .map(|((t, k), b)| (t.clone(), *k, *b))
            .collect();
        all.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Ok(all)
    }
}
