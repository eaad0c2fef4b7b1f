//! The admin HTTP API on loopback, guarded by a bearer token: plugin deploy, activate,
//! rollback and list per tenant, plus health and Prometheus metrics. `plenum plugin …` is its
//! client ([`crate::client`]).
//!
//! | method | path | does |
//! |---|---|---|
//! | GET | `/health` | `ok` (no token) |
//! | GET | `/metrics` | Prometheus text (no token) |
//! | GET | `/v1/tenants` | tenants |
//! | GET | `/v1/tenants/{tenant}/plugins` | versions with state and counters |
//! | POST | `/v1/tenants/{tenant}/plugins?kind=K&activate=true` | upload (body: the component) |
//! | POST | `/v1/tenants/{tenant}/plugins/{kind}/activate` | `{"digest": "…"}` |
//! | POST | `/v1/tenants/{tenant}/plugins/{kind}/rollback` | back to the previous version |
//! | GET | `/v1/tenants/{tenant}/normalize?number=N&profile=P` | what the tenant's normalizer makes of a number |
//! | GET | `/v1/tenants/{tenant}/audit?limit=N` | the audit log, newest first |
//! | GET | `/v1/tenants/{tenant}/policy` | the meeting-policy document (TOML) |
//! | PUT | `/v1/tenants/{tenant}/policy` | replace it (body: TOML), checked by the tenant's policy plugin first |
//! | GET | `/v1/meetings?tenant=T` | the meetings on now, with who is in them and how |
//! | GET | `/live?token=…` | the same as a page that refreshes itself (for a browser) |
//! | GET | `/v1/tenants/{tenant}/users` | users with their PIN sign-in state (never a secret) |
//! | PUT | `/v1/tenants/{tenant}/users/{user}/pin` | `{"pin": "…"}`: set a PIN the policy accepts |
//! | POST | `/v1/tenants/{tenant}/users/{user}/unlock` | clear the PIN lockout and failure counters |

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use plenum_runtime::registry::{RegistryError, VersionStatus};
use plenum_storage::AuditEvent;
use plenum_types::{Digest, PluginKind, TenantId};
use serde::{Deserialize, Serialize};

use crate::server::Services;

/// Build the router.
pub fn router(services: Arc<Services>, token: String) -> Router {
    let token = Arc::new(token);
    let max_body = services.registry().runtime().limits().max_component_bytes + (64 << 10);
    let api = Router::new()
        .route("/v1/tenants", get(tenants))
        .route("/v1/tenants/{tenant}/plugins", get(list).post(upload))
        .route(
            "/v1/tenants/{tenant}/plugins/{kind}/activate",
            post(activate),
        )
        .route(
            "/v1/tenants/{tenant}/plugins/{kind}/rollback",
            post(rollback),
        )
        .route("/v1/tenants/{tenant}/normalize", get(normalize))
        .route("/v1/tenants/{tenant}/audit", get(audit))
        .route("/v1/tenants/{tenant}/policy", get(policy).put(put_policy))
        .route("/v1/meetings", get(meetings))
        .route("/v1/tenants/{tenant}/users", get(users))
        .route(
            "/v1/tenants/{tenant}/users/{user}/pin",
            axum::routing::put(set_pin),
        )
        .route("/v1/tenants/{tenant}/users/{user}/unlock", post(unlock))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&token),
            require_token,
        ));
    let live_page = {
        let token = Arc::clone(&token);
        move |state: State<Arc<Services>>, query: Query<LivePageQuery>| {
            live_page(state, query, token)
        }
    };
    Router::new()
        .route("/live", get(live_page))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .merge(api)
        .with_state(services)
}

async fn require_token(
    State(token): State<Arc<String>>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        next.run(req).await
    } else {
        ApiError::new(StatusCode::UNAUTHORIZED, "missing or wrong admin token").into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An error answer: a status and `{"error": "…"}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        let status = match &e {
            RegistryError::Load(_) | RegistryError::Canary(_) => StatusCode::UNPROCESSABLE_ENTITY,
            RegistryError::NotUploaded { .. } => StatusCode::NOT_FOUND,
            RegistryError::NoPrevious { .. } => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn parse_kind(s: &str) -> Result<PluginKind, ApiError> {
    s.parse().map_err(|e: plenum_plugin_api::UnknownKind| {
        ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
    })
}

/// The tenant, if it exists.
fn tenant(services: &Services, id: &str) -> Result<TenantId, ApiError> {
    let id =
        TenantId::new(id).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    match services.tenant_exists(&id) {
        Ok(true) => Ok(id),
        Ok(false) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no tenant `{id}`"),
        )),
        Err(e) => Err(internal(e)),
    }
}

/// The pool's record of a tenant already checked by [`tenant`].
fn tenant_record(
    services: &Services,
    id: &TenantId,
) -> Result<plenum_storage::TenantRecord, ApiError> {
    services
        .pool()
        .tenant(id)
        .map_err(internal)?
        .ok_or_else(|| internal("tenant vanished"))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

/// A tenant, as listed.
#[derive(Debug, Serialize, Deserialize)]
pub struct TenantView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// SIP domain.
    pub domain: String,
}

async fn tenants(State(s): State<Arc<Services>>) -> Result<Json<Vec<TenantView>>, ApiError> {
    blocking(move || s.tenants().map_err(internal))
        .await
        .map(Json)
}

/// A plugin version, as listed.
#[derive(Debug, Serialize, Deserialize)]
pub struct VersionView {
    /// Kind.
    pub kind: String,
    /// Digest (hex).
    pub digest: String,
    /// Name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// Description.
    pub description: String,
    /// `active`, `previous` or `staged`.
    pub state: String,
    /// Size in bytes.
    pub size: usize,
    /// Upload time (Unix seconds).
    pub uploaded_at: i64,
    /// Calls since start.
    pub calls: u64,
    /// Faults since start.
    pub faults: u64,
}

impl From<VersionStatus> for VersionView {
    fn from(v: VersionStatus) -> VersionView {
        VersionView {
            kind: v.version.kind.to_string(),
            digest: v.version.digest.to_hex(),
            name: v.version.info.name,
            version: v.version.info.version,
            description: v.version.info.description,
            state: v.state.to_string(),
            size: v.version.size,
            uploaded_at: v.version.uploaded_at,
            calls: v.calls,
            faults: v.faults,
        }
    }
}

async fn list(
    State(s): State<Arc<Services>>,
    Path(t): Path<String>,
) -> Result<Json<Vec<VersionView>>, ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let versions = s.registry().list(&tenant)?;
        Ok(Json(versions.into_iter().map(VersionView::from).collect()))
    })
    .await
}

/// Query of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The kind the component must implement (optional: the component says).
    pub kind: Option<String>,
    /// Activate at once.
    #[serde(default)]
    pub activate: bool,
}

/// What an upload did.
#[derive(Debug, Serialize, Deserialize)]
pub struct UploadView {
    /// Digest.
    pub digest: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Canaries passed.
    pub canaries: usize,
    /// Whether it is now active.
    pub active: bool,
    /// Milliseconds to compile and check.
    pub load_ms: f64,
    /// Milliseconds to run the canaries.
    pub canary_ms: f64,
}

async fn upload(
    State(s): State<Arc<Services>>,
    Path(t): Path<String>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<UploadView>), ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let kind = q.kind.as_deref().map(parse_kind).transpose()?;
        let now = plenum_types::unix_now();
        let reg = s.registry();
        let report = if q.activate {
            reg.deploy(&tenant, kind, &body, now)?
        } else {
            reg.upload(&tenant, kind, &body, now)?
        };
        s.audit_plugin(
            &tenant,
            if q.activate {
                "plugin-activated"
            } else {
                "plugin-uploaded"
            },
            report.kind,
            &report.digest,
        );
        Ok((
            StatusCode::CREATED,
            Json(UploadView {
                digest: report.digest.to_hex(),
                kind: report.kind.to_string(),
                name: report.info.name,
                version: report.info.version,
                canaries: report.canaries,
                active: q.activate,
                load_ms: report.load_micros as f64 / 1000.0,
                canary_ms: report.canary_micros as f64 / 1000.0,
            }),
        ))
    })
    .await
}

/// Body of an activation.
#[derive(Debug, Serialize, Deserialize)]
pub struct ActivateBody {
    /// The digest to activate (hex).
    pub digest: String,
}

/// A binding after a change.
#[derive(Debug, Serialize, Deserialize)]
pub struct BindingView {
    /// Kind.
    pub kind: String,
    /// Active digest.
    pub active: String,
    /// Previous digest.
    pub previous: Option<String>,
}

fn binding_view(
    s: &Services,
    tenant: &TenantId,
    kind: PluginKind,
) -> Result<BindingView, ApiError> {
    let b = s
        .registry()
        .binding(tenant, kind)
        .ok_or_else(|| internal("binding vanished"))?;
    Ok(BindingView {
        kind: kind.to_string(),
        active: b.active.to_hex(),
        previous: b.previous.map(|d| d.to_hex()),
    })
}

async fn activate(
    State(s): State<Arc<Services>>,
    Path((t, k)): Path<(String, String)>,
    Json(body): Json<ActivateBody>,
) -> Result<Json<BindingView>, ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let kind = parse_kind(&k)?;
        let digest = Digest::from_hex(&body.digest)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        s.registry().activate(&tenant, kind, &digest)?;
        s.audit_plugin(&tenant, "plugin-activated", kind, &digest);
        binding_view(&s, &tenant, kind).map(Json)
    })
    .await
}

async fn rollback(
    State(s): State<Arc<Services>>,
    Path((t, k)): Path<(String, String)>,
) -> Result<Json<BindingView>, ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let kind = parse_kind(&k)?;
        let digest = s.registry().rollback(&tenant, kind)?;
        s.audit_plugin(&tenant, "plugin-rolled-back", kind, &digest);
        binding_view(&s, &tenant, kind).map(Json)
    })
    .await
}

async fn metrics(State(s): State<Arc<Services>>) -> impl IntoResponse {
    let snap = s.registry().runtime().counters().snapshot();
    let mut out = String::new();
    out.push_str("# HELP plenum_plugin_calls_total Plugin calls by tenant, kind and version.\n");
    out.push_str("# TYPE plenum_plugin_calls_total counter\n");
    for (k, v) in &snap.calls {
        out.push_str(&format!("plenum_plugin_calls_total{{{}}} {v}\n", labels(k)));
    }
    out.push_str(
        "# HELP plenum_plugin_faults_total Plugin faults by tenant, kind, version and class.\n",
    );
    out.push_str("# TYPE plenum_plugin_faults_total counter\n");
    for (k, f, v) in &snap.faults {
        out.push_str(&format!(
            "plenum_plugin_faults_total{{{},fault=\"{f}\"}} {v}\n",
            labels(k)
        ));
    }
    out.push_str("# HELP plenum_plugin_counter Counters plugins keep through the host import.\n");
    out.push_str("# TYPE plenum_plugin_counter counter\n");
    for (k, name, v) in &snap.plugin {
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        out.push_str(&format!(
            "plenum_plugin_counter{{{},name=\"{name}\"}} {v}\n",
            labels(k)
        ));
    }
    if let Some(m) = s.media_stats.get() {
        use std::sync::atomic::Ordering::Relaxed;
        for (name, help, kind, v) in [
            (
                "plenum_media_ticks_total",
                "Media ticks run.",
                "counter",
                m.ticks.load(Relaxed),
            ),
            (
                "plenum_media_late_ticks_total",
                "Media ticks that started over 5 ms late.",
                "counter",
                m.late_ticks.load(Relaxed),
            ),
            (
                "plenum_media_busy_microseconds_total",
                "Time the media thread spent working.",
                "counter",
                m.busy_us.load(Relaxed),
            ),
            (
                "plenum_media_legs",
                "Media legs open.",
                "gauge",
                m.legs.load(Relaxed),
            ),
            (
                "plenum_media_unknown_source_total",
                "Datagrams on the shared media port from no leg's address, dropped.",
                "counter",
                m.unknown_source.load(Relaxed),
            ),
            (
                "plenum_media_over_limit_total",
                "Datagrams on the shared media port beyond their leg's share of a tick, dropped.",
                "counter",
                m.over_limit.load(Relaxed),
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
            ));
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

fn labels(k: &plenum_runtime::CounterKey) -> String {
    format!(
        "tenant=\"{}\",kind=\"{}\",version=\"{}\"",
        k.tenant,
        k.kind,
        k.digest.short()
    )
}

/// Query of a normalization test.
#[derive(Debug, Deserialize)]
pub struct NormalizeQuery {
    /// The number as dialled.
    pub number: String,
    /// The location profile (default: the tenant's default profile).
    pub profile: Option<String>,
}

/// What the tenant's normalizer made of a number.
#[derive(Debug, Serialize, Deserialize)]
pub struct NormalizeView {
    /// The number as given.
    pub number: String,
    /// The profile used.
    pub profile: String,
    /// The E.164 result, or none.
    pub e164: Option<String>,
    /// `plugin <digest>` or `fallback: <why>`.
    pub source: String,
}

async fn normalize(
    State(s): State<Arc<Services>>,
    Path(t): Path<String>,
    Query(q): Query<NormalizeQuery>,
) -> Result<Json<NormalizeView>, ApiError> {
    use plenum_plugin_api::normalizer::{NormalizeOutcome, NormalizeRequest, NumberKind};
    use plenum_runtime::fallback::Source;
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let record = tenant_record(&s, &tenant)?;
        let name = q.profile.or(record.default_profile).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "the tenant has no default location profile; pass profile=",
            )
        })?;
        let profile = s
            .pool()
            .profile(&tenant, &name)
            .map_err(internal)?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no location profile `{name}`"),
                )
            })?;
        let request = NormalizeRequest {
            tenant: plenum_plugin_api::types::Tenant::new(tenant.as_str(), &record.sip_domain),
            profile: crate::server::location_profile(&profile),
            number: q.number.clone(),
            kind: NumberKind::Dialed,
        };
        let d = s.plugins().normalize(&tenant, &request);
        let e164 = match d.value {
            NormalizeOutcome::E164(n) => Some(n),
            NormalizeOutcome::NoMatch => None,
        };
        let source = match d.source {
            Source::Plugin(digest) => format!("plugin {}", digest.short()),
            Source::Fallback(why) => format!("fallback: {why}"),
        };
        Ok(Json(NormalizeView {
            number: q.number,
            profile: name,
            e164,
            source,
        }))
    })
    .await
}

/// `limit` of the audit query.
#[derive(Debug, Deserialize)]
struct AuditQuery {
    #[serde(default = "default_audit_limit")]
    limit: u32,
}

fn default_audit_limit() -> u32 {
    100
}

/// One audit entry, newest first.
#[derive(Debug, Serialize, Deserialize)]
pub struct AuditView {
    /// Unix seconds.
    pub at: i64,
    /// `join`, `failed-passcode`, ...
    pub event: String,
    /// The conference row, if any.
    pub conference: Option<i64>,
    /// Who.
    pub subject: String,
    /// More.
    pub detail: String,
}

async fn audit(
    State(s): State<Arc<Services>>,
    Path(t): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let events = s
            .pool()
            .audit_events(&tenant, q.limit.min(10_000))
            .map_err(internal)?;
        Ok(Json(
            events
                .into_iter()
                .map(|e| AuditView {
                    at: e.at,
                    event: e.event.as_str().to_owned(),
                    conference: e.conference,
                    subject: e.subject,
                    detail: e.detail,
                })
                .collect(),
        ))
    })
    .await
}

/// A tenant's meeting-policy document.
#[derive(Debug, Serialize, Deserialize)]
pub struct PolicyView {
    /// Tenant id.
    pub tenant: String,
    /// The TOML text the meeting-policy plugin reads.
    pub document: String,
}

async fn policy(
    State(s): State<Arc<Services>>,
    Path(t): Path<String>,
) -> Result<Json<PolicyView>, ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let record = tenant_record(&s, &tenant)?;
        Ok(Json(PolicyView {
            tenant: t,
            document: record.policy_document,
        }))
    })
    .await
}

/// Replace the policy document. It must be TOML the tenant's active meeting-policy plugin
/// accepts (its `settings` answer, not a fallback); then it is stored and audited, and every
/// decision from now on reads it. Calls in progress keep the settings they started with.
async fn put_policy(
    State(s): State<Arc<Services>>,
    Path(t): Path<String>,
    body: Bytes,
) -> Result<Json<PolicyView>, ApiError> {
    use plenum_plugin_api::policy::PolicyContext;
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let unprocessable = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| unprocessable("the policy document is not UTF-8".into()))?;
        let document = plenum_sdk::toml_document::flatten(&text)
            .map_err(|e| unprocessable(format!("not a policy document: {e}")))?;
        let mut record = tenant_record(&s, &tenant)?;
        let plugin = s
            .registry()
            .current(&tenant, PluginKind::MeetingPolicy)
            .ok_or_else(|| unprocessable("the tenant has no meeting-policy plugin".into()))?;
        let context = PolicyContext {
            tenant: plenum_plugin_api::types::Tenant::new(tenant.as_str(), &record.sip_domain),
            document,
        };
        match plugin.settings(tenant.as_str(), &context) {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(unprocessable(format!(
                    "the meeting policy refuses the document: {e}"
                )));
            }
            Err(fault) => {
                return Err(unprocessable(format!(
                    "the meeting policy failed on the document: {fault}"
                )));
            }
        }
        record.policy_document = text;
        s.pool().update_tenant(&record).map_err(internal)?;
        s.audit_admin(&tenant, AuditEvent::PolicyChanged, "policy document");
        Ok(Json(PolicyView {
            tenant: t,
            document: record.policy_document,
        }))
    })
    .await
}

/// A user as the admin sees it: who, and the state of their PIN sign-in.
#[derive(Debug, Serialize, Deserialize)]
pub struct UserView {
    /// `sip:user@domain`.
    pub sip_uri: String,
    /// Display name.
    pub display_name: String,
    /// Extension.
    pub extension: Option<String>,
    /// Phone line (E.164).
    pub line: Option<String>,
    /// May organize meetings.
    pub organizer: bool,
    /// Has a PIN.
    pub pin_set: bool,
    /// PIN sign-in refused now (temporarily or until an admin unlocks).
    pub locked: bool,
    /// Locked until an admin unlocks.
    pub locked_for_good: bool,
    /// A temporary lock's end (Unix seconds).
    pub locked_until: Option<i64>,
    /// Failures in the current window.
    pub failures_in_window: u32,
    /// Failures since the last unlock.
    pub failures_total: u32,
}

/// The body of a PIN change (its `Debug` never shows the PIN).
#[derive(Serialize, Deserialize)]
pub struct PinBody {
    /// The new PIN (digits).
    pub pin: String,
}

impl std::fmt::Debug for PinBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinBody { pin: <redacted> }")
    }
}

/// The user `user` (`alice` or `sip:alice@domain`) of the tenant.
fn user_of(
    s: &Services,
    tenant: &TenantId,
    user: &str,
) -> Result<plenum_storage::UserRecord, ApiError> {
    let record = tenant_record(s, tenant)?;
    let uri = if user.starts_with("sip:") {
        user.to_owned()
    } else {
        format!("sip:{user}@{}", record.sip_domain)
    };
    s.pool()
        .user_by_uri(&uri)
        .map_err(internal)?
        .filter(|u| &u.tenant == tenant)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no user `{uri}` in {tenant}"),
            )
        })
}

fn user_view(s: &Services, u: plenum_storage::UserRecord) -> Result<UserView, ApiError> {
    let attempts = s.pool().pin_attempts(&u.sip_uri).map_err(internal)?;
    let pin_set = s.pool().pin_set_at(&u.sip_uri).map_err(internal)?.is_some();
    let now = plenum_types::unix_now();
    let until = attempts.locked_until.filter(|t| *t > now);
    Ok(UserView {
        pin_set,
        locked: attempts.locked || until.is_some(),
        locked_for_good: attempts.locked,
        locked_until: until,
        failures_in_window: attempts.local_failures,
        failures_total: attempts.global_failures,
        sip_uri: u.sip_uri,
        display_name: u.display_name,
        extension: u.extension,
        line: u.line.map(|l| l.as_str().to_owned()),
        organizer: u.is_organizer,
    })
}

async fn users(
    State(s): State<Arc<Services>>,
    Path(t): Path<String>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let users = s.pool().users(&tenant).map_err(internal)?;
        Ok(Json(
            users
                .into_iter()
                .map(|u| user_view(&s, u))
                .collect::<Result<_, _>>()?,
        ))
    })
    .await
}

/// Set a user's PIN: the tenant's meeting policy must accept it (length, no trivial
/// patterns, not the extension or line); stored as a hash; audited without the PIN.
async fn set_pin(
    State(s): State<Arc<Services>>,
    Path((t, user)): Path<(String, String)>,
    Json(body): Json<PinBody>,
) -> Result<Json<UserView>, ApiError> {
    use plenum_plugin_api::policy::PinCheck;
    use plenum_plugin_api::types::Verdict;
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let u = user_of(&s, &tenant, &user)?;
        let pin = plenum_types::Secret::new(body.pin);
        let check = PinCheck {
            pin: pin.expose().to_owned(),
            extension: u.extension.clone(),
            line: u.line.as_ref().map(|l| l.as_str().to_owned()),
        };
        let context = crate::conference::policy_context(&s, &tenant);
        let decision = s.plugins().check_pin(&tenant, &context, &check);
        if let Verdict::Reject(why) = decision.value {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the meeting policy refuses the PIN: {why}"),
            ));
        }
        s.slow
            .run(|| s.pool().set_pin(&u.sip_uri, &pin, plenum_types::unix_now()))
            .map_err(internal)?;
        s.audit_admin(&tenant, AuditEvent::PinSet, &u.sip_uri);
        Ok(Json(user_view(&s, u)?))
    })
    .await
}

/// Clear a user's PIN lockout (temporary or for good) and failure counters; audited.
async fn unlock(
    State(s): State<Arc<Services>>,
    Path((t, user)): Path<(String, String)>,
) -> Result<Json<UserView>, ApiError> {
    blocking(move || {
        let tenant = tenant(&s, &t)?;
        let u = user_of(&s, &tenant, &user)?;
        s.pool()
            .set_pin_attempts(&u.sip_uri, &Default::default())
            .map_err(internal)?;
        s.audit_admin(&tenant, AuditEvent::PinUnlocked, &u.sip_uri);
        Ok(Json(user_view(&s, u)?))
    })
    .await
}

/// A meeting on now.
#[derive(Debug, Serialize, Deserialize)]
pub struct LiveMeetingView {
    /// Tenant id.
    pub tenant: String,
    /// Subject.
    pub subject: String,
    /// Organizer URI.
    pub organizer: String,
    /// `msci:conference-id`.
    pub conference_id: String,
    /// The dial-in conference ID.
    pub pstn_id: Option<String>,
    /// Locked by a leader.
    pub locked: bool,
    /// Entry and exit announcements on (a leader's `*9` toggles them).
    pub announcements: bool,
    /// Expiry, RFC 3339.
    pub expires: String,
    /// Who is in it or waits, in the order they came.
    pub participants: Vec<ParticipantView>,
}

/// A participant of a meeting on now.
#[derive(Debug, Serialize, Deserialize)]
pub struct ParticipantView {
    /// Roster entity: a user's SIP URI, `tel:` of a caller's number, or an anonymous name.
    pub entity: String,
    /// Display name.
    pub display: String,
    /// `connected`, `muted`, `on-hold` (waiting for a leader), `lobby`, `asking` (the policy
    /// is deciding).
    pub status: String,
    /// `leader` or `attendee` once admitted.
    pub role: Option<String>,
    /// `phone` (dialled in) or `sip` (a SIP client on the conference URI).
    pub joined_by: String,
}

fn live_views(live: Vec<plenum_conference::focus::LiveMeeting>) -> Vec<LiveMeetingView> {
    use plenum_conference::focus::Presence;
    use plenum_plugin_api::policy::{JoiningMethod, Role};
    live.into_iter()
        .map(|m| LiveMeetingView {
            tenant: m.meeting.tenant.as_str().to_owned(),
            subject: m.meeting.subject,
            organizer: m.meeting.organizer,
            conference_id: m.meeting.conference_id,
            pstn_id: m.meeting.pstn_id,
            locked: m.locked,
            announcements: m.announcements,
            expires: plenum_c3p::format_date_time(m.meeting.expires_at),
            participants: m
                .members
                .into_iter()
                .map(|p| ParticipantView {
                    status: match p.presence {
                        Presence::Connected if p.muted => "muted",
                        Presence::Connected => "connected",
                        Presence::WaitingForLeader => "on-hold",
                        Presence::Lobby => "lobby",
                        Presence::Asking => "asking",
                    }
                    .to_owned(),
                    role: p.role.map(|r| {
                        match r {
                            Role::Leader => "leader",
                            Role::Attendee => "attendee",
                        }
                        .to_owned()
                    }),
                    joined_by: match p.method {
                        JoiningMethod::DialedIn => "phone",
                        JoiningMethod::SipClient => "sip",
                    }
                    .to_owned(),
                    entity: p.entity,
                    display: p.display,
                })
                .collect(),
        })
        .collect()
}

/// `tenant` of the live query.
#[derive(Debug, Deserialize)]
struct MeetingsQuery {
    tenant: Option<String>,
}

/// The meetings on now (of `tenant`), or 503 when the SIP core does not answer in time.
async fn live_meetings(
    s: &Services,
    tenant: Option<&str>,
) -> Result<Vec<LiveMeetingView>, ApiError> {
    let live = match s.live.get() {
        Some(h) => h.meetings().await.ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the SIP core did not answer within a second (overloaded?); try again",
            )
        })?,
        None => Vec::new(),
    };
    let mut views = live_views(live);
    if let Some(t) = tenant {
        views.retain(|m| m.tenant == t);
    }
    Ok(views)
}

async fn meetings(
    State(s): State<Arc<Services>>,
    Query(q): Query<MeetingsQuery>,
) -> Result<Json<Vec<LiveMeetingView>>, ApiError> {
    if let Some(t) = q.tenant.clone() {
        let s = Arc::clone(&s);
        blocking(move || tenant(&s, &t).map(drop)).await?;
    }
    Ok(Json(live_meetings(&s, q.tenant.as_deref()).await?))
}

/// The token of the live page (a browser cannot send the bearer header).
#[derive(Debug, Deserialize)]
struct LivePageQuery {
    #[serde(default)]
    token: String,
    tenant: Option<String>,
}

/// The meetings on now as an HTML page that reloads itself every two seconds.
async fn live_page(
    State(s): State<Arc<Services>>,
    Query(q): Query<LivePageQuery>,
    token: Arc<String>,
) -> Response {
    if !constant_time_eq(q.token.as_bytes(), token.as_bytes()) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong admin token (?token=)",
        )
        .into_response();
    }
    let views = match live_meetings(&s, q.tenant.as_deref()).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"2\"><title>Plenum: meetings on now</title>\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;\
         margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
         .muted{color:#888}.on-hold,.lobby,.asking{color:#a60}</style></head><body>\
         <h1>Meetings on now</h1>",
    );
    if views.is_empty() {
        html.push_str("<p>No meeting is on.</p>");
    }
    for m in &views {
        html.push_str(&format!(
            "<h2>{} <small>({}, ID {}, {}{}{})</small></h2><table><tr><th>who</th><th>status</th>\
             <th>role</th><th>joined by</th></tr>",
            escape(&m.subject),
            escape(&m.tenant),
            escape(m.pstn_id.as_deref().unwrap_or("-")),
            escape(&m.organizer),
            if m.locked { ", locked" } else { "" },
            if m.announcements {
                ""
            } else {
                ", announcements off"
            },
        ));
        for p in &m.participants {
            html.push_str(&format!(
                "<tr class=\"{status}\"><td>{} <small>{}</small></td><td>{status}</td><td>{}</td>\
                 <td>{}</td></tr>",
                escape(&p.display),
                escape(&p.entity),
                p.role.as_deref().unwrap_or("-"),
                p.joined_by,
                status = p.status,
            ));
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// HTML text escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
