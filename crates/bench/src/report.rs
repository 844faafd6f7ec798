//! The result table and its JSON form.

use serde::Serialize;

/// How a figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Seconds, shown as s / ms / µs.
    Seconds,
    /// Bytes, shown as B / KB / MB / GB (decimal).
    Bytes,
    /// Articles per second.
    Rate,
    /// A plain count.
    Count,
}

/// One figure for both systems.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub section: String,
    pub metric: String,
    pub unit: Unit,
    pub sqlite: Option<f64>,
    pub morgue: Option<f64>,
    /// morgue / sqlite.
    pub ratio: Option<f64>,
}

/// A goal (of issues 7 and 15) and where we stand.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub what: String,
    pub value: String,
    pub met: bool,
}

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub machine: String,
    pub corpus: String,
    pub rows: Vec<Row>,
    pub goals: Vec<Goal>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn add(
        &mut self,
        section: &str,
        metric: &str,
        unit: Unit,
        sqlite: Option<f64>,
        morgue: Option<f64>,
    ) {
        let ratio = match (sqlite, morgue) {
            (Some(s), Some(m)) if s > 0.0 => Some(m / s),
            _ => None,
        };
        self.rows.push(Row {
            section: section.to_owned(),
            metric: metric.to_owned(),
            unit,
            sqlite,
            morgue,
            ratio,
        });
    }

    /// The value of a row, by section and metric.
    #[cfg(test)]
    pub fn get(&self, section: &str, metric: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.section == section && r.metric == metric)
    }

    pub fn goal(&mut self, goal: &str, value: String, met: bool) {
        self.goals.push(Goal {
            what: goal.to_owned(),
            value,
            met,
        });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The plain-text table.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "machine: {}", self.machine);
        let _ = writeln!(out, "corpus:  {}", self.corpus);
        let w = self
            .rows
            .iter()
            .map(|r| r.metric.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let mut section = "";
        for r in &self.rows {
            if r.section != section {
                section = &r.section;
                let _ = writeln!(out, "\n## {section}");
                let _ = writeln!(
                    out,
                    "{:<w$} | {:>12} | {:>12} | {:>7}",
                    "metric", "sqlite", "morgue", "ratio"
                );
                let _ = writeln!(out, "{:-<w$}-+-{:->12}-+-{:->12}-+-{:->7}", "", "", "", "");
            }
            let ratio = r
                .ratio
                .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"));
            let _ = writeln!(
                out,
                "{:<w$} | {:>12} | {:>12} | {:>7}",
                r.metric,
                fmt(r.unit, r.sqlite),
                fmt(r.unit, r.morgue),
                ratio
            );
        }
        if !self.goals.is_empty() {
            let _ = writeln!(out, "\n## goals (issues 7 and 15)");
            for g in &self.goals {
                let _ = writeln!(
                    out,
                    "[{}] {} — {}",
                    if g.met { "met" } else { "NOT MET" },
                    g.what,
                    g.value
                );
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\n## notes");
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

/// A figure with its unit.
pub fn fmt(unit: Unit, v: Option<f64>) -> String {
    let Some(v) = v else { return "-".to_owned() };
    match unit {
        Unit::Seconds if v >= 1.0 => format!("{v:.2} s"),
        Unit::Seconds if v >= 1e-3 => format!("{:.2} ms", v * 1e3),
        Unit::Seconds => format!("{:.1} µs", v * 1e6),
        Unit::Bytes if v >= 1e9 => format!("{:.2} GB", v / 1e9),
        Unit::Bytes if v >= 1e6 => format!("{:.1} MB", v / 1e6),
        Unit::Bytes if v >= 1e4 => format!("{:.1} KB", v / 1e3),
        Unit::Bytes => format!("{v:.0} B"),
        Unit::Rate => format!("{v:.0}/s"),
        Unit::Count => format!("{v:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_format() {
        let mut r = Report::default();
        r.add("s", "import", Unit::Seconds, Some(2.0), Some(0.5));
        r.add("s", "disk", Unit::Bytes, None, Some(1.5e6));
        assert_eq!(r.get("s", "import").unwrap().ratio, Some(0.25));
        assert_eq!(r.get("s", "disk").unwrap().ratio, None);
        assert_eq!(fmt(Unit::Seconds, Some(0.000_25)), "250.0 µs");
        assert_eq!(fmt(Unit::Bytes, Some(1.5e6)), "1.5 MB");
        let t = r.table();
        assert!(t.contains("0.25"), "{t}");
    }
}
