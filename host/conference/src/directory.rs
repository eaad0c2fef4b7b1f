//! What the switch needs to know about the pool to classify a request without asking the
//! database: the gateways (trunk peers) by address, and the tenants by SIP domain. The I/O
//! shell loads it from the pool and hands a fresh copy to the switch when it changes.

use std::net::{IpAddr, SocketAddr};

use plenum_types::TenantId;

/// A gateway, PBX or SIP trunk that delivers PSTN calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// Name, for logs.
    pub name: String,
    /// The tenant whose numbers it delivers.
    pub tenant: TenantId,
    /// Its IP address.
    pub ip: IpAddr,
    /// Its port, when only one port of that address is the gateway.
    pub port: Option<u16>,
    /// The location profile its numbers are normalized with.
    pub profile: String,
    /// Whether its media is SRTP.
    pub srtp: bool,
}

/// A tenant, as the switch sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEntry {
    /// Id.
    pub id: TenantId,
    /// SIP domain (the digest realm).
    pub domain: String,
}

/// The snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// Gateways.
    pub gateways: Vec<Gateway>,
    /// Tenants.
    pub tenants: Vec<TenantEntry>,
}

impl Directory {
    /// The gateway a message from `remote` comes from, if any (an exact port match wins over
    /// an address-only entry).
    pub fn gateway(&self, remote: SocketAddr) -> Option<&Gateway> {
        let same_ip = |g: &&Gateway| g.ip == remote.ip();
        self.gateways
            .iter()
            .filter(same_ip)
            .find(|g| g.port == Some(remote.port()))
            .or_else(|| {
                self.gateways
                    .iter()
                    .filter(same_ip)
                    .find(|g| g.port.is_none())
            })
    }

    /// The tenant of a SIP domain (case-insensitive).
    pub fn tenant_by_domain(&self, domain: &str) -> Option<&TenantEntry> {
        self.tenants
            .iter()
            .find(|t| t.domain.eq_ignore_ascii_case(domain))
    }

    /// The tenant entry by id.
    pub fn tenant(&self, id: &TenantId) -> Option<&TenantEntry> {
        self.tenants.iter().find(|t| &t.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw(ip: &str, port: Option<u16>, tenant: &str) -> Gateway {
        Gateway {
            name: format!("{ip}:{port:?}"),
            tenant: TenantId::new(tenant).unwrap(),
            ip: ip.parse().unwrap(),
            port,
            profile: "P".into(),
            srtp: false,
        }
    }

    #[test]
    fn gateways_by_address_exact_port_first() {
        let d = Directory {
            gateways: vec![
                gw("127.0.0.2", None, "contoso"),
                gw("127.0.0.2", Some(5090), "fabrikam"),
            ],
            tenants: vec![],
        };
        assert_eq!(
            d.gateway("127.0.0.2:5090".parse().unwrap())
                .unwrap()
                .tenant
                .as_str(),
            "fabrikam"
        );
        assert_eq!(
            d.gateway("127.0.0.2:5070".parse().unwrap())
                .unwrap()
                .tenant
                .as_str(),
            "contoso"
        );
        assert!(d.gateway("127.0.0.1:5070".parse().unwrap()).is_none());
    }
}
