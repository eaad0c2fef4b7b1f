//! A minimal iCalendar (RFC 5545) writer for meeting invitations: one `VCALENDAR` with
//! `METHOD:REQUEST` (RFC 5546) holding one `VEVENT`.
//!
//! It writes what RFC 5545 §3.1 asks of every content line: CRLF line ends, lines folded at 75
//! octets (never inside a UTF-8 character) with a single space opening each continuation, and
//! TEXT values escaped (`\\`, `\;`, `\,`, `\n`, §3.3.11). Times are UTC (`…Z`). Hand-written
//! rather than a dependency: the `icalendar` crate would bring chrono and a parser for the
//! thirty lines this needs.

/// One event of an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `UID`: unique and stable for the meeting.
    pub uid: String,
    /// `DTSTAMP`: when the invitation was made (Unix seconds).
    pub stamp: i64,
    /// `DTSTART` (Unix seconds).
    pub start: i64,
    /// `DTEND` (Unix seconds).
    pub end: i64,
    /// `SUMMARY`.
    pub summary: String,
    /// `ORGANIZER`: a URI (e.g. `sip:alice@contoso.example`).
    pub organizer: String,
    /// `LOCATION`, when there is one.
    pub location: Option<String>,
    /// `DESCRIPTION`: the invitation text (newlines allowed).
    pub description: String,
}

/// The whole `.ics` document for `event`.
pub fn request(event: &Event) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| {
        out.push_str(&fold(&format!("{name}:{value}")));
        out.push_str("\r\n");
    };
    line("BEGIN", "VCALENDAR");
    line("VERSION", "2.0");
    line(
        "PRODID",
        &format!("-//Plenum//Plenum {}//EN", env!("CARGO_PKG_VERSION")),
    );
    line("METHOD", "REQUEST");
    line("BEGIN", "VEVENT");
    line("UID", &text(&event.uid));
    line("DTSTAMP", &date_time(event.stamp));
    line("DTSTART", &date_time(event.start));
    line("DTEND", &date_time(event.end));
    line("SUMMARY", &text(&event.summary));
    line("ORGANIZER", &event.organizer);
    if let Some(l) = &event.location {
        line("LOCATION", &text(l));
    }
    line("DESCRIPTION", &text(&event.description));
    line("STATUS", "CONFIRMED");
    line("SEQUENCE", "0");
    line("END", "VEVENT");
    line("END", "VCALENDAR");
    out
}

/// A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, line ends as `\n`.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A UTC DATE-TIME (`20261124T180000Z`).
pub fn date_time(unix: i64) -> String {
    // xs:dateTime in UTC is `2026-11-24T18:00:00Z`: drop the separators.
    plenum_c3p::format_date_time(unix).replace(['-', ':'], "")
}

/// Fold one content line (without its CRLF) at 75 octets: continuation lines start with a
/// space, and neither a UTF-8 character nor a TEXT escape (`\n`, `\,`, …) is split (the RFC
/// allows the latter, but naive readers stumble on it).
pub fn fold(line: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / LIMIT * 3);
    let mut used = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        let mut unit = String::from(c);
        if c == '\\' {
            unit.extend(chars.next());
        }
        if used + unit.len() > LIMIT {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push_str(&unit);
        used += unit.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            uid: "TPDD8VYG.alice@contoso.example".into(),
            stamp: 1_795_510_800,
            start: 1_795_510_800,
            end: 1_795_543_200,
            summary: "Weekly sync; planning, review".into(),
            organizer: "sip:alice@contoso.example".into(),
            location: Some("+14255550100".into()),
            description: "Join by phone:\n+14255550100 (en-US, de-DE)\nConference ID: 71234569"
                .into(),
        }
    }

    #[test]
    fn escapes_text() {
        assert_eq!(text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(text("one\ntwo\r\nthree\rfour"), r"one\ntwo\nthree\nfour");
        assert_eq!(text("tab\there"), "tabhere");
        assert_eq!(text("Grüße"), "Grüße");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let short = "SUMMARY:short";
        assert_eq!(fold(short), short);
        let long = format!("DESCRIPTION:{}", "x".repeat(200));
        let folded = fold(&long);
        let lines: Vec<&str> = folded.split("\r\n").collect();
        assert!(lines.len() == 3, "{lines:?}");
        assert!(lines.iter().all(|l| l.len() <= 75));
        assert_eq!(lines[0].len(), 75);
        assert!(lines[1..].iter().all(|l| l.starts_with(' ')));
        // Unfolding (drop CRLF + one space) gives the line back.
        assert_eq!(folded.replace("\r\n ", ""), long);
        // Multi-octet characters are never cut.
        let umlauts = format!("SUMMARY:{}", "ü".repeat(80));
        let folded = fold(&umlauts);
        for l in folded.split("\r\n") {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        assert_eq!(folded.replace("\r\n ", ""), umlauts);
        // Escapes stay whole: 74 octets, then `\n` would straddle the limit.
        let escaped = format!("DESCRIPTION:{}\\nmore", "y".repeat(62));
        let folded = fold(&escaped);
        assert!(folded.contains("y\r\n \\nmore"), "{folded}");
        assert_eq!(folded.replace("\r\n ", ""), escaped);
    }

    #[test]
    fn date_times_are_utc_basic_format() {
        assert_eq!(date_time(0), "19700101T000000Z");
        assert_eq!(date_time(1_795_543_200), "20261124T180000Z");
    }

    #[test]
    fn writes_a_request_with_crlf_lines() {
        let ics = request(&event());
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF");
        assert!(!ics.replace("\r\n", "").contains('\r'), "bare CR");
        let unfolded = ics.replace("\r\n ", "");
        let lines: Vec<&str> = unfolded.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[..5],
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                &format!("PRODID:-//Plenum//Plenum {}//EN", env!("CARGO_PKG_VERSION")),
                "METHOD:REQUEST",
                "BEGIN:VEVENT"
            ]
        );
        assert!(lines.contains(&"SUMMARY:Weekly sync\\; planning\\, review"));
        assert!(lines.contains(&"DTEND:20261124T180000Z"));
        assert!(lines.contains(&"LOCATION:+14255550100"));
        assert!(lines.contains(
            &"DESCRIPTION:Join by phone:\\n+14255550100 (en-US\\, de-DE)\\nConference ID: 71234569"
        ));
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{l}");
        }
    }
}
