//! Inputs shared by the runtime benchmarks: one typical call per bundled kind.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use std::sync::Arc;

use plenum_plugin_api::attendant::Event;
use plenum_plugin_api::policy::{
    AdmissionRequest, JoiningMethod, MeetingFacts, ParticipantIdentity,
};
use plenum_plugin_api::types::AdmissionPolicy;
use plenum_runtime::Plugin;
use plenum_sdk::harness::{self, demo};
use plenum_types::PluginKind;

/// A typical admission question (an anonymous caller, a leader present).
pub fn admission() -> AdmissionRequest {
    AdmissionRequest {
        meeting: MeetingFacts {
            organizer: "sip:alice@contoso.example".into(),
            admission: AdmissionPolicy::Anonymous,
            lobby_bypass: false,
            has_passcode: true,
            locked: false,
            admit_all: false,
            leaders_present: 1,
            authenticated_present: 1,
            participants: 3,
        },
        identity: ParticipantIdentity::Anonymous,
        is_organizer: false,
        same_tenant: false,
        method: JoiningMethod::DialedIn,
    }
}

/// One typical call of the plugin's kind: fresh instance, one call, store dropped.
pub fn one_call(p: &Arc<Plugin>) {
    let ok = match p.kind() {
        PluginKind::Normalizer => p
            .normalize("bench", &harness::request("4255550100"))
            .is_ok(),
        PluginKind::Attendant => p
            .step(
                "bench",
                &demo::call(demo::redmond_number()),
                &[],
                &Event::CallStarted,
            )
            .is_ok(),
        PluginKind::MeetingPolicy => p
            .admit("bench", &demo::policy_context(Vec::new()), &admission())
            .is_ok(),
        PluginKind::FocusFactory => p
            .get_capabilities("bench", &demo::schedule_context())
            .is_ok(),
    };
    assert!(ok, "{} faulted", p.kind());
}
