//! Configuration: one TOML file, every key optional, with an embedded default so that `plenum
//! serve` runs with no file at all. Command-line flags override the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// The embedded default configuration (also what `plenum config default` prints).
pub const DEFAULT_TOML: &str = include_str!("default-config.toml");

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Where the pool database, the admin token and caches live.
    pub data_dir: PathBuf,
    /// SIP.
    pub sip: SipConfig,
    /// The admin HTTP API.
    pub admin: AdminConfig,
    /// Media.
    pub media: MediaConfig,
    /// Plugin limits.
    pub plugins: PluginConfig,
    /// Logging.
    pub log: LogConfig,
    /// Gateways, IP-PBXs and SIP trunks beyond those in the pool database.
    #[serde(default)]
    pub gateways: Vec<GatewayConfig>,
}

/// A gateway, IP-PBX or SIP trunk that delivers PSTN calls: recognised by its address (and
/// transport, and port, when given), its numbers normalized with a location profile of its
/// tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewayConfig {
    /// A name, for logs and the audit.
    pub name: String,
    /// The tenant whose access numbers it delivers.
    pub tenant: String,
    /// `IP` (any port) or `IP:PORT`.
    pub address: String,
    /// `udp` or `tcp`: only requests over this transport are the gateway's (default: either).
    #[serde(default)]
    pub transport: Option<Transport>,
    /// SRTP (SDES) required on its media; plain RTP is then refused with 488.
    #[serde(default)]
    pub srtp: bool,
    /// The tenant's location profile its called and calling numbers are normalized with.
    pub location_profile: String,
}

impl GatewayConfig {
    /// The address and, if given, the port.
    pub fn ip_port(&self) -> anyhow::Result<(std::net::IpAddr, Option<u16>)> {
        if let Ok(a) = self.address.parse::<SocketAddr>() {
            return Ok((a.ip(), Some(a.port())));
        }
        self.address.parse().map(|ip| (ip, None)).with_context(|| {
            format!(
                "gateway {}: address `{}` is neither IP nor IP:PORT",
                self.name, self.address
            )
        })
    }
}

/// SIP transports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SipConfig {
    /// `udp:ADDR` / `tcp:ADDR` (or a bare `ADDR` for both).
    pub listen: Vec<String>,
    /// Digest algorithms offered to SIP clients, in order of preference (`MD5`, `SHA-256`).
    pub digest_algorithms: Vec<String>,
}

/// Media.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MediaConfig {
    /// Lowest RTP port.
    pub rtp_port_min: u16,
    /// Highest RTP port.
    pub rtp_port_max: u16,
    /// One RTP port (RTCP on the next) for every call instead of a pair per call: the media
    /// engine tells the calls apart by their source address. Outside the per-call range.
    #[serde(default)]
    pub shared_port: Option<u16>,
    /// Tenants' prompt packs: `<dir>/<tenant>/<language>/<name>.wav`.
    #[serde(default)]
    pub prompt_packs: Option<PathBuf>,
}

impl MediaConfig {
    /// `shared-port` is an even port of at least 1024 whose pair (RTP, RTCP = P + 1) lies
    /// outside the per-call range.
    fn check_shared_port(&self, p: u16) -> anyhow::Result<()> {
        if !p.is_multiple_of(2) || p < 1024 {
            bail!(
                "media.shared-port {p} must be an even port of at least 1024 (RTCP takes the next one)"
            );
        }
        let range = self.rtp_port_min..=self.rtp_port_max;
        if range.contains(&p) || range.contains(&(p + 1)) {
            bail!(
                "media.shared-port {p} (RTCP {}) lies inside media.rtp-port-min..rtp-port-max \
                 ({}..{}): choose a port outside the per-call range",
                p + 1,
                self.rtp_port_min,
                self.rtp_port_max
            );
        }
        Ok(())
    }
}

/// The admin API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdminConfig {
    /// Address to listen on; loopback unless `allow-remote`.
    pub listen: SocketAddr,
    /// Allow a non-loopback admin address (the token is then the only protection).
    #[serde(default)]
    pub allow_remote: bool,
}

/// Limits of every plugin call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PluginConfig {
    /// Linear memory per call, MiB.
    pub memory_mib: u32,
    /// CPU per call, ms.
    pub cpu_ms: u64,
    /// Wall-clock per call, ms.
    pub wall_ms: u64,
    /// Instances at once.
    pub max_concurrent: u32,
    /// Largest component accepted, KiB.
    pub max_component_kib: u32,
    /// Copy-on-write memory images (off: measured slower for small plugins on several threads).
    pub copy_on_write: bool,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `plenum=debug,info`.
    pub level: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A SIP listening point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipListen {
    /// Transport.
    pub transport: Transport,
    /// Address.
    pub addr: SocketAddr,
}

/// SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

impl Config {
    /// The embedded default overlaid with a file's keys.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut base: toml::Table =
            toml::from_str(DEFAULT_TOML).context("embedded default config")?;
        if let Some(path) = path {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let file: toml::Table =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            merge(&mut base, file);
        }
        let cfg: Config = toml::Value::Table(base)
            .try_into()
            .context("invalid configuration")?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !self.admin.listen.ip().is_loopback() && !self.admin.allow_remote {
            bail!(
                "admin.listen {} is not a loopback address; set admin.allow-remote = true to allow it",
                self.admin.listen
            );
        }
        self.sip_listen()?;
        if self.digest_algorithms()?.is_empty() {
            bail!("sip.digest-algorithms must name at least one algorithm");
        }
        if self.media.rtp_port_min >= self.media.rtp_port_max || self.media.rtp_port_min < 1024 {
            bail!("media.rtp-port-min must be at least 1024 and below media.rtp-port-max");
        }
        if let Some(p) = self.media.shared_port {
            self.media.check_shared_port(p)?;
        }
        if self.plugins.memory_mib == 0 || self.plugins.cpu_ms == 0 || self.plugins.wall_ms == 0 {
            bail!("plugins.memory-mib, cpu-ms and wall-ms must be positive");
        }
        let mut names = std::collections::HashSet::new();
        for g in &self.gateways {
            g.ip_port()?;
            if !names.insert(g.name.as_str()) {
                bail!("gateway {} is configured twice", g.name);
            }
        }
        Ok(())
    }

    /// The SIP listening points.
    pub fn sip_listen(&self) -> anyhow::Result<Vec<SipListen>> {
        let mut out = Vec::new();
        for spec in &self.sip.listen {
            let (transports, addr): (&[Transport], &str) = match spec.split_once(':') {
                Some(("udp", rest)) => (&[Transport::Udp], rest),
                Some(("tcp", rest)) => (&[Transport::Tcp], rest),
                _ => (&[Transport::Udp, Transport::Tcp], spec.as_str()),
            };
            let addr: SocketAddr = addr
                .parse()
                .with_context(|| format!("sip.listen `{spec}`: expected [udp:|tcp:]IP:PORT"))?;
            out.extend(
                transports
                    .iter()
                    .map(|&transport| SipListen { transport, addr }),
            );
        }
        Ok(out)
    }

    /// The digest algorithms, parsed.
    pub fn digest_algorithms(&self) -> anyhow::Result<Vec<plenum_sip::auth::Algorithm>> {
        self.sip
            .digest_algorithms
            .iter()
            .map(|a| match a.to_ascii_uppercase().as_str() {
                "MD5" => Ok(plenum_sip::auth::Algorithm::Md5),
                "SHA-256" => Ok(plenum_sip::auth::Algorithm::Sha256),
                other => bail!("sip.digest-algorithms: unknown algorithm `{other}` (MD5, SHA-256)"),
            })
            .collect()
    }

    /// The plugin runtime's limits.
    pub fn plugin_limits(&self) -> plenum_runtime::Limits {
        let p = &self.plugins;
        plenum_runtime::Limits {
            memory_bytes: (p.memory_mib as usize) << 20,
            cpu: Duration::from_millis(p.cpu_ms),
            wall: Duration::from_millis(p.wall_ms),
            max_concurrent: p.max_concurrent,
            max_component_bytes: (p.max_component_kib as usize) << 10,
            copy_on_write: p.copy_on_write,
            ..plenum_runtime::Limits::default()
        }
    }
}

/// Overlay `over` on `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::load(None).unwrap();
        assert!(c.admin.listen.ip().is_loopback());
        assert_eq!(c.sip_listen().unwrap().len(), 2);
    }

    #[test]
    fn file_overrides_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "data-dir = \"/x\"\n[plugins]\ncpu-ms = 7\n").unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/x"));
        assert_eq!(c.plugins.cpu_ms, 7);
        assert_eq!(
            c.plugins.wall_ms,
            Config::load(None).unwrap().plugins.wall_ms
        );
        std::fs::write(&path, "[plugins]\ncpu-msx = 7\n").unwrap();
        assert!(Config::load(Some(&path)).is_err());
        std::fs::write(&path, "[admin]\nlisten = \"10.0.0.1:80\"\n").unwrap();
        assert!(
            Config::load(Some(&path))
                .unwrap_err()
                .to_string()
                .contains("loopback")
        );
        std::fs::write(&path, "[sip]\nlisten = [\"sctp:1.2.3.4:5\"]\n").unwrap();
        assert!(Config::load(Some(&path)).is_err());
    }

    #[test]
    fn a_shared_port_is_even_and_outside_the_per_call_range() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        assert_eq!(Config::load(None).unwrap().media.shared_port, None);
        std::fs::write(&path, "[media]\nshared-port = 40000\n").unwrap();
        assert_eq!(
            Config::load(Some(&path)).unwrap().media.shared_port,
            Some(40000)
        );
        std::fs::write(&path, "[media]\nshared-port = 19998\n").unwrap();
        assert!(Config::load(Some(&path)).is_ok());
        for (bad, says) in [
            ("40001", "even"),
            ("1022", "at least 1024"),
            ("20000", "inside"),
            ("29998", "inside"),
            ("70000", "invalid"),
        ] {
            std::fs::write(&path, format!("[media]\nshared-port = {bad}\n")).unwrap();
            let e = format!("{:#}", Config::load(Some(&path)).unwrap_err());
            assert!(e.contains(says), "{bad}: {e}");
        }
        // The RTCP port just inside the range is refused too.
        std::fs::write(
            &path,
            "[media]\nrtp-port-min = 20001\nshared-port = 20000\n",
        )
        .unwrap();
        assert!(Config::load(Some(&path)).is_err());
    }

    #[test]
    fn gateways_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[[gateways]]\nname = \"pbx\"\ntenant = \"contoso\"\naddress = \"127.0.0.4\"\n\
             srtp = true\nlocation-profile = \"Redmond\"\n\
             [[gateways]]\nname = \"trunk\"\ntenant = \"contoso\"\naddress = \"127.0.0.5:5070\"\n\
             transport = \"tcp\"\nlocation-profile = \"Redmond\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.gateways.len(), 2);
        assert!(c.gateways[0].srtp && c.gateways[0].transport.is_none());
        assert_eq!(
            c.gateways[0].ip_port().unwrap(),
            ("127.0.0.4".parse().unwrap(), None)
        );
        assert_eq!(c.gateways[1].transport, Some(Transport::Tcp));
        assert_eq!(
            c.gateways[1].ip_port().unwrap(),
            ("127.0.0.5".parse().unwrap(), Some(5070))
        );
        for bad in [
            "address = \"pbx.example\"",
            "address = \"127.0.0.4\"\ntransport = \"sctp\"",
        ] {
            std::fs::write(
                &path,
                format!(
                    "[[gateways]]\nname = \"x\"\ntenant = \"t\"\nlocation-profile = \"p\"\n{bad}\n"
                ),
            )
            .unwrap();
            assert!(Config::load(Some(&path)).is_err(), "{bad}");
        }
        let twice = "[[gateways]]\nname = \"x\"\ntenant = \"t\"\naddress = \"127.0.0.4\"\n\
                     location-profile = \"p\"\n";
        std::fs::write(&path, format!("{twice}{twice}")).unwrap();
        assert!(
            Config::load(Some(&path))
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }
}
