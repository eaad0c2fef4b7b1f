//! The actions the attendant builds: prompt lists and digit collection specs.
//!
//! Every prompt name used here is in the host's catalogue
//! (`plenum_plugin_api::attendant::PROMPTS`); a test checks it.

use plenum_sdk::prelude::*;

/// Longest name recording, in milliseconds.
pub const NAME_RECORDING_MS: u32 = 5_000;
/// Most digits of a conference ID (Lync IDs are far shorter; this only bounds the entry).
pub const MAX_ID_DIGITS: u8 = 20;
/// Most digits of an extension or full phone number (E.164 has 15, plus prefixes).
pub const MAX_EXTENSION_DIGITS: u8 = 20;
/// Most digits of a PIN (Lync's PIN length bound).
pub const MAX_PIN_DIGITS: u8 = 24;
/// Most digits of a passcode (UCMA's bound).
pub const MAX_PASSCODE_DIGITS: u8 = 16;
/// Most languages in the menu (digits 1–9; an access number has at most 5).
pub const MAX_MENU_LANGUAGES: usize = 9;

/// Prompts that invite input (a key press interrupts them).
pub fn ask(names: &[&str]) -> Action {
    Action::play(names, true)
}

/// Prompts to hear out (no barge-in).
pub fn say(names: &[&str]) -> Action {
    Action::play(names, false)
}

/// A play of arbitrary items that invites input.
pub fn ask_items(items: Vec<PromptItem>) -> Action {
    Action::Play(PlaySpec {
        items,
        barge_in: true,
    })
}

/// Catalogue prompts as items.
pub fn items(names: &[&str]) -> Vec<PromptItem> {
    names
        .iter()
        .map(|n| PromptItem::Prompt((*n).to_owned()))
        .collect()
}

/// The language menu: for each language, "for <language> press" in that language, then the
/// digit.
pub fn language_menu(languages: &[String]) -> Vec<PromptItem> {
    languages
        .iter()
        .take(MAX_MENU_LANGUAGES)
        .enumerate()
        .flat_map(|(i, lang)| {
            [
                PromptItem::Localized((lang.clone(), "language-option".to_owned())),
                PromptItem::Digits((i + 1).to_string()),
            ]
        })
        .collect()
}

/// One key, no terminator (the language menu).
pub fn one_key() -> CollectSpec {
    CollectSpec {
        terminator: None,
        ..CollectSpec::hash_terminated(1)
    }
}

/// One key or `#` alone (the leader prompt: `*`, `#`, or the passcode's first digit).
pub fn leader_key() -> CollectSpec {
    CollectSpec::hash_terminated(1)
}

/// The conference ID, `#` ends.
pub fn conference_id() -> CollectSpec {
    CollectSpec::hash_terminated(MAX_ID_DIGITS)
}

/// The passcode, `#` ends.
pub fn passcode() -> CollectSpec {
    CollectSpec::hash_terminated(MAX_PASSCODE_DIGITS)
}

/// The rest of the passcode after its first digit, `#` ends.
pub fn passcode_rest() -> CollectSpec {
    CollectSpec::hash_terminated(MAX_PASSCODE_DIGITS - 1)
}

/// The extension or phone number, `#` ends.
pub fn extension() -> CollectSpec {
    CollectSpec::hash_terminated(MAX_EXTENSION_DIGITS)
}

/// The PIN, `#` ends.
pub fn pin() -> CollectSpec {
    CollectSpec::hash_terminated(MAX_PIN_DIGITS)
}

/// "Too many attempts, goodbye", after `note` (what went wrong last), then hang up.
pub fn goodbye_after(note: &str) -> Vec<Action> {
    vec![say(&[note, "too-many-attempts", "goodbye"]), Action::HangUp]
}

/// Whether `digits` is non-empty and only `0`–`9`.
pub fn all_digits(digits: &str) -> bool {
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
