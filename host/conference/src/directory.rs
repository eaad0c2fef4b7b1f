//! What the switch needs to know about the pool to classify a request without asking the
//! database: the gateways (trunk peers) by address, and the tenants by SIP domain. The I/O
//! shell loads it from the pool and hands a fresh copy to the switch when it changes.

use std::net::{IpAddr, SocketAddr};

use plenum_sip::endpoint::{Flow, Transport};
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
    /// The SIP transport it uses, when only that one counts as the gateway.
    pub transport: Option<Transport>,
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
    /// The gateway a message on `flow` comes from, if any: same address and, where the entry
    /// names them, same transport and port (an exact port match wins over an address-only
    /// entry).
    pub fn gateway(&self, flow: &Flow) -> Option<&Gateway> {
        let remote: SocketAddr = flow.remote;
        let same_ip =
            |g: &&Gateway| g.ip == remote.ip() && g.transport.is_none_or(|t| t == flow.transport);
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
            transport: None,
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
            d.gateway(&udp("127.0.0.2:5090")).unwrap().tenant.as_str(),
            "fabrikam"
        );
        assert_eq!(
            d.gateway(&udp("127.0.0.2:5070")).unwrap().tenant.as_str(),
            "contoso"
        );
        assert!(d.gateway(&udp("127.0.0.1:5070")).is_none());
    }

    fn udp(remote: &str) -> Flow {
        Flow {
            transport: Transport::Udp,
            local: "127.0.0.1:5060".parse().unwrap(),
            remote: remote.parse().unwrap(),
            conn: None,
        }
    }

    #[test]
    fn a_gateway_of_one_transport_is_not_the_other() {
        let mut tcp_only = gw("127.0.0.4", None, "contoso");
        tcp_only.transport = Some(Transport::Tcp);
        let d = Directory {
            gateways: vec![tcp_only],
            tenants: vec![],
        };
        assert!(d.gateway(&udp("127.0.0.4:5060")).is_none());
        let tcp = Flow {
            transport: Transport::Tcp,
            conn: Some(7),
            ..udp("127.0.0.4:40000")
        };
        assert_eq!(d.gateway(&tcp).unwrap().tenant.as_str(), "contoso");
    }
}
