//! Dates on the command line: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, each naming a period of days.

use chrono::NaiveDate;

/// A period of whole days named on the command line. `--since` takes its first day, `--until`
/// its last (so `--until 2017-07` includes July 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day of the period.
    pub first: NaiveDate,
    /// The last day of the period.
    pub last: NaiveDate,
}

impl Period {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Period, String> {
        let bad = || format!("expected YYYY, YYYY-MM or YYYY-MM-DD, found {text:?}");
        let parts: Vec<&str> = text.trim().split('-').collect();
        let number = |part: &str, digits: usize| -> Result<u32, String> {
            if part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        match parts.as_slice() {
            [year] => {
                let year = number(year, 4)? as i32;
                let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad)?;
                let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(bad)?;
                Ok(Period { first, last })
            }
            [year, month] => {
                let (year, month) = (number(year, 4)? as i32, number(month, 2)?);
                let first = NaiveDate::from_ymd_opt(year, month, 1)
                    .ok_or_else(|| format!("{text:?} is not a valid month"))?;
                let next = if month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)
                };
                let last = next.and_then(|d| d.pred_opt()).ok_or_else(bad)?;
                Ok(Period { first, last })
            }
            [year, month, day] => {
                let (year, month, day) =
                    (number(year, 4)? as i32, number(month, 2)?, number(day, 2)?);
                let day = NaiveDate::from_ymd_opt(year, month, day)
                    .ok_or_else(|| format!("{text:?} is not a valid date"))?;
                Ok(Period {
                    first: day,
                    last: day,
                })
            }
            _ => Err(bad()),
        }
    }
}

/// Parses one day, `YYYY-MM-DD` only.
pub fn parse_day(text: &str) -> Result<NaiveDate, String> {
    let period = Period::parse(text)?;
    if period.first == period.last && text.trim().len() == 10 {
        Ok(period.first)
    } else {
        Err(format!("expected a day as YYYY-MM-DD, found {text:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_year_runs_from_january_first_to_december_last() {
        assert_eq!(
            Period::parse("2017"),
            Ok(Period {
                first: day(2017, 1, 1),
                last: day(2017, 12, 31)
            })
        );
    }

    #[test]
    fn a_month_includes_its_last_day() {
        assert_eq!(Period::parse("2017-07").unwrap().last, day(2017, 7, 31));
        assert_eq!(Period::parse("2017-06").unwrap().last, day(2017, 6, 30));
        assert_eq!(Period::parse("2017-06").unwrap().first, day(2017, 6, 1));
        assert_eq!(Period::parse("2017-12").unwrap().last, day(2017, 12, 31));
    }

    #[test]
    fn february_knows_leap_years() {
        assert_eq!(Period::parse("2016-02").unwrap().last, day(2016, 2, 29));
        assert_eq!(Period::parse("2017-02").unwrap().last, day(2017, 2, 28));
        assert_eq!(Period::parse("2000-02").unwrap().last, day(2000, 2, 29));
        assert_eq!(Period::parse("1900-02").unwrap().last, day(1900, 2, 28));
        assert!(Period::parse("2017-02-29").is_err());
        assert_eq!(Period::parse("2016-02-29").unwrap().first, day(2016, 2, 29));
    }

    #[test]
    fn a_day_is_a_period_of_one_day() {
        let p = Period::parse("2017-06-20").unwrap();
        assert_eq!((p.first, p.last), (day(2017, 6, 20), day(2017, 6, 20)));
    }

    #[test]
    fn malformed_dates_are_refused() {
        for bad in [
            "",
            "17",
            "2017-6",
            "2017-13",
            "2017-00",
            "2017-06-31",
            "2017/06",
            "2017-06-20-1",
            "x017",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn parse_day_takes_only_full_dates() {
        assert_eq!(parse_day("2017-06-20"), Ok(day(2017, 6, 20)));
        assert!(parse_day("2017-06").is_err());
        assert!(parse_day("2017").is_err());
    }
}
