//! xs:dateTime ↔ Unix seconds, by hand (proleptic Gregorian calendar, no leap seconds).
//!
//! The writer always gives UTC with a `Z` and whole seconds (`2026-11-24T18:00:00Z`). The reader
//! also accepts fractional seconds (cut, not rounded), `+hh:mm`/`-hh:mm` offsets, `24:00:00`, and
//! no zone at all (taken as UTC, which is what C3P's expiry-time means).

/// The text is not an xs:dateTime we can read, or it is out of the `i64` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid xs:dateTime")]
pub struct TimeError;

/// Parse an xs:dateTime into Unix seconds.
pub fn parse_date_time(s: &str) -> Result<i64, TimeError> {
    let mut c = Cursor {
        s: s.trim().as_bytes(),
        i: 0,
    };
    let negative = c.eat(b'-');
    let year_digits = c.digits_len();
    if !(4..=12).contains(&year_digits) {
        return Err(TimeError);
    }
    let year = c.number(year_digits)?;
    let year = if negative { -year } else { year };
    c.expect(b'-')?;
    let month = c.number(2)?;
    c.expect(b'-')?;
    let day = c.number(2)?;
    c.expect(b'T')?;
    let hour = c.number(2)?;
    c.expect(b':')?;
    let minute = c.number(2)?;
    c.expect(b':')?;
    let second = c.number(2)?;
    if c.eat(b'.') && c.digits_len() == 0 {
        return Err(TimeError);
    }
    c.skip_digits();
    let offset = c.zone()?;
    if c.i != c.s.len() {
        return Err(TimeError);
    }
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (hour < 24 && minute < 60 && second < 60 || hour == 24 && minute == 0 && second == 0);
    if !valid {
        return Err(TimeError);
    }
    let days = days_from_civil(year, month, day).ok_or(TimeError)?;
    let clock = hour * 3600 + minute * 60 + second - offset;
    days.checked_mul(86_400)
        .and_then(|d| d.checked_add(clock))
        .ok_or(TimeError)
}

/// Format Unix seconds as an xs:dateTime in UTC, e.g. `2026-11-24T18:00:00Z`.
pub fn format_date_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let sign = if year < 0 { "-" } else { "" };
    format!(
        "{sign}{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        year.unsigned_abs(),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, b: u8) -> Result<(), TimeError> {
        if self.eat(b) { Ok(()) } else { Err(TimeError) }
    }

    fn digits_len(&self) -> usize {
        self.s
            .get(self.i..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    }

    fn skip_digits(&mut self) {
        self.i += self.digits_len();
    }

    /// Exactly `n` digits as a number.
    fn number(&mut self, n: usize) -> Result<i64, TimeError> {
        if self.digits_len() < n {
            return Err(TimeError);
        }
        let mut v: i64 = 0;
        for _ in 0..n {
            let d = self.peek().ok_or(TimeError)?;
            v = v * 10 + i64::from(d - b'0');
            self.i += 1;
        }
        Ok(v)
    }

    /// The zone as seconds east of UTC: none or `Z` is 0.
    fn zone(&mut self) -> Result<i64, TimeError> {
        let sign = match self.peek() {
            None => return Ok(0),
            Some(b'Z') => {
                self.i += 1;
                return Ok(0);
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            Some(_) => return Err(TimeError),
        };
        self.i += 1;
        let hours = self.number(2)?;
        self.expect(b':')?;
        let minutes = self.number(2)?;
        if hours > 14 || minutes > 59 || hours == 14 && minutes > 0 {
            return Err(TimeError);
        }
        Ok(sign * (hours * 3600 + minutes * 60))
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (H. Hinnant's algorithm); `None` only on overflow.
fn days_from_civil(year: i64, month: i64, day: i64) -> Option<i64> {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // `days` is at most |i64::MAX / 86400|, so the shift below cannot overflow.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_date_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_date_time("2026-11-24T18:00:00Z"), Ok(1_795_543_200));
        assert_eq!(format_date_time(1_795_543_200), "2026-11-24T18:00:00Z");
        assert_eq!(parse_date_time("2009-07-13T17:57:09Z"), Ok(1_247_507_829));
        assert_eq!(parse_date_time("2000-02-29T12:00:00Z"), Ok(951_825_600));
        assert_eq!(format_date_time(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn lenient_forms() {
        let t = 1_795_543_200;
        assert_eq!(parse_date_time("2026-11-24T18:00:00.999Z"), Ok(t));
        assert_eq!(parse_date_time("2026-11-24T19:30:00+01:30"), Ok(t));
        assert_eq!(parse_date_time("2026-11-24T10:00:00-08:00"), Ok(t));
        assert_eq!(parse_date_time(" 2026-11-24T18:00:00 "), Ok(t));
        assert_eq!(parse_date_time("2026-11-23T24:00:00Z"), Ok(t - 18 * 3600));
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "2026-11-24",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-24T18:00:60Z",
            "2026-11-24T24:00:01Z",
            "2026-11-24T18:00:00.Z",
            "2026-11-24T18:00:00+15:00",
            "2026-11-24T18:00:00Zjunk",
            "26-11-24T18:00:00Z",
            "999999999999-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_date_time(bad), Err(TimeError), "{bad}");
        }
    }

    #[test]
    fn round_trip_over_a_wide_range() {
        let mut t: i64 = -80_000_000_000;
        while t < 80_000_000_000 {
            assert_eq!(parse_date_time(&format_date_time(t)), Ok(t), "{t}");
            t += 7_777_777;
        }
        for t in [i64::MIN / 2, i64::MAX / 2, 0, 253_402_300_799] {
            let s = format_date_time(t);
            if let Ok(back) = parse_date_time(&s) {
                assert_eq!(back, t);
            }
        }
    }
}
