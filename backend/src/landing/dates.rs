//! Dates as people read them on the link pages: `5 December 2026, 16:25 UTC`. The page has
//! no script to learn the reader's time zone, so it says UTC plainly.

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Year, month (1–12) and day of the month for a count of days since 1970-01-01
/// (proleptic Gregorian calendar; the usual era-of-400-years arithmetic).
fn civil_from_days(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, usize::try_from(month).unwrap_or(1), day)
}

/// Unix seconds as `5 December 2026, 16:25 UTC`.
pub fn utc(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let month = MONTHS.get(month - 1).copied().unwrap_or("January");
    format!("{day} {month} {year}, {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(utc(0), "1 January 1970, 00:00 UTC");
        assert_eq!(utc(1_800_000_000), "15 January 2027, 08:00 UTC");
        assert_eq!(utc(951_782_400), "29 February 2000, 00:00 UTC");
        assert_eq!(utc(1_798_761_599), "31 December 2026, 23:59 UTC");
        assert_eq!(utc(-1), "31 December 1969, 23:59 UTC");
    }
}
