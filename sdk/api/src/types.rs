//! WIT interface `types`: what every plugin kind shares (and the `host` interface's log level).

/// Derives shared by every contract type.
macro_rules! contract {
    ($($item:item)*) => {
        $(
            #[derive(Clone, Debug, PartialEq, Eq)]
            #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
            #[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
            $item
        )*
    };
}
pub(crate) use contract;

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// The tenant's policy document, flattened to dotted keys and string values.
pub type PolicyDocument = Vec<(String, String)>;

contract! {
    /// A failure the plugin reports on purpose (traps are classified by the host).
    pub enum PluginError {
        /// The input broke a rule of the plugin.
        InvalidInput(String),
        /// The plugin does not do what was asked.
        Unsupported(String),
        /// Anything else.
        Internal(String),
    }

    /// Who the plugin is.
    pub struct PluginInfo {
        /// Short name, e.g. `attendant-ocs`.
        pub name: String,
        /// The plugin's own version.
        pub version: String,
        /// One line for operators.
        pub description: String,
    }

    /// The tenant a call is made for.
    pub struct Tenant {
        /// Tenant id, e.g. `contoso`.
        pub id: String,
        /// SIP domain, e.g. `contoso.example`.
        pub domain: String,
    }

    /// A dial-in access number.
    pub struct AccessNumber {
        /// E.164 with a leading `+`.
        pub number: String,
        /// Display text.
        pub display: String,
        /// Dial-in conferencing region.
        pub region: String,
        /// BCP 47 tags, primary first.
        pub languages: Vec<String>,
        /// Order within the region, 0 first.
        pub priority: u32,
    }

    /// One ordered normalization rule.
    pub struct NormalizationRule {
        /// Rule name.
        pub name: String,
        /// Regular expression matching the whole number.
        pub pattern: String,
        /// Replacement with `$1`, `$2`, ...
        pub translation: String,
    }

    /// A location profile: ordered rules and a dial-in region.
    pub struct LocationProfile {
        /// Profile name.
        pub name: String,
        /// Dial-in conferencing region.
        pub region: String,
        /// Digits stripped before matching, e.g. `9`.
        pub external_access_prefix: Option<String>,
        /// Rules, first match wins.
        pub rules: Vec<NormalizationRule>,
    }

    /// Who may enter a meeting without waiting (C3P `msci:admission-policy`).
    #[derive(Copy, Hash)]
    pub enum AdmissionPolicy {
        /// Only invited authenticated users of the tenant.
        ClosedAuthenticated,
        /// Any authenticated user of the tenant.
        OpenAuthenticated,
        /// Anyone, including anonymous dial-in callers.
        Anonymous,
    }

    /// A verdict on a candidate value.
    pub enum Verdict {
        /// Acceptable.
        Accept,
        /// Breaks a rule (the text names the rule, never the value).
        Reject(String),
    }

    /// Log level of the `host.log` import.
    #[derive(Copy, PartialOrd, Ord)]
    pub enum Level {
        /// Trace.
        Trace,
        /// Debug.
        Debug,
        /// Info.
        Info,
        /// Warn.
        Warn,
        /// Error.
        Error,
    }
}

impl AdmissionPolicy {
    /// The C3P wire name (`closedAuthenticated`, `openAuthenticated`, `anonymous`).
    pub fn c3p_name(self) -> &'static str {
        match self {
            AdmissionPolicy::ClosedAuthenticated => "closedAuthenticated",
            AdmissionPolicy::OpenAuthenticated => "openAuthenticated",
            AdmissionPolicy::Anonymous => "anonymous",
        }
    }

    /// Parse the C3P wire name.
    pub fn from_c3p(s: &str) -> Option<AdmissionPolicy> {
        [
            AdmissionPolicy::ClosedAuthenticated,
            AdmissionPolicy::OpenAuthenticated,
            AdmissionPolicy::Anonymous,
        ]
        .into_iter()
        .find(|p| p.c3p_name() == s)
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            PluginError::Unsupported(m) => write!(f, "unsupported: {m}"),
            PluginError::Internal(m) => write!(f, "internal: {m}"),
        }
    }
}

impl std::error::Error for PluginError {}

impl Tenant {
    /// A tenant value.
    pub fn new(id: &str, domain: &str) -> Tenant {
        Tenant {
            id: id.to_owned(),
            domain: domain.to_owned(),
        }
    }
}
