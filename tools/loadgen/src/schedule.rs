//! The meetings a run calls into: scheduled here with `plenum meeting schedule --json` (as the
//! organizer, with the SIP password from the demo credentials), or given.
//!
//! Owns: running the CLI and reading its JSON, reading `demo-credentials.txt`. Does not own the
//! meetings' policy (the server's).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{Context, Result, bail};

/// A meeting to call into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// The PSTN conference ID (with its check digit).
    pub id: String,
    /// The passcode guests key in.
    pub passcode: String,
}

impl FromStr for Meeting {
    type Err = String;

    /// `ID:PASSCODE`.
    fn from_str(s: &str) -> Result<Meeting, String> {
        let (id, passcode) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}`: expected CONFERENCE-ID:PASSCODE"))?;
        let digits = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        if !digits(id) || !digits(passcode) {
            return Err(format!("`{s}`: the ID and the passcode are digits"));
        }
        Ok(Meeting {
            id: id.to_owned(),
            passcode: passcode.to_owned(),
        })
    }
}

/// A demo user's line of `demo-credentials.txt`: `sip:URI / extension / PIN / password`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    /// `alice`.
    pub user: String,
    /// `contoso.example`.
    pub domain: String,
    /// `1001`.
    pub extension: String,
    /// The PIN.
    pub pin: String,
    /// The SIP digest password.
    pub password: String,
}

/// The users of a `demo-credentials.txt`.
pub fn read_credentials(path: &Path) -> Result<Vec<DemoUser>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().filter_map(credential_line).collect())
}

fn credential_line(line: &str) -> Option<DemoUser> {
    let mut parts = line.trim().split(" / ");
    let uri = parts.next()?.strip_prefix("sip:")?;
    let (user, domain) = uri.split_once('@')?;
    Some(DemoUser {
        user: user.to_owned(),
        domain: domain.to_owned(),
        extension: parts.next()?.trim().to_owned(),
        pin: parts.next()?.trim().to_owned(),
        password: parts.next()?.trim().to_owned(),
    })
}

/// How to schedule meetings.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// The `plenum` binary.
    pub plenum: PathBuf,
    /// The server's SIP address (`udp:IP:PORT`).
    pub server: String,
    /// The organizer (`alice@contoso.example`).
    pub organizer: String,
    /// Their SIP password.
    pub password: String,
    /// The passcode every meeting gets.
    pub passcode: String,
    /// `anonymous` lets guests in once a leader is there.
    pub admission: String,
}

impl Scheduler {
    /// Schedule `count` meetings, `parallel` CLI runs at a time.
    pub fn schedule(&self, count: usize, parallel: usize) -> Result<Vec<Meeting>> {
        let mut meetings = Vec::with_capacity(count);
        while meetings.len() < count {
            let batch = (count - meetings.len()).min(parallel.max(1));
            let children = (0..batch)
                .map(|_| {
                    self.command()
                        .spawn()
                        .context("running `plenum meeting schedule`")
                })
                .collect::<Result<Vec<_>>>()?;
            for child in children {
                let out = child
                    .wait_with_output()
                    .context("waiting for `plenum meeting schedule`")?;
                meetings.push(self.read(&out)?);
            }
        }
        Ok(meetings)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.plenum);
        c.args(["meeting", "schedule", "--organizer", &self.organizer])
            .args(["--subject", "plenum-loadgen", "--passcode", &self.passcode])
            .args([
                "--admission",
                &self.admission,
                "--server",
                &self.server,
                "--json",
            ])
            .env("PLENUM_SIP_PASSWORD", &self.password)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    }

    fn read(&self, out: &std::process::Output) -> Result<Meeting> {
        if !out.status.success() {
            bail!(
                "`plenum meeting schedule` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("reading the schedule's JSON")?;
        let id = v
            .get("pstn_conference_id")
            .and_then(serde_json::Value::as_str)
            .context("no pstn_conference_id in the schedule's JSON")?;
        Ok(Meeting {
            id: id.to_owned(),
            passcode: self.passcode.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_demo_credentials_and_meeting_args() {
        let line = "  sip:alice@contoso.example / 1001 / 24680 / s3cr3t\n";
        assert_eq!(
            credential_line(line).unwrap(),
            DemoUser {
                user: "alice".into(),
                domain: "contoso.example".into(),
                extension: "1001".into(),
                pin: "24680".into(),
                password: "s3cr3t".into(),
            }
        );
        assert!(credential_line("users (SIP URI / extension / PIN / password):").is_none());
        assert_eq!(
            "12345678:135790".parse::<Meeting>().unwrap(),
            Meeting {
                id: "12345678".into(),
                passcode: "135790".into()
            }
        );
        assert!("12a:1".parse::<Meeting>().is_err());
    }
}
