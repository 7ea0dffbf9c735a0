//! Ids and times as operators read them: short monospace ids with the full
//! id on hover and a copy button; relative times with the absolute time on
//! hover; URL encoding of ids (execution ids contain `{`, `}` and `:`).
use leptos::prelude::*;

/// Percent-encode a path segment (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn flow_href(id: &str) -> String {
    format!("/flows/{}", encode(id))
}

pub fn execution_href(id: &str) -> String {
    format!("/executions/{}", encode(id))
}

/// `{fp:12}:3f2a9c1e-…` → `fp12·3f2a9c1e`.
pub fn short_id(id: &str) -> String {
    let (prefix, uuid) = match id.strip_prefix("{fp:").and_then(|r| r.split_once("}:")) {
        Some((p, u)) => (format!("fp{p}·"), u),
        None => (String::new(), id),
    };
    format!("{prefix}{}", uuid.chars().take(8).collect::<String>())
}

/// A short id with the full id on hover and a copy button. The button
/// carries the id (`data-copy`); one listener for the whole page copies
/// it (`components::shortcuts`), so an id costs no handler of its own and
/// works in server-rendered HTML too.
#[component]
pub fn Id(#[prop(into)] id: String, #[prop(optional, into)] href: Option<String>) -> impl IntoView {
    let short = short_id(&id);
    let class = if href.is_some() { "text-blue-700 hover:underline dark:text-blue-300" } else { "" };
    view! {
        <span class="inline-flex items-center gap-1">
            <a class=class href=href><span class="font-mono text-xs" title=id.clone()>{short}</span></a>
            <button type="button" data-copy=id class="text-slate-500 hover:text-slate-700 text-xs dark:text-slate-400" title="copy id" aria-label="copy id">"❐"</button>
        </span>
    }
}

/// "3 min ago" / "in 12 s" relative to `now` (both ms).
pub fn relative(t: i64, now: i64) -> String {
    let d = (now - t) / 1000;
    let (n, unit) = match d.abs() {
        s if s < 60 => (s, "s"),
        s if s < 3600 => (s / 60, "min"),
        s if s < 86_400 => (s / 3600, "h"),
        s => (s / 86_400, "d"),
    };
    if d >= 0 { format!("{n} {unit} ago") } else { format!("in {n} {unit}") }
}

/// ISO-8601 UTC of a ms timestamp.
pub fn iso(t: i64) -> String {
    let secs = t.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A relative time with the absolute one on hover.
#[component]
pub fn Time(t: i64, now: i64) -> impl IntoView {
    view! { <time class="whitespace-nowrap" title=iso(t) datetime=t.to_string()>{relative(t, now)}</time> }
}

/// A stored value as shown: epoch-millisecond timestamps (a `*_at` /
/// `*_ms` key holding a number after 2001) as a relative time with the UTC
/// time on hover, anything else as it is.
#[component]
pub fn StoredValue(key: String, value: String, now: i64) -> impl IntoView {
    match epoch_ms(&key, &value) {
        Some(t) => view! { <Time t=t now=now/> }.into_any(),
        None => view! { <span class="font-mono text-xs">{value}</span> }.into_any(),
    }
}

/// The epoch milliseconds a stored field holds, if it is a time.
pub fn epoch_ms(key: &str, value: &str) -> Option<i64> {
    let timeish = key.ends_with("_at") || key.ends_with("_ms") || key.ends_with("_at_ms");
    let t: i64 = value.trim().parse().ok()?;
    (timeish && t > 1_000_000_000_000).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_among_stored_fields() {
        assert_eq!(epoch_ms("started_at", "1796151800977"), Some(1_796_151_800_977));
        assert_eq!(epoch_ms("completed_at_ms", "1796151827419"), Some(1_796_151_827_419));
        assert_eq!(epoch_ms("started_at", "0"), None, "unset");
        assert_eq!(epoch_ms("attempt_index", "1796151800977"), None, "not a time field");
        assert_eq!(epoch_ms("started_at", "soon"), None);
    }

    #[test]
    fn encodes_execution_ids() {
        assert_eq!(encode("{fp:3}:ab-c"), "%7Bfp%3A3%7D%3Aab-c");
        assert_eq!(execution_href("{fp:0}:x"), "/executions/%7Bfp%3A0%7D%3Ax");
        assert_eq!(decode("%7Bfp%3A3%7D%3Aab-c"), "{fp:3}:ab-c");
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn formats_times() {
        assert_eq!(iso(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(iso(1_700_000_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(relative(0, 180_000), "3 min ago");
        assert_eq!(relative(20_000, 8_000), "in 12 s");
        assert_eq!(short_id("{fp:12}:3f2a9c1e-0000"), "fp12·3f2a9c1e");
    }
}

/// Percent-decode a path segment (leaves malformed escapes as they are).
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
