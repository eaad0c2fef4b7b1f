//! The admin API client behind `plenum plugin …`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use serde::de::DeserializeOwned;

use crate::CommonArgs;
use crate::admin::{ActivateBody, BindingView, NormalizeView, UploadView, VersionView};

/// How to reach a server.
#[derive(Debug, Args, Clone)]
pub struct ServerArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Admin API base URL (default: the configured admin address).
    #[arg(long, env = "PLENUM_ADMIN_URL")]
    admin_url: Option<String>,
    /// Admin token (default: the data dir's admin.token).
    #[arg(long, env = "PLENUM_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// A connection to the admin API.
pub struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    /// Resolve the URL and token from flags, environment and configuration.
    pub fn new(args: &ServerArgs) -> anyhow::Result<Client> {
        let cfg = args.common.load()?;
        let base = args
            .admin_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", cfg.admin.listen));
        let token = match &args.token {
            Some(t) => t.clone(),
            None => read_token(&crate::server::token_path(&cfg.data_dir))?,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Client {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent,
        })
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn finish<T: DeserializeOwned>(
        &self,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<T> {
        let mut resp = resp.with_context(|| {
            format!(
                "cannot reach the admin API at {} (is `plenum serve` running?)",
                self.base
            )
        })?;
        let status = resp.status();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        if !status.is_success() {
            let msg = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or(body);
            bail!("{} ({})", msg, status.as_u16());
        }
        serde_json::from_str(&body).with_context(|| format!("unexpected answer: {body}"))
    }

    /// `plenum plugin deploy`.
    pub fn deploy(
        &self,
        tenant: &str,
        kind: Option<&str>,
        activate: bool,
        file: &Path,
    ) -> anyhow::Result<()> {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let mut url = format!(
            "{}/v1/tenants/{tenant}/plugins?activate={activate}",
            self.base
        );
        if let Some(k) = kind {
            url.push_str(&format!("&kind={k}"));
        }
        let resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.auth())
            .header("Content-Type", "application/wasm")
            .send(&bytes[..]);
        let v: UploadView = self.finish(resp)?;
        println!(
            "uploaded {} {} {} ({}), {} canaries passed, compiled in {:.1} ms{}",
            v.kind,
            v.name,
            v.version,
            v.digest,
            v.canaries,
            v.load_ms,
            if v.active {
                ", active"
            } else {
                "; activate with `plenum plugin activate`"
            }
        );
        Ok(())
    }

    /// `plenum plugin activate`.
    pub fn activate(&self, tenant: &str, kind: &str, digest: &str) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/plugins/{kind}/activate", self.base);
        let body = serde_json::to_vec(&ActivateBody {
            digest: digest.to_owned(),
        })?;
        let resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.auth())
            .header("Content-Type", "application/json")
            .send(&body[..]);
        let b: BindingView = self.finish(resp)?;
        println!(
            "{tenant} {}: active {}, previous {}",
            b.kind,
            b.active,
            b.previous.as_deref().unwrap_or("-")
        );
        Ok(())
    }

    /// `plenum plugin rollback`.
    pub fn rollback(&self, tenant: &str, kind: &str) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/plugins/{kind}/rollback", self.base);
        let resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.auth())
            .send_empty();
        let b: BindingView = self.finish(resp)?;
        println!(
            "{tenant} {}: rolled back; active {}, previous {}",
            b.kind,
            b.active,
            b.previous.as_deref().unwrap_or("-")
        );
        Ok(())
    }

    /// `plenum plugin list`.
    pub fn list(&self, tenant: &str, json: bool) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/plugins", self.base);
        let resp = self
            .agent
            .get(&url)
            .header("Authorization", &self.auth())
            .call();
        let versions: Vec<VersionView> = self.finish(resp)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&versions)?);
            return Ok(());
        }
        println!(
            "{:<15} {:<9} {:<12} {:<24} {:<8} {:>7} {:>6}",
            "KIND", "STATE", "DIGEST", "NAME", "VERSION", "CALLS", "FAULTS"
        );
        for v in versions {
            println!(
                "{:<15} {:<9} {:<12} {:<24} {:<8} {:>7} {:>6}",
                v.kind,
                v.state,
                v.digest.get(..12).unwrap_or(&v.digest),
                v.name,
                v.version,
                v.calls,
                v.faults
            );
        }
        Ok(())
    }
}

impl Client {
    /// `plenum number normalize`.
    pub fn normalize(
        &self,
        tenant: &str,
        profile: Option<&str>,
        numbers: &[String],
    ) -> anyhow::Result<()> {
        for n in numbers {
            let url = format!("{}/v1/tenants/{tenant}/normalize", self.base);
            let mut req = self
                .agent
                .get(&url)
                .header("Authorization", &self.auth())
                .query("number", n);
            if let Some(p) = profile {
                req = req.query("profile", p);
            }
            let v: NormalizeView = self.finish(req.call())?;
            println!(
                "{:<18} -> {:<16} ({}, {})",
                v.number,
                v.e164.as_deref().unwrap_or("no match"),
                v.profile,
                v.source
            );
        }
        Ok(())
    }
}

impl Client {
    /// `plenum audit`.
    /// `GET /v1/meetings`, printed.
    pub fn meetings(&self, tenant: Option<&str>, json: bool) -> anyhow::Result<()> {
        let url = format!("{}/v1/meetings", self.base);
        let mut req = self.agent.get(&url).header("Authorization", &self.auth());
        if let Some(t) = tenant {
            req = req.query("tenant", t);
        }
        let meetings: Vec<crate::admin::LiveMeetingView> = self.finish(req.call())?;
        if json {
            println!("{}", serde_json::to_string_pretty(&meetings)?);
            return Ok(());
        }
        if meetings.is_empty() {
            println!("no meeting is on");
        }
        for m in meetings {
            println!(
                "{} [{}] ID {} organizer {}{}{} (expires {})",
                m.subject,
                m.tenant,
                m.pstn_id.as_deref().unwrap_or("-"),
                m.organizer,
                if m.locked { ", locked" } else { "" },
                if m.announcements {
                    ""
                } else {
                    ", announcements off"
                },
                m.expires
            );
            for p in m.participants {
                println!(
                    "  {:<10} {:<9} {:<6} {} <{}>",
                    p.status,
                    p.role.as_deref().unwrap_or("-"),
                    p.joined_by,
                    p.display,
                    p.entity
                );
            }
        }
        Ok(())
    }

    /// `GET /v1/tenants/{t}/users`, printed.
    pub fn users(&self, tenant: &str, json: bool) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/users", self.base);
        let req = self.agent.get(&url).header("Authorization", &self.auth());
        let users: Vec<crate::admin::UserView> = self.finish(req.call())?;
        if json {
            println!("{}", serde_json::to_string_pretty(&users)?);
            return Ok(());
        }
        println!(
            "{:<32} {:<10} {:<5} {:<6} {:<10} FAILURES",
            "USER", "EXTENSION", "PIN", "ORG", "LOCK"
        );
        for u in users {
            let lock = if u.locked_for_good {
                "locked".to_owned()
            } else if let Some(t) = u.locked_until {
                format!("until {}", plenum_c3p::format_date_time(t))
            } else {
                "-".to_owned()
            };
            println!(
                "{:<32} {:<10} {:<5} {:<6} {:<10} {}/{}",
                u.sip_uri,
                u.extension.as_deref().unwrap_or("-"),
                if u.pin_set { "set" } else { "-" },
                if u.organizer { "yes" } else { "-" },
                lock,
                u.failures_in_window,
                u.failures_total
            );
        }
        Ok(())
    }

    /// `PUT /v1/tenants/{t}/users/{u}/pin`.
    pub fn set_pin(&self, tenant: &str, user: &str, pin: &str) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/users/{user}/pin", self.base);
        let req = self
            .agent
            .put(&url)
            .header("Authorization", &self.auth())
            .header("Content-Type", "application/json");
        let body = serde_json::to_string(&crate::admin::PinBody {
            pin: pin.to_owned(),
        })?;
        let _: crate::admin::UserView = self.finish(req.send(body))?;
        Ok(())
    }

    /// `POST /v1/tenants/{t}/users/{u}/unlock`.
    pub fn unlock(&self, tenant: &str, user: &str) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/users/{user}/unlock", self.base);
        let req = self.agent.post(&url).header("Authorization", &self.auth());
        let _: crate::admin::UserView = self.finish(req.send_empty())?;
        Ok(())
    }

    /// `GET /v1/tenants/{t}/policy`: the document.
    pub fn policy(&self, tenant: &str) -> anyhow::Result<String> {
        let url = format!("{}/v1/tenants/{tenant}/policy", self.base);
        let req = self.agent.get(&url).header("Authorization", &self.auth());
        let v: crate::admin::PolicyView = self.finish(req.call())?;
        Ok(v.document)
    }

    /// `PUT /v1/tenants/{t}/policy`.
    pub fn set_policy(&self, tenant: &str, document: &str) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/policy", self.base);
        let req = self
            .agent
            .put(&url)
            .header("Authorization", &self.auth())
            .header("Content-Type", "application/toml");
        let _: crate::admin::PolicyView = self.finish(req.send(document))?;
        Ok(())
    }

    /// `GET /v1/tenants/{t}/audit`, printed.
    pub fn audit(&self, tenant: &str, limit: u32, json: bool) -> anyhow::Result<()> {
        let url = format!("{}/v1/tenants/{tenant}/audit", self.base);
        let req = self
            .agent
            .get(&url)
            .header("Authorization", &self.auth())
            .query("limit", limit.to_string());
        let events: Vec<crate::admin::AuditView> = self.finish(req.call())?;
        if json {
            println!("{}", serde_json::to_string_pretty(&events)?);
            return Ok(());
        }
        println!(
            "{:<20} {:<22} {:>6} {:<32} DETAIL",
            "AT", "EVENT", "CONF", "SUBJECT"
        );
        for e in events {
            let at = plenum_c3p::format_date_time(e.at);
            let conf = e.conference.map(|c| c.to_string()).unwrap_or_default();
            println!(
                "{at:<20} {:<22} {conf:>6} {:<32} {}",
                e.event, e.subject, e.detail
            );
        }
        Ok(())
    }
}

fn read_token(path: &PathBuf) -> anyhow::Result<String> {
    let t = std::fs::read_to_string(path).with_context(|| {
        format!("reading the admin token {} (pass --token, set PLENUM_ADMIN_TOKEN, or --data-dir of the server)", path.display())
    })?;
    Ok(t.trim().to_owned())
}
