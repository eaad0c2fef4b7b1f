//! XML namespaces of C3P and RFC 4575 documents, and the canonical prefixes our writer uses.
//!
//! The reader never looks at prefixes: it resolves every element and attribute to its namespace
//! URI first. The writer always declares the same prefixes in the same place, so
//! its output is byte-for-byte stable.

/// The C3P namespace, the default namespace of `<request>` and `<response>`.
pub const CCCP: &str = "urn:ietf:params:xml:ns:cccp";
/// Microsoft C3P extensions (`mscp`), e.g. the `mscp:mcuUri` attribute.
pub const MSCP: &str = "http://schemas.microsoft.com/rtc/2005/08/cccpextensions";
/// Microsoft conference-info extensions (`msci`): conference-id, expiry-time, pstn-access, ...
pub const MSCI: &str = "http://schemas.microsoft.com/rtc/2005/08/confinfoextensions";
/// Microsoft conference-info extensions of OCS 2007 R2 (e.g. `lobby-capable`). Read as if it
/// were [`MSCI`]; never written.
pub const MSCI_2008: &str = "http://schemas.microsoft.com/rtc/2008/12/confinfoextensions";
/// RFC 4575 conference-info (`ci`), the default namespace of roster documents.
pub const CI: &str = "urn:ietf:params:xml:ns:conference-info";
/// The separator namespace (`cis`): `<cis:separator/>` marks where extensions start inside an
/// RFC 4575 element. Read and ignored; never written.
pub const CIS: &str = "urn:ietf:params:xml:ns:conference-info-separator";
/// Plenum's own C3P extensions (`pln`): the scheduling options of a
/// getConferencingCapabilities response that Microsoft's documents convey but whose wire
/// names we could not confirm. Kept out of Microsoft's namespaces on purpose, so a Microsoft
/// client ignores them as unknown extensions.
pub const PLENUM: &str = "urn:x-plenum:xml:ns:cccp-extensions";

/// The namespace an element or attribute resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace (an unprefixed attribute, or an element with no default namespace).
    None,
    /// [`CCCP`].
    Cccp,
    /// [`MSCP`].
    Mscp,
    /// [`MSCI`] or [`MSCI_2008`].
    Msci,
    /// [`CI`].
    Ci,
    /// [`CIS`].
    Cis,
    /// [`PLENUM`].
    Plenum,
    /// Any other namespace, or an undeclared prefix: ignored by every reader.
    Other,
}

impl Ns {
    /// The namespace of a URI.
    pub(crate) fn from_uri(uri: &str) -> Ns {
        match uri {
            CCCP => Ns::Cccp,
            MSCP => Ns::Mscp,
            MSCI | MSCI_2008 => Ns::Msci,
            CI => Ns::Ci,
            CIS => Ns::Cis,
            PLENUM => Ns::Plenum,
            _ => Ns::Other,
        }
    }
}

/// A vocabulary the readers match elements against. A vocabulary accepts a few namespaces:
/// clients that forget a prefix put RFC 4575 elements into the C3P default namespace, and the
/// readers are lenient about that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vocab {
    /// C3P elements: [`CCCP`], or no namespace at all.
    Cccp,
    /// RFC 4575 elements: [`CI`], also accepted in [`CCCP`] or no namespace.
    Ci,
    /// Microsoft conference-info extensions: [`MSCI`] and [`MSCI_2008`].
    Msci,
    /// Plenum's extensions: [`PLENUM`].
    Plenum,
}

impl Vocab {
    /// Whether an element in namespace `ns` belongs to this vocabulary.
    pub(crate) fn admits(self, ns: Ns) -> bool {
        match self {
            Vocab::Cccp => matches!(ns, Ns::Cccp | Ns::None),
            Vocab::Ci => matches!(ns, Ns::Ci | Ns::Cccp | Ns::None),
            Vocab::Msci => ns == Ns::Msci,
            Vocab::Plenum => ns == Ns::Plenum,
        }
    }
}
