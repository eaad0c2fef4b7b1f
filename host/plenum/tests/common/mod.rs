//! Start the real `plenum` binary on loopback and drive it with its own CLI.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The binary under test.
pub fn plenum() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_plenum"));
    c.env("RUST_BACKTRACE", "0")
        .env_remove("PLENUM_CONFIG")
        .env_remove("PLENUM_DATA_DIR");
    c
}

/// A running `plenum serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub admin_url: String,
    /// Everything it printed on stdout until it was ready.
    pub banner: String,
    /// Its data dir.
    pub data_dir: PathBuf,
}

impl Server {
    /// Start on an ephemeral admin port with `data_dir`, and wait until it is ready.
    pub fn start(data_dir: &Path) -> Server {
        let mut child = plenum()
            .args(["serve", "--admin-listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("PLENUM_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn plenum serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = String::new();
        let mut admin_url = None;
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .expect("plenum serve did not become ready");
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line.strip_prefix("plenum: admin API on ") {
                admin_url = rest.split_whitespace().next().map(str::to_owned);
            }
            if line == "plenum: ready" {
                break;
            }
        }
        Server {
            child,
            admin_url: admin_url.expect("admin URL printed"),
            banner,
            data_dir: data_dir.to_owned(),
        }
    }

    /// Run `plenum ARGS --data-dir D --admin-url U`.
    pub fn cli(&self, args: &[&str]) -> Output {
        plenum()
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--admin-url", &self.admin_url])
            .output()
            .expect("run plenum")
    }

    /// Stop it (SIGTERM, as an operator would) and wait.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stdout of a successful run (panics with stderr otherwise).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a failed run (panics if it succeeded).
pub fn err(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "unexpectedly succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The path of a built component by crate name.
pub fn artifact(name: &str) -> String {
    plenum_bundled::artifact_path(name).display().to_string()
}

/// The `plugin list` line of a kind, split into words.
pub fn row(list: &str, kind: &str, state: &str) -> Option<Vec<String>> {
    list.lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|w| {
            w.first().map(String::as_str) == Some(kind)
                && w.get(1).map(String::as_str) == Some(state)
        })
}
