//! Message times. Shown in UTC: the standard library cannot read the local time zone, and a
//! zone database is a heavy dependency for two columns of a chat line.

/// Milliseconds per day.
const DAY_MS: i64 = 86_400_000;

/// Days since the Unix epoch of a timestamp in milliseconds.
pub fn day(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(DAY_MS)
}

/// `HH:MM` of a timestamp in milliseconds (UTC).
pub fn hhmm(ts_ms: i64) -> String {
    let minutes = ts_ms.rem_euclid(DAY_MS) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `Mon 2025-01-06` for a day number (see [`day`]).
pub fn day_label(day: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let (y, m, d) = civil_from_days(day);
    let weekday = WEEKDAYS[day.rem_euclid(7) as usize];
    format!("{weekday} {y:04}-{m:02}-{d:02}")
}

/// Gregorian date of a day number (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_and_days() {
        // 2024-02-29 13:05:00 UTC
        let ts = 1_709_211_900_000;
        assert_eq!(hhmm(ts), "13:05");
        assert_eq!(day_label(day(ts)), "Thu 2024-02-29");
        assert_eq!(day_label(0), "Thu 1970-01-01");
        assert_eq!(day_label(day(ts) + 1), "Fri 2024-03-01");
        assert_eq!(hhmm(0), "00:00");
    }
}
