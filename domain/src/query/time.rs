//! Times in the query language: an instant (`2026-12-01`, `2026-12-01T10:00Z`,
//! `2026-12-01T10:00:30+02:00`) or an age (`30m`, `1h`, `7d`), read without a
//! date library (the crate builds for wasm with serde alone).

/// A unit of an age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl Unit {
    pub fn suffix(self) -> char {
        match self {
            Unit::Seconds => 's',
            Unit::Minutes => 'm',
            Unit::Hours => 'h',
            Unit::Days => 'd',
            Unit::Weeks => 'w',
        }
    }

    pub fn ms(self) -> i64 {
        match self {
            Unit::Seconds => 1_000,
            Unit::Minutes => 60_000,
            Unit::Hours => 3_600_000,
            Unit::Days => 86_400_000,
            Unit::Weeks => 7 * 86_400_000,
        }
    }

    fn from_suffix(c: char) -> Option<Unit> {
        [Unit::Seconds, Unit::Minutes, Unit::Hours, Unit::Days, Unit::Weeks].into_iter().find(|u| u.suffix() == c)
    }
}

/// The longest age a query may name (a year and a bit).
pub const MAX_AGE_MS: i64 = 400 * 86_400_000;

/// An age: `n` units before the query runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Age {
    pub n: u32,
    pub unit: Unit,
}

impl Age {
    pub fn ms(self) -> i64 {
        i64::from(self.n) * self.unit.ms()
    }

    /// `30m`; `None` when it is not an age or is longer than [`MAX_AGE_MS`].
    pub fn parse(s: &str) -> Option<Age> {
        let unit = Unit::from_suffix(s.chars().last()?)?;
        let digits = &s[..s.len() - 1];
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let age = Age { n: digits.parse().ok()?, unit };
        (age.n > 0 && age.ms() <= MAX_AGE_MS).then_some(age)
    }
}

impl std::fmt::Display for Age {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.n, self.unit.suffix())
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn num(s: &str, len: usize, lo: i64, hi: i64) -> Option<i64> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    (lo..=hi).contains(&v).then_some(v)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A date alone (`2026-12-01`): the first millisecond of that UTC day.
pub fn parse_date(s: &str) -> Option<i64> {
    let (y, rest) = s.split_once('-')?;
    let (m, d) = rest.split_once('-')?;
    let (y, m) = (num(y, 4, 1970, 9999)?, num(m, 2, 1, 12)?);
    let d = num(d, 2, 1, days_in_month(y, m))?;
    Some(days_from_civil(y, m, d) * 86_400_000)
}

/// A date and time with a zone: `2026-12-01T10:00Z`, `…T10:00:30Z`,
/// `…T10:00+02:00`; milliseconds since the epoch.
pub fn parse_instant(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(['T', 't'])?;
    let day = parse_date(date)?;
    let (clock, offset_ms) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (c, sign * (num(oh, 2, 0, 14)? * 60 + num(om, 2, 0, 59)?) * 60_000)
    };
    let mut parts = clock.split(':');
    let h = num(parts.next()?, 2, 0, 23)?;
    let mi = num(parts.next()?, 2, 0, 59)?;
    let sec = match parts.next() {
        Some(p) => num(p, 2, 0, 59)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(day + ((h * 60 + mi) * 60 + sec) * 1000 - offset_ms)
}

/// The canonical text of an instant: `2026-12-01T10:00Z` (seconds only
/// when not zero), which [`parse_instant`] reads back to the same value.
pub fn format_instant(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000) / 1000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s) = (rem / 3600, rem / 60 % 60, rem % 60);
    if s == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

/// The canonical text of a day that starts at `ms`.
pub fn format_date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_read_and_print_back() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_instant("1970-01-01T00:01Z"), Some(60_000));
        assert_eq!(parse_instant("2026-12-01T10:00Z"), Some(1_796_119_200_000));
        assert_eq!(parse_instant("2026-12-01T12:00+02:00"), parse_instant("2026-12-01T10:00Z"));
        assert_eq!(format_instant(1_796_119_200_000), "2026-12-01T10:00Z");
        assert_eq!(format_instant(1_796_119_230_000), "2026-12-01T10:00:30Z");
        assert_eq!(format_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
        for bad in ["2026-13-01", "2026-02-30", "2025-02-29", "2026-1-01", "26-12-01", "2026-12-01T25:00Z", "2026-12-01T10:00", "2026-12-01T10Z", "1969-12-31"] {
            assert_eq!(parse_date(bad).or(parse_instant(bad)), None, "{bad}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(Age::parse("30m").map(Age::ms), Some(1_800_000));
        assert_eq!(Age::parse("2w").map(|a| a.to_string()), Some("2w".into()));
        for bad in ["", "m", "0h", "1y", "-1h", "1.5h", "401d", "9999999s"] {
            assert_eq!(Age::parse(bad), None, "{bad}");
        }
    }
}
