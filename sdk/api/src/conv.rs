//! Conversions between these types and generated bindings.
//!
//! Generated bindings (wit-bindgen in a guest, wasmtime's `bindgen!` in the host) have the same
//! names and shapes as this crate's types. [`Conv`] is `Into` without the coherence trouble: it
//! has impls for the primitives and the containers, and [`bind_conversions!`] writes one impl
//! per direction for every record, enum and variant of the contract.

/// A structural conversion between two mirrors of one WIT type.
pub trait Conv<T> {
    /// Convert.
    fn conv(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => { $(impl Conv<$t> for $t { #[inline] fn conv(self) -> $t { self } })* };
}
identity!(String, bool, char, u8, u16, u32, u64, i8, i16, i32, i64);

impl<A: Conv<B>, B> Conv<Vec<B>> for Vec<A> {
    fn conv(self) -> Vec<B> {
        self.into_iter().map(Conv::conv).collect()
    }
}

impl<A: Conv<B>, B> Conv<Option<B>> for Option<A> {
    fn conv(self) -> Option<B> {
        self.map(Conv::conv)
    }
}

impl<A: Conv<B>, B, E: Conv<F>, F> Conv<Result<B, F>> for Result<A, E> {
    fn conv(self) -> Result<B, F> {
        match self {
            Ok(v) => Ok(v.conv()),
            Err(e) => Err(e.conv()),
        }
    }
}

impl<A: Conv<X>, B: Conv<Y>, X, Y> Conv<(X, Y)> for (A, B) {
    fn conv(self) -> (X, Y) {
        (self.0.conv(), self.1.conv())
    }
}

impl<A: Conv<X>, B: Conv<Y>, C: Conv<Z>, X, Y, Z> Conv<(X, Y, Z)> for (A, B, C) {
    fn conv(self) -> (X, Y, Z) {
        (self.0.conv(), self.1.conv(), self.2.conv())
    }
}

/// Both directions of a record conversion: `conv_record!(generated::T, api::T { field, ... })`.
#[macro_export]
macro_rules! conv_record {
    ($g:path, $a:path { $($f:ident),* $(,)? }) => {
        impl $crate::Conv<$a> for $g {
            fn conv(self) -> $a {
                type A = $a;
                A { $($f: $crate::Conv::conv(self.$f)),* }
            }
        }
        impl $crate::Conv<$g> for $a {
            fn conv(self) -> $g {
                type G = $g;
                G { $($f: $crate::Conv::conv(self.$f)),* }
            }
        }
    };
}

/// Both directions of a variant (or enum) conversion:
/// `conv_variant!(generated::T, api::T { Unit, Other; WithPayload, More })` — unit cases before
/// the `;`, single-payload cases after it.
#[macro_export]
macro_rules! conv_variant {
    ($g:path, $a:path { $($u:ident),* $(,)? ; $($d:ident),* $(,)? }) => {
        impl $crate::Conv<$a> for $g {
            fn conv(self) -> $a {
                type G = $g;
                type A = $a;
                match self {
                    $(G::$u => A::$u,)*
                    $(G::$d(v) => A::$d($crate::Conv::conv(v)),)*
                }
            }
        }
        impl $crate::Conv<$g> for $a {
            fn conv(self) -> $g {
                type G = $g;
                type A = $a;
                match self {
                    $(A::$u => G::$u,)*
                    $(A::$d(v) => G::$d($crate::Conv::conv(v)),)*
                }
            }
        }
    };
}

/// Writes every conversion of the contract between this crate and a set of generated bindings.
///
/// `$p` names a module in scope that holds the generated `plenum:plugin` interfaces as
/// submodules (`types`, `host`, `normalizer_types`, ...), e.g. `use bindings::plenum::plugin as
/// p; plenum_plugin_api::bind_conversions!(p);`. Invoke it once per crate of bindings; the
/// same table serves the wit-bindgen guest and the wasmtime host.
#[macro_export]
macro_rules! bind_conversions {
    ($p:ident) => {
        $crate::__contract!(@table conv [$p]);
    };
}

/// The contract's table of types, and what is generated from it. Each row names the kind
/// (record or variant), the generated module (the WIT interface), this crate's module, the
/// type, and its fields (records) or its unit and single-payload cases (variants).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract {
    (@table $mode:ident $args:tt) => {
        $crate::__contract!(@$mode $args variant types types PluginError { ; InvalidInput, Unsupported, Internal });
        $crate::__contract!(@$mode $args record types types PluginInfo { name, version, description });
        $crate::__contract!(@$mode $args record types types Tenant { id, domain });
        $crate::__contract!(@$mode $args record types types AccessNumber { number, display, region, languages, priority });
        $crate::__contract!(@$mode $args record types types NormalizationRule { name, pattern, translation });
        $crate::__contract!(@$mode $args record types types LocationProfile { name, region, external_access_prefix, rules });
        $crate::__contract!(@$mode $args variant types types AdmissionPolicy { ClosedAuthenticated, OpenAuthenticated, Anonymous; });
        $crate::__contract!(@$mode $args variant types types Verdict { Accept; Reject });
        $crate::__contract!(@$mode $args variant host types Level { Trace, Debug, Info, Warn, Error; });
        $crate::__contract!(@$mode $args variant normalizer_types normalizer NumberKind { Called, Calling, Dialed; });
        $crate::__contract!(@$mode $args record normalizer_types normalizer NormalizeRequest { tenant, profile, number, kind });
        $crate::__contract!(@$mode $args variant normalizer_types normalizer NormalizeOutcome { NoMatch; E164 });
        $crate::__contract!(@$mode $args record normalizer_types normalizer NormalizerCanary { request, expect });
        $crate::__contract!(@$mode $args record policy_types policy PolicyContext { tenant, document });
        $crate::__contract!(@$mode $args record policy_types policy PasscodeRule { required, min_length, max_length });
        $crate::__contract!(@$mode $args record policy_types policy PinRule { min_length, max_length, allow_common_patterns });
        $crate::__contract!(@$mode $args record policy_types policy LockoutRule { window_secs, local_limit, lock_secs, global_limit });
        $crate::__contract!(@$mode $args variant policy_types policy AnnouncementMode { Names, Tones, Off; });
        $crate::__contract!(@$mode $args variant policy_types policy KeypadCommand { Help, RollCall, MuteSelf, MuteAudience, Lock, AdmitAll, Announcements; });
        $crate::__contract!(@$mode $args record policy_types policy KeypadBinding { digit, command, leaders_only });
        $crate::__contract!(@$mode $args variant policy_types policy PinAuthScope { Everyone, OrganizerOnly; });
        $crate::__contract!(@$mode $args variant policy_types policy LastLeaderAction { ContinueMeeting, EndMeeting; });
        $crate::__contract!(@$mode $args record policy_types policy MeetingSettings { passcode, pin, lockout, conference_id_attempts, passcode_attempts, pin_attempts, pin_auth, name_recording, announcements, keypad_prefix, keypad, max_meeting_size, hold_timeout_secs, lobby_timeout_secs, dead_leg_secs, on_last_leader_leave, default_expiry_secs, max_expiry_secs, max_meetings_per_organizer, lobby_bypass_allowed });
        $crate::__contract!(@$mode $args record policy_types policy MeetingFacts { organizer, admission, lobby_bypass, has_passcode, locked, admit_all, leaders_present, authenticated_present, participants });
        $crate::__contract!(@$mode $args variant policy_types policy ParticipantIdentity { Anonymous; PinUser, SipUser });
        $crate::__contract!(@$mode $args variant policy_types policy JoiningMethod { DialedIn, SipClient; });
        $crate::__contract!(@$mode $args record policy_types policy AdmissionRequest { meeting, identity, is_organizer, same_tenant, method });
        $crate::__contract!(@$mode $args variant policy_types policy Role { Leader, Attendee; });
        $crate::__contract!(@$mode $args variant policy_types policy AdmissionDecision { HoldUntilLeader, Lobby; Admit, Deny });
        $crate::__contract!(@$mode $args record policy_types policy PasscodeCheck { passcode, pstn });
        $crate::__contract!(@$mode $args record policy_types policy PinCheck { pin, extension, line });
        $crate::__contract!(@$mode $args record policy_types policy PinAttempts { local_failures, window_start, global_failures, locked_until, locked });
        $crate::__contract!(@$mode $args variant policy_types policy AttemptOutcome { Success, Failure; });
        $crate::__contract!(@$mode $args variant policy_types policy PolicyCanary { ; Admit, Passcode, Pin });
        $crate::__contract!(@$mode $args record focus_types focus Organizer { uri, display_name, region });
        $crate::__contract!(@$mode $args record focus_types focus ScheduleContext { tenant, organizer, now, pstn_enabled, access_numbers, settings, organizer_meetings, entropy, pstn_sequence });
        $crate::__contract!(@$mode $args record focus_types focus RegionNumbers { name, numbers });
        $crate::__contract!(@$mode $args record focus_types focus Capabilities { mcu_types, anonymous_scheduling, pstn_bridging, default_region, regions, admission_policies, lobby_bypass_allowed, passcode_optional, passcode_min_length, passcode_max_length, default_expiry_secs, max_expiry_secs });
        $crate::__contract!(@$mode $args record focus_types focus ConferenceRequest { conference_id, subject, pstn_access, passcode, expiry, admission, lobby_bypass });
        $crate::__contract!(@$mode $args record focus_types focus ConferencePlan { conference_id, subject, pstn_access, pstn_base, passcode, expiry, admission, lobby_bypass });
        $crate::__contract!(@$mode $args variant focus_types focus RefusalReason { InvalidConferenceId, InvalidPasscode, InvalidExpiryTime, InvalidAdmissionPolicy, PstnLobbyBypassNotAllowed, MaximumConferencesExceeded, Unauthorized, NotSupported, OtherFailure; });
        $crate::__contract!(@$mode $args record focus_types focus Refusal { reason, detail });
        $crate::__contract!(@$mode $args variant focus_types focus FocusCanary { ; Capabilities, Add });
        $crate::__contract!(@$mode $args record attendant_types attendant UserInfo { uri, display_name });
        $crate::__contract!(@$mode $args variant attendant_types attendant Caller { Anonymous; User });
        $crate::__contract!(@$mode $args record attendant_types attendant CallOptions { conference_id_attempts, passcode_attempts, pin_attempts, pin_auth, name_recording });
        $crate::__contract!(@$mode $args record attendant_types attendant CallInfo { call_id, tenant, access_number, calling, caller, options, now });
        $crate::__contract!(@$mode $args variant attendant_types attendant CollectEnd { Terminator, MaxDigits, NoInput, InterDigitTimeout, OverallTimeout; });
        $crate::__contract!(@$mode $args record attendant_types attendant Collected { digits, end });
        $crate::__contract!(@$mode $args record attendant_types attendant ConferenceSummary { pstn_id, subject, organizer_name, passcode_required });
        $crate::__contract!(@$mode $args variant attendant_types attendant ConferenceLookup { BadCheckDigit, NotFound; Found });
        $crate::__contract!(@$mode $args variant attendant_types attendant PasscodeResult { Accepted, Rejected; });
        $crate::__contract!(@$mode $args variant attendant_types attendant PinResult { Rejected, Locked, NotAllowed; Accepted });
        $crate::__contract!(@$mode $args variant attendant_types attendant AdmissionState { Admitted, WaitingForLeader, InLobby, Denied, TimedOut; });
        $crate::__contract!(@$mode $args variant attendant_types attendant Event { CallStarted, PromptFinished, Hangup; Digits, Conference, Passcode, Pin, NameRecorded, Admission, Timer });
        $crate::__contract!(@$mode $args variant attendant_types attendant PromptItem { RecordedName; Prompt, Digits, Number, Silence, Localized });
        $crate::__contract!(@$mode $args record attendant_types attendant PlaySpec { items, barge_in });
        $crate::__contract!(@$mode $args record attendant_types attendant CollectSpec { max_digits, terminator, first_digit_timeout_ms, inter_digit_timeout_ms, overall_timeout_ms });
        $crate::__contract!(@$mode $args variant attendant_types attendant HoldKind { Music, Lobby; });
        $crate::__contract!(@$mode $args variant attendant_types attendant Action { RequestAdmission, Join, HangUp; Play, Collect, SetLanguage, LookupConference, VerifyPasscode, VerifyPin, RecordName, Hold, StartTimer });
        $crate::__contract!(@$mode $args record attendant_types attendant StepResult { state, actions });
        $crate::__contract!(@$mode $args record attendant_types attendant CanaryStep { event, expect });
        $crate::__contract!(@$mode $args record attendant_types attendant AttendantCanary { name, call, steps });
    };
    (@conv [$p:ident] record $gm:ident $am:ident $t:ident { $($f:ident),* $(,)? }) => {
        $crate::conv_record!($p::$gm::$t, $crate::$am::$t { $($f),* });
    };
    (@conv [$p:ident] variant $gm:ident $am:ident $t:ident { $($u:ident),* $(,)? ; $($d:ident),* $(,)? }) => {
        $crate::conv_variant!($p::$gm::$t, $crate::$am::$t { $($u),* ; $($d),* });
    };
    (@size [] record $gm:ident $am:ident $t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::WireSize for $crate::$am::$t {
            fn wire_size(&self) -> usize {
                0 $(+ $crate::WireSize::wire_size(&self.$f))*
            }
        }
    };
    (@size [] variant $gm:ident $am:ident $t:ident { $($u:ident),* $(,)? ; $($d:ident),* $(,)? }) => {
        impl $crate::WireSize for $crate::$am::$t {
            fn wire_size(&self) -> usize {
                match self {
                    $(Self::$u => 1,)*
                    $(Self::$d(v) => 1 + $crate::WireSize::wire_size(v),)*
                }
            }
        }
    };
}

/// An estimate of a value's size across the component boundary (its canonical-ABI payload:
/// string and list bytes plus a few bytes per scalar), so that the host can cap what goes in and
/// what comes out of a plugin without serializing anything.
pub trait WireSize {
    /// Bytes, roughly.
    fn wire_size(&self) -> usize;
}

macro_rules! scalar_size {
    ($($t:ty),*) => { $(impl WireSize for $t { #[inline] fn wire_size(&self) -> usize { std::mem::size_of::<$t>() } })* };
}
scalar_size!(bool, char, u8, u16, u32, u64, i8, i16, i32, i64);

impl WireSize for String {
    fn wire_size(&self) -> usize {
        8 + self.len()
    }
}

impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> usize {
        8 + self.iter().map(WireSize::wire_size).sum::<usize>()
    }
}

impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> usize {
        1 + self.as_ref().map_or(0, WireSize::wire_size)
    }
}

impl<T: WireSize, E: WireSize> WireSize for Result<T, E> {
    fn wire_size(&self) -> usize {
        1 + match self {
            Ok(v) => v.wire_size(),
            Err(e) => e.wire_size(),
        }
    }
}

impl<A: WireSize, B: WireSize> WireSize for (A, B) {
    fn wire_size(&self) -> usize {
        self.0.wire_size() + self.1.wire_size()
    }
}

impl<A: WireSize, B: WireSize, C: WireSize> WireSize for (A, B, C) {
    fn wire_size(&self) -> usize {
        self.0.wire_size() + self.1.wire_size() + self.2.wire_size()
    }
}

__contract!(@table size []);
