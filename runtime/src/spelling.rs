//! "Did you mean": the known name closest to a misspelled one, for error messages of names
//! given on the command line (rules, guard modes and fallbacks).

/// The name of `known` closest to `text` by edit distance (`strsim`'s Levenshtein), if it is at
/// most 3 edits and a third of the text away (at least 1); the first on ties.
pub fn nearest<S: AsRef<str>>(text: &str, known: impl IntoIterator<Item = S>) -> Option<S> {
    let limit = (text.chars().count() / 3).clamp(1, 3);
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(text, k.as_ref()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// `"; did you mean `NAME`?"` for the name of `known` nearest to `text`, or nothing.
pub fn did_you_mean<S: AsRef<str>>(text: &str, known: impl IntoIterator<Item = S>) -> String {
    nearest(text, known).map_or(String::new(), |k| {
        format!("; did you mean `{}`?", k.as_ref())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_within_a_third_of_the_text() {
        let modes = ["renewal", "budget", "lookahead"];
        assert_eq!(nearest("renwal", modes), Some("renewal"));
        assert_eq!(nearest("lookahaed", modes), Some("lookahead"));
        // Two edits in a six-letter word are within its third; three are not.
        assert_eq!(nearest("bugdet", modes), Some("budget"));
        assert_eq!(nearest("bxxxet", modes), None);
        assert_eq!(
            did_you_mean("sjf-reserv", ["sjf", "sjf-reserve"]),
            "; did you mean `sjf-reserve`?"
        );
        assert_eq!(did_you_mean("fifo", ["sjf", "sjf-reserve"]), "");
    }
}
