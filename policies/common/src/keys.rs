//! The policy document: its keys, their bounds, and how a document turns a [`Profile`] into a
//! tenant's [`Policy`]. `policies/README.md` lists the keys for administrators.
//!
//! Every key is optional; an absent key keeps the profile's value. A value that does not parse,
//! falls outside the key's bounds, or (under [`Mode::TightenOnly`]) loosens the profile, is
//! an `invalid-input` error naming the key. Unknown keys are errors too, so that a misspelt key
//! (`passcode.min-lenght`) cannot silently leave a weaker rule in force.

use std::ops::RangeInclusive;

use plenum_sdk::prelude::*;

use crate::profile::{ByLength, Mode, Profile, leaders_only};

/// Every key the bundled policies read.
pub const KEYS: &[&str] = &[
    "passcode.required",
    "passcode.min-length",
    "passcode.max-length",
    "passcode.allow-common-patterns",
    "pin.min-length",
    "pin.max-length",
    "pin.allow-common-patterns",
    "pin.auth",
    "lockout.window-secs",
    "lockout.local-limit",
    "lockout.lock-secs",
    "lockout.global-limit",
    "attendant.conference-id-attempts",
    "attendant.passcode-attempts",
    "attendant.pin-attempts",
    "attendant.name-recording",
    "announcements.mode",
    "keypad.prefix",
    "keypad.help",
    "keypad.roll-call",
    "keypad.mute-self",
    "keypad.mute-audience",
    "keypad.lock",
    "keypad.admit-all",
    "keypad.announcements",
    "admission.anonymous-waits-for-leader",
    "admission.lobby-bypass-allowed",
    "admission.hold-timeout-secs",
    "admission.lobby-timeout-secs",
    "meeting.max-size",
    "meeting.on-last-leader-leave",
    "meeting.dead-leg-secs",
    "meeting.default-expiry-secs",
    "meeting.max-expiry-secs",
    "meeting.max-per-organizer",
];

/// Passcode lengths UCMA accepts (c3p.md §2.2).
const PASSCODE_LENGTH: RangeInclusive<u32> = 4..=16;
/// PIN lengths Lync's `CsPinPolicy` accepts (c3p.md §3).
const PIN_LENGTH: RangeInclusive<u32> = 4..=24;
/// Attendant tries.
const ATTEMPTS: RangeInclusive<u32> = 1..=10;
/// Ten years, the longest meeting lifetime UCMA allows.
const TEN_YEARS: u32 = 10 * 365 * 24 * 3600;

/// A tenant's policy: a profile with the tenant's document applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The declarative settings the host reads.
    pub settings: MeetingSettings,
    /// Passcodes like `1111` or `1234` are allowed.
    pub passcode_common_patterns: bool,
    /// Local lockout limit by PIN length.
    pub local_limit: ByLength,
    /// Global lockout limit by PIN length.
    pub global_limit: ByLength,
    /// Anonymous callers hold until a leader or authenticated user is present.
    pub anonymous_waits_for_leader: bool,
    /// Anonymous participants always wait in the lobby.
    pub anonymous_always_lobby: bool,
}

impl Policy {
    /// Apply `document` to `profile`.
    pub fn parse(profile: &Profile, document: &PolicyDocument) -> Result<Policy, PluginError> {
        let r = Reader {
            doc: Document::new(document),
            profile,
        };
        r.check_keys(document)?;
        let (local_limit, global_limit) = r.limits()?;
        let pin = r.pin()?;
        let settings = MeetingSettings {
            passcode: r.passcode()?,
            lockout: LockoutRule {
                window_secs: r.num(
                    "lockout.window-secs",
                    profile.lockout_window_secs,
                    60..=TEN_YEARS,
                    Stricter::Higher,
                )?,
                local_limit: local_limit.for_length(pin.min_length),
                lock_secs: r.num(
                    "lockout.lock-secs",
                    profile.lockout_lock_secs,
                    60..=TEN_YEARS,
                    Stricter::Higher,
                )?,
                global_limit: global_limit.for_length(pin.min_length),
            },
            pin,
            conference_id_attempts: r.small(
                "attendant.conference-id-attempts",
                profile.conference_id_attempts,
            )?,
            passcode_attempts: r.small("attendant.passcode-attempts", profile.passcode_attempts)?,
            pin_attempts: r.small("attendant.pin-attempts", profile.pin_attempts)?,
            pin_auth: r.pin_auth()?,
            name_recording: r.flag(
                "attendant.name-recording",
                profile.name_recording,
                Some(true),
            )?,
            announcements: r.announcements()?,
            keypad_prefix: r.keypad_prefix()?,
            keypad: r.keypad()?,
            max_meeting_size: r.num(
                "meeting.max-size",
                profile.max_meeting_size,
                2..=100_000,
                Stricter::Lower,
            )?,
            hold_timeout_secs: r.num(
                "admission.hold-timeout-secs",
                profile.hold_timeout_secs,
                30..=86_400,
                Stricter::Lower,
            )?,
            lobby_timeout_secs: r.num(
                "admission.lobby-timeout-secs",
                profile.lobby_timeout_secs,
                30..=86_400,
                Stricter::Lower,
            )?,
            dead_leg_secs: r.num(
                "meeting.dead-leg-secs",
                profile.dead_leg_secs,
                10..=3600,
                Stricter::Neither,
            )?,
            on_last_leader_leave: r.last_leader()?,
            default_expiry_secs: r.num(
                "meeting.default-expiry-secs",
                profile.default_expiry_secs,
                60..=TEN_YEARS,
                Stricter::Lower,
            )?,
            max_expiry_secs: r.num(
                "meeting.max-expiry-secs",
                profile.max_expiry_secs,
                60..=TEN_YEARS,
                Stricter::Lower,
            )?,
            max_meetings_per_organizer: r.num(
                "meeting.max-per-organizer",
                profile.max_meetings_per_organizer,
                1..=100_000,
                Stricter::Lower,
            )?,
            lobby_bypass_allowed: r.flag(
                "admission.lobby-bypass-allowed",
                profile.lobby_bypass_allowed,
                Some(false),
            )?,
        };
        if settings.max_expiry_secs < settings.default_expiry_secs {
            return Err(invalid(
                "meeting.max-expiry-secs",
                "at least `meeting.default-expiry-secs`",
            ));
        }
        Ok(Policy {
            passcode_common_patterns: r.flag(
                "passcode.allow-common-patterns",
                profile.passcode_common_patterns,
                Some(false),
            )?,
            local_limit,
            global_limit,
            anonymous_waits_for_leader: r.flag(
                "admission.anonymous-waits-for-leader",
                profile.anonymous_waits_for_leader,
                Some(true),
            )?,
            anonymous_always_lobby: profile.anonymous_always_lobby,
            settings,
        })
    }
}

/// Which way a value is stricter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stricter {
    /// A bigger value is stricter (a longer PIN).
    Higher,
    /// A smaller value is stricter (fewer tries).
    Lower,
    /// Not a security setting.
    Neither,
}

/// Reads typed values from the document on top of a profile.
struct Reader<'a> {
    doc: Document<'a>,
    profile: &'a Profile,
}

impl Reader<'_> {
    fn tighten_only(&self) -> bool {
        self.profile.mode == Mode::TightenOnly
    }

    fn check_keys(&self, document: &PolicyDocument) -> Result<(), PluginError> {
        match document.iter().find(|(k, _)| !KEYS.contains(&k.as_str())) {
            Some((k, _)) => Err(PluginError::InvalidInput(format!(
                "policy document: unknown key `{k}`"
            ))),
            None => Ok(()),
        }
    }

    /// A number within `bounds`; under tighten-only, no looser than `base`.
    fn num(
        &self,
        key: &str,
        base: u32,
        bounds: RangeInclusive<u32>,
        stricter: Stricter,
    ) -> Result<u32, PluginError> {
        let v = self.doc.u32(key, base)?;
        if !bounds.contains(&v) {
            return Err(invalid(
                key,
                &format!("from {} to {}", bounds.start(), bounds.end()),
            ));
        }
        if self.tighten_only() {
            match stricter {
                Stricter::Higher if v < base => {
                    return Err(self.looser(key, &format!("below {base}")));
                }
                Stricter::Lower if v > base => {
                    return Err(self.looser(key, &format!("above {base}")));
                }
                _ => {}
            }
        }
        Ok(v)
    }

    /// An attendant try count (fewer is stricter).
    fn small(&self, key: &str, base: u8) -> Result<u8, PluginError> {
        let v = self.num(key, u32::from(base), ATTEMPTS, Stricter::Lower)?;
        Ok(u8::try_from(v).unwrap_or(base))
    }

    /// A length (`bounds` fit in `u8`).
    fn length(
        &self,
        key: &str,
        base: u8,
        bounds: RangeInclusive<u32>,
        stricter: Stricter,
    ) -> Result<u8, PluginError> {
        let v = self.num(key, u32::from(base), bounds, stricter)?;
        Ok(u8::try_from(v).unwrap_or(base))
    }

    /// A flag; under tighten-only, a flag whose base is `strict` may not be changed.
    fn flag(&self, key: &str, base: bool, strict: Option<bool>) -> Result<bool, PluginError> {
        let v = self.doc.bool(key, base)?;
        match strict {
            Some(s) if self.tighten_only() && base == s && v != s => {
                Err(self.looser(key, &format!("other than `{s}`")))
            }
            _ => Ok(v),
        }
    }

    /// One of named `options`; `rank` orders them by strictness (higher is stricter).
    fn choice<T: Copy + PartialEq>(
        &self,
        key: &str,
        base: T,
        options: &[(&str, T)],
        rank: Option<fn(T) -> u8>,
    ) -> Result<T, PluginError> {
        let Some(raw) = self.doc.get(key) else {
            return Ok(base);
        };
        let raw = raw.trim();
        let Some(&(_, v)) = options.iter().find(|(name, _)| *name == raw) else {
            let names: Vec<String> = options.iter().map(|(n, _)| format!("`{n}`")).collect();
            return Err(invalid(key, &format!("one of {}", names.join(", "))));
        };
        if let Some(rank) = rank.filter(|_| self.tighten_only())
            && rank(v) < rank(base)
        {
            let name = options
                .iter()
                .find(|(_, o)| *o == base)
                .map_or("?", |(n, _)| n);
            return Err(self.looser(key, &format!("looser than `{name}`")));
        }
        Ok(v)
    }

    fn looser(&self, key: &str, what: &str) -> PluginError {
        PluginError::InvalidInput(format!(
            "policy document: `{key}` may not be {what} in the {} policy (values may only tighten)",
            self.profile.name
        ))
    }

    fn passcode(&self) -> Result<PasscodeRule, PluginError> {
        let p = self.profile;
        let required = self.flag("passcode.required", p.passcode_required, Some(true))?;
        let min_length = self.length(
            "passcode.min-length",
            p.passcode_min_length,
            PASSCODE_LENGTH,
            Stricter::Higher,
        )?;
        let max_length = self.length(
            "passcode.max-length",
            p.passcode_max_length,
            PASSCODE_LENGTH,
            Stricter::Neither,
        )?;
        if max_length < min_length {
            return Err(invalid(
                "passcode.max-length",
                "at least `passcode.min-length`",
            ));
        }
        Ok(PasscodeRule {
            required,
            min_length,
            max_length,
        })
    }

    fn pin(&self) -> Result<PinRule, PluginError> {
        let p = self.profile;
        let min_length = self.length(
            "pin.min-length",
            p.pin_min_length,
            PIN_LENGTH,
            Stricter::Higher,
        )?;
        let max_length = self.length(
            "pin.max-length",
            p.pin_max_length,
            PIN_LENGTH,
            Stricter::Neither,
        )?;
        if max_length < min_length {
            return Err(invalid("pin.max-length", "at least `pin.min-length`"));
        }
        let allow_common_patterns = self.flag(
            "pin.allow-common-patterns",
            p.pin_common_patterns,
            Some(false),
        )?;
        Ok(PinRule {
            min_length,
            max_length,
            allow_common_patterns,
        })
    }

    /// The lockout limits by PIN length; a document value applies to every length.
    fn limits(&self) -> Result<(ByLength, ByLength), PluginError> {
        let p = self.profile;
        let local = self.limit("lockout.local-limit", p.lockout_local_limit, 1..=999)?;
        let global = self.limit(
            "lockout.global-limit",
            p.lockout_global_limit,
            1..=1_000_000,
        )?;
        Ok((local, global))
    }

    fn limit(
        &self,
        key: &str,
        base: ByLength,
        bounds: RangeInclusive<u32>,
    ) -> Result<ByLength, PluginError> {
        if self.doc.get(key).is_none() {
            return Ok(base);
        }
        self.num(key, base.min(), bounds, Stricter::Lower)
            .map(ByLength::flat)
    }

    fn pin_auth(&self) -> Result<PinAuthScope, PluginError> {
        let options = [
            ("everyone", PinAuthScope::Everyone),
            ("organizer-only", PinAuthScope::OrganizerOnly),
        ];
        let rank: fn(PinAuthScope) -> u8 = |s| u8::from(s == PinAuthScope::OrganizerOnly);
        self.choice("pin.auth", self.profile.pin_auth, &options, Some(rank))
    }

    fn announcements(&self) -> Result<AnnouncementMode, PluginError> {
        let options = [
            ("names", AnnouncementMode::Names),
            ("tones", AnnouncementMode::Tones),
            ("off", AnnouncementMode::Off),
        ];
        let rank: fn(AnnouncementMode) -> u8 = |m| match m {
            AnnouncementMode::Names => 2,
            AnnouncementMode::Tones => 1,
            AnnouncementMode::Off => 0,
        };
        self.choice(
            "announcements.mode",
            self.profile.announcements,
            &options,
            Some(rank),
        )
    }

    fn last_leader(&self) -> Result<LastLeaderAction, PluginError> {
        let options = [
            ("continue", LastLeaderAction::ContinueMeeting),
            ("end", LastLeaderAction::EndMeeting),
        ];
        self.choice(
            "meeting.on-last-leader-leave",
            self.profile.on_last_leader_leave,
            &options,
            None,
        )
    }

    fn keypad_prefix(&self) -> Result<char, PluginError> {
        self.choice(
            "keypad.prefix",
            self.profile.keypad_prefix,
            &[("*", '*'), ("#", '#')],
            None,
        )
    }

    /// The keypad map: `keypad.<command>` = a digit or `off`; each digit used once.
    fn keypad(&self) -> Result<Vec<KeypadBinding>, PluginError> {
        let mut bindings: Vec<KeypadBinding> = Vec::new();
        for (command, base) in self.profile.keypad {
            let key = format!("keypad.{}", command.name());
            let Some(digit) = self.keypad_digit(&key, base)? else {
                continue;
            };
            if let Some(taken) = bindings.iter().find(|b| b.digit == digit) {
                return Err(PluginError::InvalidInput(format!(
                    "policy document: `keypad.{}` and `{key}` both use the digit `{digit}`",
                    taken.command.name()
                )));
            }
            bindings.push(KeypadBinding {
                digit,
                command,
                leaders_only: leaders_only(command),
            });
        }
        Ok(bindings)
    }

    fn keypad_digit(&self, key: &str, base: Option<char>) -> Result<Option<char>, PluginError> {
        let Some(raw) = self.doc.get(key) else {
            return Ok(base);
        };
        let mut chars = raw.trim().chars();
        match (chars.next(), chars.next()) {
            (Some(d), None) if d.is_ascii_digit() => Ok(Some(d)),
            _ if raw.trim() == "off" => Ok(None),
            _ => Err(invalid(key, "a digit 0-9 or `off`")),
        }
    }
}

/// The error for a malformed or out-of-bounds value.
fn invalid(key: &str, what: &str) -> PluginError {
    PluginError::InvalidInput(format!("policy document: `{key}` must be {what}"))
}
