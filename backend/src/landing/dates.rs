//! Dates as people read them on the link pages: `5 December 2026, 16:25 UTC`. The page has
//! no script to learn the reader's time zone, so it says UTC plainly.

use keyway_api::calendar::civil_from_days;

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

/// Unix seconds as `5 December 2026, 16:25 UTC`.
pub fn utc(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let month = MONTHS.get((month as usize).saturating_sub(1)).copied().unwrap_or("January");
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
