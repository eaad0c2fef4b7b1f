//! `plenum plugin try`: run a component locally under the production limits, without a server:
//! its canaries first, then what suits its kind — a scripted call for an attendant, a table of
//! numbers for a normalizer, the settings a policy document yields, the demo capabilities of a
//! focus factory. The same SDK harness runs natively in the plugin's own tests.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use plenum_runtime::target::{WasmTarget, check_canaries};
use plenum_runtime::{Limits, Runtime};
use plenum_sdk::harness::{FocusTarget, PolicyTarget, demo, normalize_table, script};
use plenum_types::PluginKind;

/// Arguments of `plenum plugin try`.
#[derive(Debug, Args)]
pub struct TryArgs {
    /// The kind the component must implement.
    #[arg(long)]
    kind: Option<String>,
    /// Attendant: a call script (see the SDK's `harness::script`); a demo call when absent.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Normalizer: a number to normalize with the demo Redmond profile (repeatable).
    #[arg(long = "number")]
    numbers: Vec<String>,
    /// Meeting policy: a policy document (TOML).
    #[arg(long)]
    document: Option<PathBuf>,
    /// The component (`.wasm`).
    file: PathBuf,
}

/// The demo call `try` runs when no script is given.
pub const DEMO_SCRIPT: &str = "\
# An anonymous caller on the Redmond number joins meeting 70012349 (passcode 2468)
call to=+14255550100 from=+14255551234
meeting 70012349 passcode=2468
press 1
press 70012349#
press 2468#
say 1500
leader-joins
";

/// Run it.
pub fn run(args: &TryArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let runtime = Runtime::new(Limits::default(), None)?;
    let plugin = runtime.load(&bytes)?;
    if let Some(k) = &args.kind {
        let want: PluginKind = k.parse()?;
        if want != plugin.kind() {
            bail!("the component implements {}, not {want}", plugin.kind());
        }
    }
    let info = plugin.info();
    println!(
        "{} {} {} ({}): {}",
        plugin.kind(),
        info.name,
        info.version,
        plugin.digest().short(),
        info.description
    );
    let canaries = check_canaries(&plugin, "try");
    match &canaries {
        Ok(n) => println!("canaries: {n} passed"),
        Err(f) => println!("canaries: FAILED: {f}"),
    }
    let tenant = "try";
    let mut target = WasmTarget::new(&plugin, tenant);
    match plugin.kind() {
        PluginKind::Normalizer => {
            let numbers: Vec<&str> = if args.numbers.is_empty() {
                vec![
                    "0100",
                    "5550100",
                    "4255550100",
                    "14255550100",
                    "011442075550100",
                    "+442075550100",
                    "12345",
                ]
            } else {
                args.numbers.iter().map(String::as_str).collect()
            };
            print!(
                "{}",
                normalize_table(&mut target, &demo::redmond(), &numbers)
            );
        }
        PluginKind::Attendant => {
            let text = match &args.script {
                Some(p) => std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?,
                None => DEMO_SCRIPT.to_owned(),
            };
            let script = script::Script::parse(&text)?;
            let transcript = script::run(&mut target, &script);
            println!("{transcript}");
        }
        PluginKind::MeetingPolicy => {
            let doc = match &args.document {
                Some(p) => {
                    let text = std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    plenum_sdk::toml_document::flatten(&text)?
                }
                None => Vec::new(),
            };
            match target.settings(&demo::policy_context(doc)) {
                Ok(Ok(s)) => println!("{s:#?}"),
                Ok(Err(e)) => println!("settings refused the document: {e}"),
                Err(f) => println!("settings faulted: {f}"),
            }
        }
        PluginKind::FocusFactory => match target.get_capabilities(&demo::schedule_context()) {
            Ok(Ok(c)) => println!("{c:#?}"),
            Ok(Err(e)) => println!("capabilities failed: {e}"),
            Err(f) => println!("capabilities faulted: {f}"),
        },
    }
    canaries.map(|_| ()).map_err(anyhow::Error::from)
}
