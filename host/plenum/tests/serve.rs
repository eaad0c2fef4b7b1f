//! `plenum serve` end to end: first start, the admin API and its CLI, deploy, activate,
//! rollback, restart, isolation, refusals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Server, artifact, err, ok, row};

#[test]
fn first_start_seeds_the_demo_world_and_says_how_to_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    assert!(
        server.banner.contains("seeded the demo world"),
        "{}",
        server.banner
    );
    assert!(
        server
            .banner
            .contains("sip:alice@contoso.example / 1001 / 24680 /"),
        "{}",
        server.banner
    );
    for file in ["demo-credentials.txt", "admin.token", "plenum.db"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    let contoso = ok(&server.cli(&["plugin", "list", "--tenant", "contoso"]));
    for (kind, name) in [
        ("normalizer", "normalizer-rules"),
        ("attendant", "attendant-ocs"),
        ("meeting-policy", "meeting-policy-default"),
        ("focus-factory", "focus-factory-default"),
    ] {
        let r = row(&contoso, kind, "active").unwrap_or_else(|| panic!("{kind} active\n{contoso}"));
        assert_eq!(r[3], name);
    }
    let fabrikam = ok(&server.cli(&["plugin", "list", "--tenant", "fabrikam"]));
    assert_eq!(
        row(&fabrikam, "meeting-policy", "active").unwrap()[3],
        "meeting-policy-strict"
    );

    let n = ok(&server.cli(&[
        "number",
        "normalize",
        "--tenant",
        "contoso",
        "4255550100",
        "0100",
        "12",
    ]));
    assert!(n.contains("4255550100         -> +14255550100"), "{n}");
    assert!(n.lines().nth(2).unwrap().contains("no match"), "{n}");

    // A second start does not seed again and keeps the credentials file.
    server.stop();
    let again = Server::start(dir.path());
    assert!(!again.banner.contains("seeded"), "{}", again.banner);
    assert!(
        again.banner.contains("demo credentials are in"),
        "{}",
        again.banner
    );
}

#[test]
fn the_admin_api_wants_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let e = err(&common::plenum()
        .args([
            "plugin",
            "list",
            "--tenant",
            "contoso",
            "--token",
            "wrong",
            "--admin-url",
            &server.admin_url,
        ])
        .output()
        .unwrap());
    assert!(e.contains("token") && e.contains("401"), "{e}");
    let e = err(&server.cli(&["plugin", "list", "--tenant", "nobody"]));
    assert!(e.contains("no tenant `nobody`"), "{e}");
}

#[test]
fn deploy_activate_rollback_survive_a_restart_and_stay_in_their_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let fabrikam_before = ok(&server.cli(&["plugin", "list", "--tenant", "fabrikam"]));

    let pin = artifact("attendant-pin-example");
    let out = ok(&server.cli(&[
        "plugin",
        "deploy",
        "--tenant",
        "contoso",
        "--kind",
        "attendant",
        &pin,
    ]));
    assert!(
        out.contains("canaries passed") && out.contains("activate with"),
        "{out}"
    );
    let list = ok(&server.cli(&["plugin", "list", "--tenant", "contoso"]));
    let staged = row(&list, "attendant", "staged").expect("staged");
    assert_eq!(
        row(&list, "attendant", "active").unwrap()[3],
        "attendant-ocs"
    );

    let full = ok(&server.cli(&["plugin", "list", "--tenant", "contoso", "--json"]));
    let versions: serde_json::Value = serde_json::from_str(&full).unwrap();
    let digest = versions
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["state"] == "staged")
        .and_then(|v| v["digest"].as_str())
        .unwrap()
        .to_owned();
    assert!(digest.starts_with(&staged[2]));
    ok(&server.cli(&[
        "plugin",
        "activate",
        "--tenant",
        "contoso",
        "--kind",
        "attendant",
        &digest,
    ]));
    let list = ok(&server.cli(&["plugin", "list", "--tenant", "contoso"]));
    assert_eq!(
        row(&list, "attendant", "active").unwrap()[3],
        "attendant-pin-example"
    );
    assert_eq!(
        row(&list, "attendant", "previous").unwrap()[3],
        "attendant-ocs"
    );

    server.stop();
    let server = Server::start(dir.path());
    let list = ok(&server.cli(&["plugin", "list", "--tenant", "contoso"]));
    assert_eq!(
        row(&list, "attendant", "active").unwrap()[3],
        "attendant-pin-example",
        "restored\n{list}"
    );

    let out = ok(&server.cli(&[
        "plugin",
        "rollback",
        "--tenant",
        "contoso",
        "--kind",
        "attendant",
    ]));
    assert!(out.contains("rolled back"), "{out}");
    let list = ok(&server.cli(&["plugin", "list", "--tenant", "contoso"]));
    assert_eq!(
        row(&list, "attendant", "active").unwrap()[3],
        "attendant-ocs"
    );

    let fabrikam_after = ok(&server.cli(&["plugin", "list", "--tenant", "fabrikam"]));
    let states = |l: &str| {
        l.lines()
            .map(|x| x.split_whitespace().take(4).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(states(&fabrikam_before), states(&fabrikam_after));
}

#[test]
fn bad_components_are_refused_with_a_reason_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let before = ok(&server.cli(&["plugin", "list", "--tenant", "contoso"]));
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"this is not wasm").unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let cases = [
        (junk.display().to_string(), None, "not a WebAssembly file"),
        (core.display().to_string(), None, "core WebAssembly module"),
        (
            artifact("fixture-wrong-world"),
            None,
            "no single Plenum plugin world",
        ),
        (artifact("fixture-future-wit"), None, "plenum:plugin@0.2.0"),
        (artifact("fixture-bad-canary"), None, "canary"),
        (
            artifact("normalizer-rules"),
            Some("attendant"),
            "uploaded as attendant but the component implements normalizer",
        ),
    ];
    for (file, kind, expect) in cases {
        let mut args = vec!["plugin", "deploy", "--tenant", "contoso", "--activate"];
        if let Some(k) = kind {
            args.extend(["--kind", k]);
        }
        args.push(&file);
        let e = err(&server.cli(&args));
        assert!(e.contains(expect) && e.contains("422"), "{file}: {e}");
    }
    let after = ok(&server.cli(&["plugin", "list", "--tenant", "contoso"]));
    let strip = |l: &str| {
        l.lines()
            .map(|x| x.split_whitespace().take(4).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&before), strip(&after));
}

#[test]
fn plugin_try_runs_a_component_locally() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("call.txt");
    std::fs::write(
        &script,
        "call to=+14255550100\nmeeting 70012349 passcode=2468 leader-present\npress 1\npress 70012349#\npress 2468#\nsay 900\n",
    )
    .unwrap();
    let out = ok(&common::plenum()
        .args(["plugin", "try", "--kind", "attendant", "--script"])
        .arg(&script)
        .arg(artifact("attendant-ocs"))
        .output()
        .unwrap());
    assert!(out.contains("canaries:") && out.contains("passed"), "{out}");
    assert!(out.contains("< lookup-conference 70012349"), "{out}");
    assert!(out.contains("Joined"), "{out}");

    let out = ok(&common::plenum()
        .args(["plugin", "try", "--number", "5550100"])
        .arg(artifact("normalizer-rules"))
        .output()
        .unwrap());
    assert!(out.contains("+14255550100"), "{out}");

    let e = err(&common::plenum()
        .args(["plugin", "try"])
        .arg(artifact("fixture-bad-canary"))
        .output()
        .unwrap());
    assert!(e.contains("canary"), "{e}");
}

#[test]
fn the_embedded_default_config_is_printed_and_valid() {
    let out = ok(&common::plenum()
        .args(["config", "default"])
        .output()
        .unwrap());
    assert!(out.contains("[plugins]") && out.contains("cpu-ms"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[plugins]\ncpu-ms = \"soon\"\n").unwrap();
    let e = err(&common::plenum()
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap());
    assert!(e.contains("invalid configuration"), "{e}");
}
