//! The plugin registry's [`Repository`] over the pool database.

use std::sync::Arc;

use plenum_plugin_api::types::PluginInfo;
use plenum_runtime::registry::{Binding, RepoError, Repository, StoredVersion};
use plenum_storage::{BindingRecord, PluginVersionRecord, Pool};
use plenum_types::{Digest, PluginKind, TenantId};

/// Plugin versions and bindings in the pool database.
pub struct PoolRepository(pub Arc<dyn Pool>);

impl Repository for PoolRepository {
    fn put_version(&self, v: &StoredVersion, bytes: &[u8]) -> Result<(), RepoError> {
        let record = PluginVersionRecord {
            tenant: v.tenant.clone(),
            kind: v.kind,
            digest: v.digest,
            name: v.info.name.clone(),
            version: v.info.version.clone(),
            description: v.info.description.clone(),
            size: bytes.len() as u64,
            uploaded_at: v.uploaded_at,
        };
        self.0.put_plugin_version(&record, bytes)?;
        Ok(())
    }

    fn version_bytes(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Option<Vec<u8>>, RepoError> {
        Ok(self.0.plugin_bytes(tenant, kind, digest)?)
    }

    fn versions(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
    ) -> Result<Vec<StoredVersion>, RepoError> {
        Ok(self
            .0
            .plugin_versions(tenant, kind)?
            .into_iter()
            .map(|r| StoredVersion {
                tenant: r.tenant,
                kind: r.kind,
                digest: r.digest,
                info: PluginInfo {
                    name: r.name,
                    version: r.version,
                    description: r.description,
                },
                size: usize::try_from(r.size).unwrap_or(usize::MAX),
                uploaded_at: r.uploaded_at,
            })
            .collect())
    }

    fn binding(&self, tenant: &TenantId, kind: PluginKind) -> Result<Option<Binding>, RepoError> {
        Ok(self.0.binding(tenant, kind)?.map(|b| Binding {
            active: b.active,
            previous: b.previous,
        }))
    }

    fn set_binding(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        binding: &Binding,
    ) -> Result<(), RepoError> {
        let record = BindingRecord {
            tenant: tenant.clone(),
            kind,
            active: binding.active,
            previous: binding.previous,
            updated_at: plenum_types::unix_now(),
        };
        self.0.set_binding(&record)?;
        Ok(())
    }

    fn bindings(&self) -> Result<Vec<(TenantId, PluginKind, Binding)>, RepoError> {
        Ok(self
            .0
            .bindings()?
            .into_iter()
            .map(|b| {
                (
                    b.tenant,
                    b.kind,
                    Binding {
                        active: b.active,
                        previous: b.previous,
                    },
                )
            })
            .collect())
    }
}
