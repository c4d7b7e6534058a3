//! Durations as people read them in messages (`250ms`, `3s`, `2m30s`, `1h5m`) and write
//! them in settings (`5m`, `300s`, `1h 30m`, `100ms`, or a bare number of seconds).

use std::time::Duration;

/// `d` rounded to what matters at its size: milliseconds below a second, seconds below a
/// minute, then minutes and seconds, then hours and minutes.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs_f64().round() as u64;
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 if secs.is_multiple_of(60) => format!("{}m", secs / 60),
        60..=3599 => format!("{}m{}s", secs / 60, secs % 60),
        _ if secs % 3600 / 60 == 0 => format!("{}h", secs / 3600),
        _ => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
    }
}

/// A duration as written in a setting: jiff's friendly form (`5m`, `2s`, `1h 30m`,
/// `100ms`), ISO 8601 (`PT5M`) or a number of seconds (`300`). Negative ones are refused.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let signed: jiff::SignedDuration =
        text.parse().map_err(|_| format!("'{text}' is not a duration (write it as 90s, 5m or 1h 30m)"))?;
    Duration::try_from(signed).map_err(|_| format!("'{text}' is negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(show(Duration::from_millis(0)), "0ms");
        assert_eq!(show(Duration::from_millis(50)), "50ms");
        assert_eq!(show(Duration::from_millis(1499)), "1s");
        assert_eq!(show(Duration::from_secs(180)), "3m");
        assert_eq!(show(Duration::from_secs(150)), "2m30s");
        assert_eq!(show(Duration::from_secs(3900)), "1h5m");
        assert_eq!(show(Duration::from_secs(7200)), "2h");
        assert_eq!(show(Duration::MAX), "5124095576030431h", "no overflow at the largest duration");
    }

    #[test]
    fn settings_are_read_as_people_write_them() {
        assert_eq!(parse("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse("PT2S"), Ok(Duration::from_secs(2)));
        assert!(parse("-5s").unwrap_err().contains("negative"));
        assert!(parse("soon").unwrap_err().contains("not a duration"));
    }
}
