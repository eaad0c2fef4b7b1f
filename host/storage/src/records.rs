//! The typed rows of the pool database, one struct per table (secret hashes excluded).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use plenum_plugin_api::types::AdmissionPolicy;
use plenum_types::{Digest, E164, PluginKind, PstnId, Secret, TenantId, UnixTime};

/// A tenant: one customer of the pool, owner of a SIP domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// The tenant id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// The tenant's SIP domain, also its digest realm (unique in the pool, case-insensitive).
    pub sip_domain: String,
    /// Whether dial-in (PSTN bridging) is offered.
    pub pstn_enabled: bool,
    /// The tenant's meeting policy document (TOML), opaque to storage.
    pub policy_document: String,
    /// The location profile used when nothing more specific applies.
    pub default_profile: Option<String>,
    /// When the tenant was created.
    pub created_at: UnixTime,
}

/// One normalization rule of a location profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    /// Rule name (unique in its profile).
    pub name: String,
    /// The regular expression matched against dialled digits.
    pub pattern: String,
    /// The translation, with `$1`… for captures.
    pub translation: String,
}

/// A location profile: a region and the ordered rules that turn dialled digits into E.164.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRecord {
    /// Profile name (unique per tenant).
    pub name: String,
    /// The region whose access numbers go into invitations.
    pub region: String,
    /// The prefix to dial an outside line, if any.
    pub external_access_prefix: Option<String>,
    /// The rules, first match wins.
    pub rules: Vec<RuleRecord>,
}

/// A dial-in access number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessNumberRecord {
    /// The number (unique in the pool).
    pub number: E164,
    /// The tenant it belongs to.
    pub tenant: TenantId,
    /// How invitations show it.
    pub display: String,
    /// Its region.
    pub region: String,
    /// The languages its attendant offers, first is the default (e.g. `en-US`).
    pub languages: Vec<String>,
    /// Order within the region, lowest first.
    pub priority: u32,
}

/// A user of a tenant. PIN, attempt counters and SIP password live beside it, not in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The SIP URI, `sip:user@domain` (the key).
    pub sip_uri: String,
    /// The tenant.
    pub tenant: TenantId,
    /// Display name.
    pub display_name: String,
    /// The user's phone line (unique in the pool).
    pub line: Option<E164>,
    /// The extension, digits (unique per tenant).
    pub extension: Option<String>,
    /// The user's location profile.
    pub location_profile: Option<String>,
    /// Whether the user may organize meetings.
    pub is_organizer: bool,
}

impl UserRecord {
    /// The user part of the SIP URI (`alice` in `sip:alice@contoso.example`): the digest
    /// username. `None` when the URI is not `sip:`/`sips:` user `@` host.
    pub fn username(&self) -> Option<&str> {
        uri_user_part(&self.sip_uri)
    }
}

/// The user part of `sip:user@host` or `sips:user@host`, both parts non-empty.
pub(crate) fn uri_user_part(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (user, host) = rest.split_once('@')?;
    let ok = !user.is_empty() && !host.is_empty() && !host.contains('@');
    ok.then_some(user)
}

/// The transport a gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayTransport {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP.
    Tcp,
}

impl GatewayTransport {
    /// `udp` or `tcp`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayTransport::Udp => "udp",
            GatewayTransport::Tcp => "tcp",
        }
    }

    /// Parse [`GatewayTransport::as_str`].
    pub fn from_name(s: &str) -> Option<GatewayTransport> {
        match s {
            "udp" => Some(GatewayTransport::Udp),
            "tcp" => Some(GatewayTransport::Tcp),
            _ => None,
        }
    }
}

/// Where a gateway is: an IP address, with or without a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GatewayAddress {
    /// The address calls come from.
    pub ip: IpAddr,
    /// The port, when only one port of that address is the gateway.
    pub port: Option<u16>,
}

impl fmt::Display for GatewayAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => SocketAddr::new(self.ip, port).fmt(f),
            None => self.ip.fmt(f),
        }
    }
}

impl FromStr for GatewayAddress {
    type Err = AddressParseError;
    /// `192.0.2.1`, `192.0.2.1:5060`, `::1`, `[::1]:5060`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Ok(GatewayAddress {
                ip: sa.ip(),
                port: Some(sa.port()),
            });
        }
        let bare = s
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(s);
        bare.parse::<IpAddr>()
            .map(|ip| GatewayAddress { ip, port: None })
            .map_err(|_| AddressParseError)
    }
}

/// A text that is not a gateway address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressParseError;

impl fmt::Display for AddressParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an IP address or IP:port")
    }
}

impl std::error::Error for AddressParseError {}

/// A media gateway, IP-PBX or SIP trunk that delivers PSTN calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRecord {
    /// Gateway name (the key).
    pub name: String,
    /// The tenant whose calls it carries.
    pub tenant: TenantId,
    /// Where its calls come from (unique in the pool).
    pub address: GatewayAddress,
    /// SIP transport.
    pub transport: GatewayTransport,
    /// Whether its media is SRTP (else plain RTP).
    pub srtp: bool,
    /// The location profile that normalizes its called numbers.
    pub location_profile: String,
}

/// A conference to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConference {
    /// The tenant.
    pub tenant: TenantId,
    /// The organizer's SIP URI (a user of the tenant).
    pub organizer: String,
    /// The C3P `msci:conference-id` (unique per organizer).
    pub conference_id: String,
    /// Subject.
    pub subject: String,
    /// The numeric PSTN conference ID, when dial-in is on (unique in the pool).
    pub pstn_id: Option<PstnId>,
    /// The passcode for anonymous callers, hashed before it is stored.
    pub passcode: Option<Secret>,
    /// Who may enter without waiting.
    pub admission_policy: AdmissionPolicy,
    /// Whether PSTN callers skip the lobby.
    pub lobby_bypass: bool,
    /// When the conference expires.
    pub expires_at: UnixTime,
    /// Now (becomes `created_at` and `updated_at`).
    pub created_at: UnixTime,
}

/// A stored conference (without its passcode hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceRecord {
    /// Row id.
    pub id: i64,
    /// The tenant.
    pub tenant: TenantId,
    /// The organizer's SIP URI.
    pub organizer: String,
    /// The C3P conference ID.
    pub conference_id: String,
    /// Subject.
    pub subject: String,
    /// The numeric PSTN conference ID.
    pub pstn_id: Option<PstnId>,
    /// Whether a passcode is set.
    pub has_passcode: bool,
    /// Who may enter without waiting.
    pub admission_policy: AdmissionPolicy,
    /// Whether PSTN callers skip the lobby.
    pub lobby_bypass: bool,
    /// When the conference expires.
    pub expires_at: UnixTime,
    /// Optimistic-lock revision, 1 at creation, +1 per update.
    pub revision: u64,
    /// When it was created.
    pub created_at: UnixTime,
    /// When it was last updated.
    pub updated_at: UnixTime,
}

/// The hash of a SIP digest (RFC 7616 `algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `MD5` (RFC 2617; what most phones still speak).
    Md5,
    /// `SHA-256` (RFC 7616).
    Sha256,
}

impl DigestAlgorithm {
    /// The `algorithm` parameter value: `MD5` or `SHA-256`.
    pub fn rfc_name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }
}

/// One uploaded plugin version (its component bytes are loaded separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginVersionRecord {
    /// The tenant it was uploaded for.
    pub tenant: TenantId,
    /// Its world.
    pub kind: PluginKind,
    /// The sha256 of its bytes: its identity.
    pub digest: Digest,
    /// The plugin's own name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The plugin's own description.
    pub description: String,
    /// Size of the component in bytes.
    pub size: u64,
    /// When it was uploaded.
    pub uploaded_at: UnixTime,
}

/// Which version of a tenant's plugin of a kind is active, and which was before.
///
/// A digest may name a stored [`PluginVersionRecord`] or a plugin bundled with the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRecord {
    /// The tenant.
    pub tenant: TenantId,
    /// The kind.
    pub kind: PluginKind,
    /// The active version.
    pub active: Digest,
    /// The version a rollback re-activates.
    pub previous: Option<Digest>,
    /// When the binding last changed.
    pub updated_at: UnixTime,
}

macro_rules! audit_events {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// What an audit entry records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuditEvent {
            $($(#[$doc])* $variant,)*
        }

        impl AuditEvent {
            /// Every event, in declaration order.
            pub const ALL: &'static [AuditEvent] = &[$(AuditEvent::$variant,)*];

            /// The stored name (`join`, `failed-pin`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditEvent::$variant => $name,)*
                }
            }

            /// Parse [`AuditEvent::as_str`].
            pub fn from_name(s: &str) -> Option<AuditEvent> {
                AuditEvent::ALL.iter().copied().find(|e| e.as_str() == s)
            }
        }
    };
}

audit_events! {
    /// A participant joined a meeting.
    Join = "join",
    /// A participant left a meeting.
    Leave = "leave",
    /// A caller entered a conference ID that matches no meeting.
    FailedConferenceId = "failed-conference-id",
    /// A caller entered a wrong passcode.
    FailedPasscode = "failed-passcode",
    /// A caller entered a wrong extension or PIN.
    FailedPin = "failed-pin",
    /// A user's PIN sign-in locked.
    PinLocked = "pin-locked",
    /// An admin unlocked a user's PIN sign-in.
    PinUnlocked = "pin-unlocked",
    /// A user's PIN was set.
    PinSet = "pin-set",
    /// Admission was denied by policy.
    AdmissionDenied = "admission-denied",
    /// A conference was created.
    ConferenceCreated = "conference-created",
    /// A conference was modified.
    ConferenceModified = "conference-modified",
    /// A conference was deleted.
    ConferenceDeleted = "conference-deleted",
    /// A meeting reached its expiry time while people were in it, and ended.
    MeetingExpired = "meeting-expired",
    /// A plugin version was uploaded.
    PluginUploaded = "plugin-uploaded",
    /// A plugin version was activated.
    PluginActivated = "plugin-activated",
    /// A plugin binding was rolled back to the previous version.
    PluginRolledBack = "plugin-rolled-back",
    /// A tenant's policy document changed.
    PolicyChanged = "policy-changed",
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Row id (assigned on insert, increasing; ignored by [`crate::Pool::audit`]).
    pub id: i64,
    /// When it happened.
    pub at: UnixTime,
    /// The tenant, when known (a call to an unknown number has none).
    pub tenant: Option<TenantId>,
    /// What happened.
    pub event: AuditEvent,
    /// The conference row id, when it concerns one.
    pub conference: Option<i64>,
    /// Who: a SIP URI or a phone number the caller already redacted.
    pub subject: String,
    /// Free text for operators (never a secret).
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_addresses() {
        for s in ["127.0.0.2", "127.0.0.2:5060", "::1", "[::1]:5061"] {
            let a: GatewayAddress = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        let bracketed: GatewayAddress = "[::1]".parse().unwrap();
        assert_eq!(bracketed.to_string(), "::1");
        assert!("gw.example".parse::<GatewayAddress>().is_err());
        assert!("1.2.3.4:99999".parse::<GatewayAddress>().is_err());
    }

    #[test]
    fn uri_user_parts() {
        assert_eq!(uri_user_part("sip:alice@contoso.example"), Some("alice"));
        assert_eq!(uri_user_part("sips:bob@x"), Some("bob"));
        for bad in [
            "alice@contoso.example",
            "sip:@x",
            "sip:alice@",
            "sip:alice",
            "tel:+1",
        ] {
            assert_eq!(uri_user_part(bad), None, "{bad}");
        }
    }

    #[test]
    fn audit_event_names_round_trip() {
        for e in AuditEvent::ALL {
            assert_eq!(AuditEvent::from_name(e.as_str()), Some(*e));
        }
        assert_eq!(AuditEvent::from_name("nope"), None);
    }
}
