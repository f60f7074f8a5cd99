//! CSV logs: one job per row, with the columns holding the submit time (s), the run time (s)
//! and one or two demands named by the caller. Parsed with the `csv` crate.

use anyhow::{bail, Context, Result};
use whitebox_core::spec::NUM_RES;

use super::{Log, Record};

/// A column, by 1-based number or by header name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// 1-based column number.
    Number(usize),
    /// Header name (needs a header row).
    Name(String),
}

impl std::str::FromStr for Column {
    type Err = std::convert::Infallible;
    /// A whole number is a column number, anything else a header name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().parse::<usize>() {
            Ok(n) => Column::Number(n),
            Err(_) => Column::Name(s.trim().to_string()),
        })
    }
}

/// Which columns hold what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    /// Submit time, in seconds.
    pub arrival: Column,
    /// Run time, in seconds.
    pub runtime: Column,
    /// Demand per resource (one or two columns; a missing second resource is not imported).
    pub res: Vec<Column>,
    /// Whether the first row is a header.
    pub header: bool,
}

/// Parses a CSV log. An empty or negative cell means unknown. Capacity per resource: the
/// largest value in its column (so the widest job is 10 units).
///
/// # Errors
/// A column number of 0 or beyond a row, a name without a header or not in it, more than two
/// demand columns, a malformed row, or a cell that is not a number (the message names the
/// line, the column and the value).
pub fn parse(text: &str, columns: &Columns) -> Result<Log> {
    if columns.res.is_empty() || columns.res.len() > NUM_RES {
        bail!(
            "{} demand columns, the cluster has 1 to {NUM_RES} resources",
            columns.res.len()
        );
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(columns.header)
        .flexible(true)
        .from_reader(text.as_bytes());
    let names: Vec<String> = if columns.header {
        reader
            .headers()
            .context("cannot read the CSV header row")?
            .iter()
            .map(|h| h.trim().to_string())
            .collect()
    } else {
        Vec::new()
    };
    let index = |c: &Column| -> Result<usize> {
        match c {
            Column::Number(0) => bail!("column number 0: columns are numbered from 1"),
            Column::Number(n) => Ok(n - 1),
            Column::Name(name) if !columns.header => {
                bail!("column `{name}` is a name, but the file has no header row (columns are then numbered from 1)")
            }
            Column::Name(name) => names.iter().position(|h| h == name).with_context(|| {
                format!("no column `{name}` in the header ({})", names.join(", "))
            }),
        }
    };
    let arrival = index(&columns.arrival)?;
    let runtime = index(&columns.runtime)?;
    let res: Vec<usize> = columns.res.iter().map(index).collect::<Result<_>>()?;

    let mut log = Log::default();
    let mut max = [f64::NEG_INFINITY; NUM_RES];
    for row in reader.records() {
        let row = row.context("malformed CSV")?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        let cell = |col: usize| -> Result<f64> {
            let Some(text) = row.get(col) else {
                bail!(
                    "line {line}: column {} is missing, the row has {} columns",
                    col + 1,
                    row.len()
                );
            };
            let text = text.trim();
            if text.is_empty() {
                return Ok(-1.0);
            }
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => bail!("line {line}: column {} = `{text}` is not a number", col + 1),
            }
        };
        let mut demand = [-1.0; NUM_RES];
        for (k, &col) in res.iter().enumerate() {
            demand[k] = cell(col)?;
            max[k] = max[k].max(demand[k]);
        }
        log.records.push(Record {
            line,
            submit: cell(arrival)?,
            run: cell(runtime)?,
            res: demand,
            cancelled: false,
        });
    }
    for k in 0..res.len() {
        if max[k] > 0.0 {
            log.capacity[k] = Some((max[k], format!("largest value in column {}", res[k] + 1)));
        }
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(arrival: &str, runtime: &str, res: &[&str], header: bool) -> Columns {
        let c = |s: &str| s.parse::<Column>().unwrap_or(Column::Number(0));
        Columns {
            arrival: c(arrival),
            runtime: c(runtime),
            res: res.iter().map(|s| c(s)).collect(),
            header,
        }
    }

    #[test]
    fn columns_by_number_and_by_name() {
        let text = "t,job,run,cpu,mem\n5,a,30,50,0.5\n3,b,,100,1.0\n";
        let log = parse(text, &cols("t", "run", &["cpu", "mem"], true)).expect("valid");
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.records[0].line, 2);
        assert_eq!(log.records[1].run, -1.0);
        assert_eq!(log.records[1].res, [100.0, 1.0]);
        assert_eq!(log.capacity[0].as_ref().map(|c| c.0), Some(100.0));
        let by_number = parse("5,a,30,50\n", &cols("1", "3", &["4"], false)).expect("valid");
        assert_eq!(by_number.records[0].res, [50.0, -1.0]);
        assert_eq!(by_number.capacity[1], None);
    }

    #[test]
    fn bad_cells_and_columns_are_named() {
        let err = |text: &str, c: Columns| {
            parse(text, &c)
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default()
        };
        let e = err("5,a,30,50\n6,b,x7,50\n", cols("1", "3", &["4"], false));
        assert!(
            e.contains("line 2") && e.contains("column 3") && e.contains("`x7`"),
            "{e}"
        );
        let e = err("5,a,30\n", cols("1", "3", &["4"], false));
        assert!(
            e.contains("line 1") && e.contains("column 4 is missing"),
            "{e}"
        );
        let e = err("5,a,30\n", cols("1", "run", &["4"], false));
        assert!(e.contains("`run`") && e.contains("no header"), "{e}");
        let e = err("t,run\n5,30\n", cols("t", "run", &["cpu"], true));
        assert!(e.contains("no column `cpu`") && e.contains("t, run"), "{e}");
        let e = err("5,30\n", cols("1", "2", &["0"], false));
        assert!(e.contains("column number 0"), "{e}");
    }
}
