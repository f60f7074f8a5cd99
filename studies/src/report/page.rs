//! The report's page: sections of tables (each with the command and seeds that produced it and
//! the JSON file behind it) and figures, rendered as Markdown (`report.md`) and as one HTML page
//! (`index.html`) that shows the SVG figures beside it. Neither needs anything outside the
//! report directory.

use serde::Serialize;
use whitebox_runtime::stats::PairedVerdict;

/// One table of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Table {
    /// Heading.
    pub title: String,
    /// The command line(s) that produce the same numbers on their own.
    pub command: String,
    /// Which seeds or inputs the numbers come from.
    pub seeds: String,
    /// The JSON file behind the table, relative to the report directory.
    pub json: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Cells, one row per entry, as many as `columns`.
    pub rows: Vec<Vec<String>>,
}

/// One figure: an SVG file in the report directory (a PNG of the same name sits beside it).
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// Caption.
    pub title: String,
    /// The SVG file, relative to the report directory.
    pub file: String,
}

/// One section: a few sentences, its tables and its figures.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// Paragraphs of plain text, shown before the tables.
    pub text: Vec<String>,
    /// Tables, in order.
    pub tables: Vec<Table>,
    /// Figures, in order.
    pub figures: Vec<Figure>,
}

/// The page as Markdown.
pub fn markdown(title: &str, intro: &[String], sections: &[Section]) -> String {
    let mut out = format!("# {title}\n\n");
    for p in intro {
        out += &format!("{p}\n\n");
    }
    for s in sections {
        out += &format!("## {}\n\n", s.title);
        for p in &s.text {
            out += &format!("{p}\n\n");
        }
        for t in &s.tables {
            out += &format!("### {}\n\n", t.title);
            out += &format!("| {} |\n", t.columns.join(" | "));
            out += &format!("|{}\n", "---|".repeat(t.columns.len()));
            for row in &t.rows {
                let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                out += &format!("| {} |\n", cells.join(" | "));
            }
            out += &format!(
                "\nCommand:\n\n```sh\n{}\n```\n\nSeeds: {}\n\nJSON: [{}]({})\n\n",
                t.command, t.seeds, t.json, t.json
            );
        }
        for f in &s.figures {
            out += &format!("![{}]({})\n\n", f.title, f.file);
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page as one HTML document (no scripts; the figures are `<img>` of the SVG files).
pub fn html(title: &str, intro: &[String], sections: &[Section]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}}\
         table{{border-collapse:collapse;margin:0.5em 0}}td,th{{border:1px solid #999;\
         padding:0.2em 0.5em;text-align:right}}td:first-child,th:first-child{{text-align:left}}\
         pre{{background:#f4f4f4;padding:0.5em;overflow-x:auto}}img{{max-width:100%}}</style>\n\
         </head>\n<body>\n<h1>{}</h1>\n",
        esc(title),
        esc(title)
    );
    for p in intro {
        out += &format!("<p>{}</p>\n", esc(p));
    }
    for s in sections {
        out += &format!("<h2>{}</h2>\n", esc(&s.title));
        for p in &s.text {
            out += &format!("<p>{}</p>\n", esc(p));
        }
        for t in &s.tables {
            out += &format!("<h3>{}</h3>\n<table>\n<tr>", esc(&t.title));
            for c in &t.columns {
                out += &format!("<th>{}</th>", esc(c));
            }
            out += "</tr>\n";
            for row in &t.rows {
                out += "<tr>";
                for c in row {
                    out += &format!("<td>{}</td>", esc(c));
                }
                out += "</tr>\n";
            }
            out += &format!(
                "</table>\n<p>Command:</p>\n<pre>{}</pre>\n<p>Seeds: {}</p>\n\
                 <p>JSON: <a href=\"{}\">{}</a></p>\n",
                esc(&t.command),
                esc(&t.seeds),
                esc(&t.json),
                esc(&t.json)
            );
        }
        for f in &s.figures {
            out += &format!(
                "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                esc(&f.file),
                esc(&f.title),
                esc(&f.title)
            );
        }
    }
    out + "</body>\n</html>\n"
}

/// A mean with its 95% interval, `4.393 [4.064, 4.722]`, or `-` without a mean.
pub fn mean_ci(mean: Option<f64>, ci95: Option<(f64, f64)>) -> String {
    match (mean, ci95) {
        (Some(m), Some((a, b))) => format!("{m:.3} [{a:.3}, {b:.3}]"),
        (Some(m), None) => format!("{m:.3}"),
        (None, _) => "-".to_string(),
    }
}

/// A signed difference with its 95% interval, `-0.646 [-0.974, -0.318]`, or `-`.
pub fn diff_ci(mean: Option<f64>, ci95: Option<(f64, f64)>) -> String {
    match (mean, ci95) {
        (Some(m), Some((a, b))) => format!("{m:+.3} [{a:+.3}, {b:+.3}]"),
        (Some(m), None) => format!("{m:+.3}"),
        (None, _) => "-".to_string(),
    }
}

/// What a paired difference's 95% interval says for the policy on the left of `a - b`
/// ([`PairedVerdict`]): `better`, `worse`, `tie` or `-`.
pub fn verdict(ci95: Option<(f64, f64)>) -> &'static str {
    PairedVerdict::of(ci95).name()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section() -> Section {
        Section {
            title: "S".into(),
            text: vec!["a < b".into()],
            tables: vec![Table {
                title: "T".into(),
                command: "whitebox eval --rule 'util<=0.8'".into(),
                seeds: "7000".into(),
                json: "t.json".into(),
                columns: vec!["x".into(), "y".into()],
                rows: vec![vec!["a|b".into(), "1".into()]],
            }],
            figures: vec![Figure {
                title: "f".into(),
                file: "f.svg".into(),
            }],
        }
    }

    #[test]
    fn markdown_tables_have_one_cell_per_column_and_escape_pipes() {
        let md = markdown("R", &[], &[section()]);
        assert!(md.contains("| x | y |\n|---|---|\n| a\\|b | 1 |\n"), "{md}");
        assert!(md.contains("JSON: [t.json](t.json)") && md.contains("![f](f.svg)"));
    }

    #[test]
    fn html_escapes_text_and_links_the_files() {
        let h = html("R & D", &[], &[section()]);
        assert!(h.contains("<title>R &amp; D</title>"));
        assert!(h.contains("<p>a &lt; b</p>"));
        assert!(h.contains("--rule &#39;util&lt;=0.8&#39;"));
        assert!(h.contains("<img src=\"f.svg\" alt=\"f\">"));
        assert!(!h.contains("<script"));
    }

    #[test]
    fn numbers_and_verdicts() {
        assert_eq!(
            mean_ci(Some(4.3934), Some((4.0, 4.7))),
            "4.393 [4.000, 4.700]"
        );
        assert_eq!(
            diff_ci(Some(-0.5), Some((-1.0, 0.25))),
            "-0.500 [-1.000, +0.250]"
        );
        assert_eq!(mean_ci(None, None), "-");
        assert_eq!(verdict(Some((-1.0, -0.1))), "better");
        assert_eq!(verdict(Some((0.1, 1.0))), "worse");
        assert_eq!(verdict(Some((-0.1, 0.1))), "tie");
        assert_eq!(verdict(None), "-");
    }
}
