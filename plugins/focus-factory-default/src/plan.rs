//! Validating and completing addConference and modifyConference.
//!
//! Both build a [`Draft`] (the request, or the stored meeting merged with the request's given
//! fields) and run the same checks on it, in this order; the first that fails is the refusal:
//!
//! 1. dial-in wanted but the tenant has no dial-in → `notSupported`;
//! 2. (add only) the organizer owns `max-meetings-per-organizer` meetings →
//!    `maximumConferencesExceeded`;
//! 3. (add) a given meeting ID must be 8–32 ASCII letters and digits, else one is generated;
//!    (modify) the meeting ID never changes → `invalidConferenceId`;
//! 4. expiry (default now + `default-expiry-secs`) must lie in [now, now + `max-expiry-secs`] →
//!    `invalidExpiryTime`;
//! 5. admission (default `anonymous` for dial-in meetings, else `openAuthenticated`) must be one
//!    the capabilities offer → `invalidAdmissionPolicy`;
//! 6. PSTN lobby bypass (default off) may be asked for only when the policy allows it →
//!    `pstnLobbyBypassNotAllowed`;
//! 7. a passcode must be digits (letters and digits for meetings without dial-in) within the
//!    policy's length bounds → `invalidPasscode`; a dial-in meeting without one gets a generated
//!    one when the policy requires it;
//! 8. a dial-in meeting gets a PSTN ID base once ([`crate::generate::pstn_base`]); it never
//!    changes afterwards.

use plenum_sdk::prelude::*;

use crate::{admission_policies, generate};

/// The subject of a meeting that was given none.
pub const DEFAULT_SUBJECT: &str = "Meeting";

/// Shortest and longest meeting ID (C3P `msci:conference-id`).
const ID_LENGTH: std::ops::RangeInclusive<usize> = 8..=32;

/// A meeting being completed.
#[derive(Debug, Clone)]
struct Draft {
    conference_id: String,
    subject: Option<String>,
    pstn_access: bool,
    pstn_base: Option<String>,
    passcode: Option<String>,
    expiry: Option<Timestamp>,
    admission: Option<AdmissionPolicy>,
    lobby_bypass: Option<bool>,
}

/// Validate and complete an addConference.
pub fn complete_add(
    ctx: &ScheduleContext,
    req: ConferenceRequest,
) -> Result<ConferencePlan, Refusal> {
    check_dial_in(ctx, req.pstn_access)?;
    if ctx.organizer_meetings >= ctx.settings.max_meetings_per_organizer {
        return Err(refuse(
            RefusalReason::MaximumConferencesExceeded,
            &format!(
                "the organizer already owns {} meetings",
                ctx.organizer_meetings
            ),
        ));
    }
    let conference_id = match req.conference_id {
        Some(id) => valid_id(id)?,
        None => generate::conference_id(&ctx.entropy)?,
    };
    complete(
        ctx,
        Draft {
            conference_id,
            subject: req.subject,
            pstn_access: req.pstn_access,
            pstn_base: None,
            passcode: req.passcode.filter(|p| !p.is_empty()),
            expiry: req.expiry,
            admission: req.admission,
            lobby_bypass: req.lobby_bypass,
        },
    )
}

/// Validate and complete a modifyConference of `current`: fields the request gives replace the
/// current ones, the rest stay. An empty passcode removes the passcode (a new one is generated
/// if the policy requires one). `pstn-access` can add dial-in but not remove it, since the
/// request cannot tell "absent" from "off".
pub fn complete_modify(
    ctx: &ScheduleContext,
    current: ConferencePlan,
    req: ConferenceRequest,
) -> Result<ConferencePlan, Refusal> {
    if req
        .conference_id
        .as_ref()
        .is_some_and(|id| *id != current.conference_id)
    {
        return Err(refuse(
            RefusalReason::InvalidConferenceId,
            "the meeting ID cannot change",
        ));
    }
    let pstn_access = current.pstn_access || req.pstn_access;
    check_dial_in(ctx, pstn_access)?;
    let passcode = match req.passcode {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(p),
        None => current.passcode,
    };
    complete(
        ctx,
        Draft {
            conference_id: current.conference_id,
            subject: req.subject.or(Some(current.subject)),
            pstn_access,
            pstn_base: current.pstn_base,
            passcode,
            expiry: req.expiry.or(Some(current.expiry)),
            admission: req.admission.or(Some(current.admission)),
            lobby_bypass: req.lobby_bypass.or(Some(current.lobby_bypass)),
        },
    )
}

/// The checks and defaults both commands share (steps 4–8).
fn complete(ctx: &ScheduleContext, d: Draft) -> Result<ConferencePlan, Refusal> {
    let expiry = expiry(ctx, d.expiry)?;
    let admission = admission(ctx, d.admission, d.pstn_access)?;
    let lobby_bypass = lobby_bypass(ctx, d.lobby_bypass)?;
    let passcode = passcode(ctx, d.passcode, d.pstn_access)?;
    let pstn_base = match (d.pstn_access, d.pstn_base) {
        (false, _) => None,
        (true, Some(base)) => Some(base),
        (true, None) => Some(generate::pstn_base(&ctx.entropy, ctx.pstn_sequence)?),
    };
    let subject = d
        .subject
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SUBJECT.to_owned());
    Ok(ConferencePlan {
        conference_id: d.conference_id,
        subject,
        pstn_access: d.pstn_access,
        pstn_base,
        passcode,
        expiry,
        admission,
        lobby_bypass,
    })
}

fn check_dial_in(ctx: &ScheduleContext, pstn_access: bool) -> Result<(), Refusal> {
    if pstn_access && !ctx.pstn_enabled {
        return Err(refuse(
            RefusalReason::NotSupported,
            "dial-in is not enabled for this tenant",
        ));
    }
    Ok(())
}

/// Whether `id` is a valid meeting ID: 8–32 ASCII letters and digits.
pub fn is_valid_id(id: &str) -> bool {
    ID_LENGTH.contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn valid_id(id: String) -> Result<String, Refusal> {
    if is_valid_id(&id) {
        Ok(id)
    } else {
        Err(refuse(
            RefusalReason::InvalidConferenceId,
            "a meeting ID is 8 to 32 ASCII letters and digits",
        ))
    }
}

fn expiry(ctx: &ScheduleContext, asked: Option<Timestamp>) -> Result<Timestamp, Refusal> {
    let s = &ctx.settings;
    let Some(t) = asked else {
        return Ok(ctx.now.saturating_add(i64::from(s.default_expiry_secs)));
    };
    if t < ctx.now {
        return Err(refuse(
            RefusalReason::InvalidExpiryTime,
            "the expiry time has passed",
        ));
    }
    if t > ctx.now.saturating_add(i64::from(s.max_expiry_secs)) {
        let detail = format!("a meeting may live at most {} seconds", s.max_expiry_secs);
        return Err(refuse(RefusalReason::InvalidExpiryTime, &detail));
    }
    Ok(t)
}

fn admission(
    ctx: &ScheduleContext,
    asked: Option<AdmissionPolicy>,
    pstn_access: bool,
) -> Result<AdmissionPolicy, Refusal> {
    let default = if pstn_access {
        AdmissionPolicy::Anonymous
    } else {
        AdmissionPolicy::OpenAuthenticated
    };
    let policy = asked.unwrap_or(default);
    if admission_policies(ctx).contains(&policy) {
        Ok(policy)
    } else {
        let detail = format!("admission policy {} is not offered", policy.c3p_name());
        Err(refuse(RefusalReason::InvalidAdmissionPolicy, &detail))
    }
}

fn lobby_bypass(ctx: &ScheduleContext, asked: Option<bool>) -> Result<bool, Refusal> {
    match asked {
        Some(true) if !ctx.settings.lobby_bypass_allowed => Err(refuse(
            RefusalReason::PstnLobbyBypassNotAllowed,
            "the meeting policy does not allow PSTN lobby bypass",
        )),
        Some(b) => Ok(b),
        None => Ok(false),
    }
}

fn passcode(
    ctx: &ScheduleContext,
    given: Option<String>,
    pstn: bool,
) -> Result<Option<String>, Refusal> {
    let rule = ctx.settings.passcode;
    let Some(code) = given else {
        if pstn && rule.required {
            let len = rule.min_length.max(4).min(rule.max_length).max(1);
            return generate::passcode(&ctx.entropy, usize::from(len)).map(Some);
        }
        return Ok(None);
    };
    let chars_ok = if pstn {
        code.bytes().all(|b| b.is_ascii_digit())
    } else {
        code.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    if !chars_ok {
        let what = if pstn {
            "digits only for a dial-in meeting"
        } else {
            "letters and digits only"
        };
        return Err(refuse(
            RefusalReason::InvalidPasscode,
            &format!("a passcode is {what}"),
        ));
    }
    let (min, max) = (usize::from(rule.min_length), usize::from(rule.max_length));
    if !(min..=max).contains(&code.len()) {
        let detail = format!("a passcode has {min} to {max} characters");
        return Err(refuse(RefusalReason::InvalidPasscode, &detail));
    }
    Ok(Some(code))
}

fn refuse(reason: RefusalReason, detail: &str) -> Refusal {
    Refusal::new(reason, detail)
}
