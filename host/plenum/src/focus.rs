//! The Focus Factory's [`Backend`] over the pool database and the tenant's plugins: what
//! `plenum_conference::focus_factory` needs, done with blocking calls (the SIP shell runs it on
//! the blocking pool).

use plenum_conference::focus_factory::{Backend, Meeting, OrganizerFacts, StoreError, TenantFacts};
use plenum_plugin_api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, Refusal, ScheduleContext,
};
use plenum_plugin_api::policy::{MeetingSettings, PasscodeCheck, PolicyContext};
use plenum_plugin_api::types::{AccessNumber, Tenant, Verdict};
use plenum_storage::{
    AuditEvent, AuditRecord, ConferenceRecord, NewConference, StorageError, TenantRecord,
};
use plenum_types::{PstnId, Secret, TenantId};

use crate::server::Services;

/// The pool and the plugins, for one SERVICE.
pub struct PoolBackend<'a> {
    services: &'a Services,
}

impl<'a> PoolBackend<'a> {
    /// Over these services.
    pub fn new(services: &'a Services) -> PoolBackend<'a> {
        PoolBackend { services }
    }

    fn tenant_record(&self, id: &TenantId) -> Option<TenantRecord> {
        log_err(self.services.pool().tenant(id)).flatten()
    }

    /// What every policy call gets: the tenant and its flattened policy document. A document
    /// that does not read (it was checked when stored) gives the policy an empty one, and the
    /// policy's own defaults apply.
    fn policy_context(&self, tenant: &TenantId) -> PolicyContext {
        let record = self.tenant_record(tenant);
        let (domain, text) = record
            .map(|t| (t.sip_domain, t.policy_document))
            .unwrap_or_default();
        let document = plenum_sdk::toml_document::flatten(&text).unwrap_or_else(|e| {
            tracing::warn!(%tenant, error = %e, "tenant policy document does not read");
            Default::default()
        });
        PolicyContext {
            tenant: Tenant::new(tenant.as_str(), &domain),
            document,
        }
    }
}

fn log_err<T>(r: Result<T, StorageError>) -> Option<T> {
    r.map_err(|e| tracing::error!(error = %e, "pool error in the Focus Factory"))
        .ok()
}

fn meeting(r: ConferenceRecord) -> Meeting {
    Meeting {
        id: r.id,
        tenant: r.tenant,
        organizer: r.organizer,
        conference_id: r.conference_id,
        subject: r.subject,
        pstn_id: r.pstn_id.map(|p| p.as_str().to_owned()),
        has_passcode: r.has_passcode,
        admission: r.admission_policy,
        lobby_bypass: r.lobby_bypass,
        expires_at: r.expires_at,
        revision: r.revision,
        updated_at: r.updated_at,
    }
}

fn pstn(m: &Meeting) -> Result<Option<PstnId>, StoreError> {
    m.pstn_id
        .as_deref()
        .map(PstnId::new)
        .transpose()
        .map_err(|e| StoreError::Other(e.to_string()))
}

fn store_error(e: StorageError) -> StoreError {
    match e {
        StorageError::Conflict { what } => StoreError::Conflict(what),
        StorageError::StaleRevision { .. } => StoreError::Stale,
        other => {
            tracing::error!(error = %other, "pool error in the Focus Factory");
            StoreError::Other(other.to_string())
        }
    }
}

impl Backend for PoolBackend<'_> {
    fn organizer(&self, uri: &str) -> Option<OrganizerFacts> {
        let user = log_err(self.services.pool().user_by_uri(uri)).flatten()?;
        let tenant = self.tenant_record(&user.tenant)?;
        let profile = user.location_profile.clone().or(tenant.default_profile);
        let region = profile
            .and_then(|p| log_err(self.services.pool().profile(&user.tenant, &p)).flatten())
            .map(|p| p.region);
        Some(OrganizerFacts {
            uri: user.sip_uri,
            tenant: user.tenant,
            display_name: user.display_name,
            is_organizer: user.is_organizer,
            region,
        })
    }

    fn tenant(&self, id: &TenantId) -> Option<TenantFacts> {
        self.tenant_record(id).map(|t| TenantFacts {
            id: t.id,
            domain: t.sip_domain,
            pstn_enabled: t.pstn_enabled,
        })
    }

    fn access_numbers(&self, tenant: &TenantId) -> Vec<AccessNumber> {
        log_err(self.services.pool().access_numbers(tenant))
            .unwrap_or_default()
            .into_iter()
            .map(|n| AccessNumber {
                number: n.number.as_str().to_owned(),
                display: n.display,
                region: n.region,
                languages: n.languages,
                priority: n.priority,
            })
            .collect()
    }

    fn settings(&self, tenant: &TenantId) -> MeetingSettings {
        let ctx = self.policy_context(tenant);
        self.services.plugins().settings(tenant, &ctx).value
    }

    fn check_passcode(&self, tenant: &TenantId, passcode: &str, pstn: bool) -> Verdict {
        let ctx = self.policy_context(tenant);
        let check = PasscodeCheck {
            passcode: passcode.to_owned(),
            pstn,
        };
        self.services
            .plugins()
            .check_passcode(tenant, &ctx, &check)
            .value
    }

    fn get_capabilities(
        &self,
        tenant: &TenantId,
        ctx: &ScheduleContext,
    ) -> Result<Capabilities, Refusal> {
        self.services.plugins().get_capabilities(tenant, ctx).value
    }

    fn complete_add(
        &self,
        tenant: &TenantId,
        ctx: &ScheduleContext,
        req: &ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal> {
        self.services.plugins().complete_add(tenant, ctx, req).value
    }

    fn complete_modify(
        &self,
        tenant: &TenantId,
        ctx: &ScheduleContext,
        current: &ConferencePlan,
        req: &ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal> {
        self.services
            .plugins()
            .complete_modify(tenant, ctx, current, req)
            .value
    }

    fn meetings_of(&self, organizer: &str, now: i64) -> Vec<Meeting> {
        log_err(self.services.pool().conferences_of(organizer, now))
            .unwrap_or_default()
            .into_iter()
            .map(meeting)
            .collect()
    }

    fn meeting(&self, organizer: &str, conference_id: &str) -> Option<Meeting> {
        log_err(self.services.pool().conference(organizer, conference_id))
            .flatten()
            .map(meeting)
    }

    fn next_pstn_sequence(&self) -> Option<u64> {
        log_err(self.services.pool().next_pstn_sequence())
    }

    fn insert(&self, m: &Meeting, passcode: Option<&Secret>) -> Result<i64, StoreError> {
        let new = NewConference {
            tenant: m.tenant.clone(),
            organizer: m.organizer.clone(),
            conference_id: m.conference_id.clone(),
            subject: m.subject.clone(),
            pstn_id: pstn(m)?,
            passcode: passcode.cloned(),
            admission_policy: m.admission,
            lobby_bypass: m.lobby_bypass,
            expires_at: m.expires_at,
            created_at: m.updated_at,
        };
        self.services
            .pool()
            .insert_conference(&new)
            .map_err(store_error)
    }

    fn update(&self, m: &Meeting, passcode: Option<&Secret>) -> Result<u64, StoreError> {
        let pool = self.services.pool();
        let current = pool
            .conference_by_id(m.id)
            .map_err(store_error)?
            .ok_or_else(|| StoreError::Other("conference vanished".into()))?;
        let record = ConferenceRecord {
            subject: m.subject.clone(),
            pstn_id: pstn(m)?,
            admission_policy: m.admission,
            lobby_bypass: m.lobby_bypass,
            expires_at: m.expires_at,
            updated_at: m.updated_at,
            ..current
        };
        let revision = pool
            .update_conference(&record, m.revision)
            .map_err(store_error)?;
        if let Some(p) = passcode {
            pool.set_passcode(m.id, Some(p)).map_err(store_error)?;
        }
        Ok(revision)
    }

    fn delete(&self, m: &Meeting) -> Result<(), StoreError> {
        self.services
            .pool()
            .delete_conference(m.id)
            .map_err(store_error)
    }

    fn entropy(&self) -> [u8; 32] {
        rand::random()
    }

    fn now(&self) -> i64 {
        plenum_types::unix_now()
    }

    fn audit(
        &self,
        tenant: &TenantId,
        event: &'static str,
        meeting: Option<i64>,
        subject: &str,
        detail: &str,
    ) {
        let Some(event) = AuditEvent::from_name(event) else {
            tracing::error!(event, "unknown audit event");
            return;
        };
        let record = AuditRecord {
            id: 0,
            at: plenum_types::unix_now(),
            tenant: Some(tenant.clone()),
            event,
            conference: meeting,
            subject: subject.to_owned(),
            detail: detail.to_owned(),
        };
        if let Err(e) = self.services.pool().audit(&record) {
            tracing::error!(error = %e, "cannot write audit record");
        }
    }
}
